"""Signing in through an OpenID Connect provider (Authlib for the OAuth 2.0 client,
joserfc for the ID token), configured by issuer URL, client id and secret.

The authorization code flow with PKCE: ``begin`` makes the provider URL and the
``state``/``nonce``/verifier the browser keeps (signed) until the callback; ``finish``
checks ``state``, swaps the code for tokens, and accepts the ID token only when it is
signed by a key of the issuer's JWKS, names the configured issuer and this client, is
current, and carries the nonce. The person is matched by subject (issuer and ``sub``),
then by a verified e-mail address of an existing user; a new member is made only when
the deployment allows it.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from gifdist.accounts.usernames import normalise_username
from gifdist.accounts.users import Role, User, Users
from gifdist.errors import Forbidden, GifdistError, InvalidInput, ServiceUnavailable, Unauthorized

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    create_users: bool = False
    scope: str = "openid email profile"


@dataclass(frozen=True, slots=True)
class Pending:
    """What the browser keeps (signed, in a cookie) between ``begin`` and ``finish``."""

    state: str
    nonce: str
    verifier: str

    def to_dict(self) -> dict[str, str]:
        return {"state": self.state, "nonce": self.nonce, "verifier": self.verifier}

    @classmethod
    def from_dict(cls, data: Any) -> Pending | None:
        if not isinstance(data, dict):
            return None
        state, nonce, verifier = (data.get(k) for k in ("state", "nonce", "verifier"))
        if not (isinstance(state, str) and isinstance(nonce, str) and isinstance(verifier, str)):
            return None
        if not (state and nonce and verifier):
            return None
        return cls(state, nonce, verifier)


class OidcSignIn:
    """The relying party: one provider, its metadata and keys fetched when first needed."""

    def __init__(self, config: OidcConfig, users: Users) -> None:
        self.config = config
        self.users = users
        self._metadata: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _client(self) -> Any:
        from authlib.integrations.httpx_client import OAuth2Client

        return OAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scope=self.config.scope,
            redirect_uri=self.config.redirect_uri,
            code_challenge_method="S256",
            timeout=TIMEOUT_SECONDS,
        )

    def metadata(self) -> dict[str, Any]:
        """The issuer's discovery document (its ``issuer`` must be the configured one)."""
        with self._lock:
            if self._metadata is None:
                url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
                found = self._get_json(url)
                if found.get("issuer") != self.config.issuer:
                    raise ServiceUnavailable(
                        "the sign-in provider names another issuer than the configured one"
                    )
                self._metadata = found
            return self._metadata

    def _get_json(self, url: str) -> dict[str, Any]:
        import httpx

        try:
            response = httpx.get(url, timeout=TIMEOUT_SECONDS, follow_redirects=False)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailable(f"the sign-in provider did not answer: {exc}") from None
        if not isinstance(body, dict):
            raise ServiceUnavailable("the sign-in provider sent something that is not JSON")
        return body

    def begin(self) -> tuple[str, Pending]:
        """The provider URL to send the browser to, and what it must bring back."""
        pending = Pending(
            secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        )
        with self._client() as client:
            url, _ = client.create_authorization_url(
                self.metadata()["authorization_endpoint"],
                state=pending.state,
                nonce=pending.nonce,
                code_verifier=pending.verifier,
            )
        return str(url), pending

    def finish(self, pending: Pending | None, state: str, code: str) -> User:
        """The user the provider vouches for (``Unauthorized`` for anything off)."""
        if pending is None or not state or not hmac.compare_digest(state, pending.state):
            raise Unauthorized(
                "this sign-in did not start here, or has expired; try again", code="oidc_state"
            )
        if not code:
            raise Unauthorized("the provider sent no code", code="oidc_code")
        metadata = self.metadata()
        try:
            with self._client() as client:
                token = client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=pending.verifier
                )
        except GifdistError:
            raise
        except Exception as exc:  # the provider refused the code (Authlib raises OAuthError)
            raise Unauthorized(
                f"the provider refused the sign-in: {exc}", code="oidc_token"
            ) from None
        id_token = token.get("id_token") if isinstance(token, dict) else None
        if not isinstance(id_token, str):
            raise Unauthorized("the provider sent no ID token", code="oidc_token")
        claims = self._verified_claims(id_token, pending.nonce, metadata)
        return self._user_for(claims)

    def _verified_claims(
        self, id_token: str, nonce: str, metadata: dict[str, Any]
    ) -> dict[str, Any]:
        from joserfc import jwt
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        keys = KeySet.import_key_set(self._get_json(metadata["jwks_uri"]))  # type: ignore[arg-type]
        try:
            decoded = jwt.decode(id_token, keys, algorithms=["RS256", "ES256", "PS256", "EdDSA"])
            jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": self.config.issuer},
                aud={"essential": True, "value": self.config.client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise Unauthorized(f"the ID token was refused: {exc}", code="oidc_id_token") from None
        return dict(decoded.claims)

    def _user_for(self, claims: dict[str, Any]) -> User:
        subject = f"{self.config.issuer}#{claims['sub']}"[:255]
        if not subject.isprintable():  # PostgreSQL cannot even look a NUL up
            raise Unauthorized("the provider's subject is not printable text", code="oidc_subject")
        store = self.users.store
        user = store.find_by_oidc(subject)
        email = claims.get("email") if claims.get("email_verified") is True else None
        if user is None and isinstance(email, str) and email:
            user = store.find_by_email(email)
            if user is not None:
                if user.oidc_subject is not None:
                    raise Forbidden(
                        "this e-mail's account signs in with another identity", code="oidc_mismatch"
                    )
                store.update(user.user_id, {"oidc_subject": subject})
        if user is None:
            if not self.config.create_users:
                raise Forbidden(
                    "there is no account here for you; ask an admin for an invite",
                    code="oidc_no_account",
                )
            user = self.users.create(
                _username(claims, store), None, Role.MEMBER, email=email, oidc_subject=subject
            )
        if not user.active:
            raise Unauthorized("this account is disabled; ask an admin", code="account_disabled")
        return user


def _username(claims: dict[str, Any], store: Any) -> str:
    for raw in (claims.get("preferred_username"), str(claims.get("email") or "").split("@")[0]):
        if isinstance(raw, str) and raw:
            try:
                name = normalise_username(raw)
            except InvalidInput:
                continue
            if store.find_by_username(name) is None:
                return name
    return f"user-{secrets.token_hex(4)}"
