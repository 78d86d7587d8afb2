"""A real OpenID Connect provider for tests, built from Authlib's server components
(authorization code grant, PKCE, the OpenID Connect code extension) on Starlette,
served by uvicorn on loopback in a thread.

The person "signed in" at the provider is ``provider.user``; the authorize endpoint
approves at once (there is no consent screen to click). ``provider.claims_override``
lets a test make the provider misbehave (another issuer, another nonce).
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, JsonRequest
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in ("openid", "email", "profile"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict[str, Any]
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class Provider:
    """The provider's state: its signing key, its client, codes, the current user."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig"})
        self.base = ""
        self.client = Client("gifdist", secrets.token_urlsafe(16), [])
        self.codes: dict[str, Code] = {}
        self.user: dict[str, Any] = {
            "sub": "u-1",
            "email": "zoe@example.org",
            "email_verified": True,
        }
        self.claims_override: dict[str, Any] = {}
        self.server = _server(self)

    @property
    def issuer(self) -> str:
        return self.base


class _Request(OAuth2Request):
    def __init__(self, method: str, url: str, headers: Any, data: dict[str, str]) -> None:
        super().__init__(method, url, headers=headers)
        self._data = data
        self.payload = BasicOAuth2Payload(data)

    @property
    def args(self) -> dict[str, str]:
        return self._data if self.method == "GET" else {}

    @property
    def form(self) -> dict[str, str]:
        return self._data if self.method == "POST" else {}


class _Server(AuthorizationServer):
    def __init__(self, provider: Provider) -> None:
        super().__init__(scopes_supported=["openid", "email", "profile"])
        self.provider = provider
        self.register_token_generator("default", BearerTokenGenerator(_token, None))

    def query_client(self, client_id: str) -> Client | None:
        client = self.provider.client
        return client if client_id == client.client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        return None

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return _Request(*request)

    def create_json_request(self, request: Any) -> JsonRequest:
        method, url, headers, _data = request
        return JsonRequest(method, url, headers)

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=dict(headers))
        return Response(body, status_code=status, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


def _token(*args: Any, **kwargs: Any) -> str:
    return secrets.token_urlsafe(32)


def _server(provider: Provider) -> _Server:
    server = _Server(provider)

    class CodeGrant(AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
            data = request.payload.data
            provider.codes[code] = Code(
                code,
                request.client.get_client_id(),
                request.payload.redirect_uri,
                request.payload.scope,
                dict(request.user),
                data.get("nonce"),
                data.get("code_challenge"),
                data.get("code_challenge_method"),
            )

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            found = provider.codes.get(code)
            return found if found and found.client_id == client.get_client_id() else None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> dict[str, Any]:
            return authorization_code.user

    class Connect(OpenIDCode):
        def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
            return any(c.nonce == nonce for c in provider.codes.values())

        def resolve_client_private_key(self, client: Client) -> Any:
            return provider.key

        def get_client_claims(self, client: Client) -> dict[str, Any]:
            return {
                "iss": provider.issuer,
                "aud": [client.get_client_id()],
                **provider.claims_override,
            }

        def get_encode_header(self, client: Client) -> dict[str, str]:
            return {"alg": "RS256", "kid": "test-key"}

        def generate_user_info(self, user: dict[str, Any], scope: str) -> UserInfo:
            return UserInfo({k: v for k, v in user.items()})

        def get_authorization_code_claims(self, authorization_code: Code) -> dict[str, Any]:
            claims = super().get_authorization_code_claims(authorization_code)
            if "nonce" in provider.claims_override:
                claims["nonce"] = provider.claims_override["nonce"]
            return claims

    server.register_grant(CodeGrant, [CodeChallenge(required=True), Connect(require_nonce=True)])
    return server


def _app(provider: Provider) -> Starlette:
    async def discovery(request: Request) -> JSONResponse:
        base = provider.base
        return JSONResponse(
            {
                "issuer": provider.issuer,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(KeySet([provider.key]).as_dict(private=False))

    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        req = ("GET", str(request.url), request.headers, params)
        server = provider.server
        grant = server.get_consent_grant(request=req, end_user=provider.user)
        response: Response = server.create_authorization_response(
            req, grant_user=provider.user, grant=grant
        )
        return response

    async def token(request: Request) -> Response:
        form = dict(await request.form())
        req = ("POST", str(request.url), request.headers, form)
        response: Response = provider.server.create_token_response(req)
        return response

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/jwks", jwks),
            Route("/authorize", authorize),
            Route("/token", token, methods=["POST"]),
        ]
    )


@contextmanager
def running_provider(host_name: str = "127.0.0.1") -> Iterator[Provider]:
    """The provider on a free loopback port, for the length of the block, named
    ``host_name`` in its issuer (``localhost`` makes it another site than gifdist on
    127.0.0.1, as a real provider is)."""
    provider = Provider()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider.base = f"http://{host_name}:{port}"
    config = uvicorn.Config(_app(provider), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the OIDC provider did not start"
        time.sleep(0.05)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
