"""``gifdist users``: people who sign in (create, invite, list, role, disable, reset)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from gifdist.cli.errors import CliError, UsageError
from gifdist.cli.local import local_service
from gifdist.cli.output import console, err
from gifdist.errors import GifdistError

users_app = typer.Typer(
    help="Users who sign in with a password: create, invite, list, disable, reset.",
    no_args_is_help=True,
)

OPERATOR = "operator (cli)"
UserArg = Annotated[str, typer.Argument(help="A username or user id (see `users list`).")]
RoleOpt = Annotated[
    str, typer.Option("--role", "-r", help="admin, moderator or member.", show_default=True)
]


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Letters, digits, '.', '_' and '-'.")],
    role: RoleOpt = "member",
    admin: Annotated[bool, typer.Option("--admin", help="Same as --role admin.")] = False,
    password: Annotated[
        str,
        typer.Option(
            "--password",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="GIFDIST_NEW_PASSWORD",
            help="Asked for when not given (or GIFDIST_NEW_PASSWORD).",
        ),
    ] = "",
    email: Annotated[
        str | None,
        typer.Option("--email", help="Their e-mail (single sign-on matches it when verified)."),
    ] = None,
) -> None:
    """Create a user who signs in with USERNAME and a password (the first admin, too)."""
    from gifdist.accounts.users import Role, parse_role

    with local_service() as service:
        try:
            chosen = Role.ADMIN if admin else parse_role(role)
            user = service.users.create(username, password, chosen, email=email)
        except GifdistError as exc:
            raise UsageError(exc.message) from None
        base = service.settings.base_url
    console.print(f"created {user.role.value} {user.username} ({user.user_id})", highlight=False)
    err.print(f"sign in at {base}/signin", highlight=False)


@users_app.command("invite")
def users_invite(role: RoleOpt = "member") -> None:
    """Print a one-time invite link: whoever opens it picks a username and password."""
    from gifdist.accounts.users import parse_role

    with local_service() as service:
        try:
            token, invite = service.users.invite(parse_role(role), OPERATOR)
        except GifdistError as exc:
            raise UsageError(exc.message) from None
        base = service.settings.base_url
    err.print(f"invite for a {role} until {invite.expires_at:%Y-%m-%d %H:%M} UTC (used once):")
    console.print(f"{base}/invite/{token}", highlight=False)


@users_app.command("list")
def users_list() -> None:
    """List users (never their passwords)."""
    with local_service() as service:
        users = service.users.list()
    table = Table("id", "username", "role", "created", "status", "2fa")
    for user in users:
        table.add_row(
            user.user_id,
            user.username,
            user.role.value,
            user.created_at.strftime("%Y-%m-%d %H:%M"),
            "disabled" if not user.active else "active",
            "totp" if user.totp_secret else "",
        )
    console.print(table)


@users_app.command("disable")
def users_disable(user: UserArg) -> None:
    """Stop a user at once: their sessions and API keys are refused from now on."""
    with local_service() as service:
        try:
            found = service.users.disable(service.users.find(user).user_id)
        except GifdistError as exc:
            raise CliError(exc.message) from None
    console.print(f"disabled {found.username}", highlight=False)


@users_app.command("enable")
def users_enable(user: UserArg) -> None:
    """Let a disabled user sign in again."""
    with local_service() as service:
        try:
            found = service.users.enable(service.users.find(user).user_id)
        except GifdistError as exc:
            raise CliError(exc.message) from None
    console.print(f"enabled {found.username}", highlight=False)


@users_app.command("role")
def users_role(
    user: UserArg, role: Annotated[str, typer.Argument(help="admin, moderator or member.")]
) -> None:
    """Change a user's role (their sessions end; their keys follow the new role)."""
    from gifdist.accounts.users import parse_role

    with local_service() as service:
        try:
            found = service.users.set_role(service.users.find(user).user_id, parse_role(role))
        except GifdistError as exc:
            raise UsageError(exc.message) from None
    console.print(f"{found.username} is now {found.role.value}", highlight=False)


@users_app.command("reset")
def users_reset(user: UserArg) -> None:
    """Print a one-time link with which the user sets a new password (no mail needed)."""
    with local_service() as service:
        try:
            found = service.users.find(user)
            token, reset = service.users.reset_link(found.user_id, OPERATOR)
        except GifdistError as exc:
            raise CliError(exc.message) from None
        base = service.settings.base_url
    err.print(f"reset link for {found.username} until {reset.expires_at:%Y-%m-%d %H:%M} UTC:")
    console.print(f"{base}/reset/{token}", highlight=False)


@users_app.command("quota")
def users_quota(
    user: UserArg,
    max_bytes: Annotated[
        int | None, typer.Option("--bytes", min=0, help="Bytes stored (0: unlimited).")
    ] = None,
    per_day: Annotated[
        int | None,
        typer.Option("--uploads-per-day", min=0, help="Uploads per 24 h (0: unlimited)."),
    ] = None,
) -> None:
    """Set a user's own quotas (unset ones follow GIFDIST_QUOTA_*)."""
    with local_service() as service:
        try:
            found = service.users.set_quota(
                service.users.find(user).user_id, bytes_stored=max_bytes, uploads_per_day=per_day
            )
        except GifdistError as exc:
            raise CliError(exc.message) from None
    console.print(
        f"{found.username}: bytes {found.quota_bytes if found.quota_bytes is not None else 'default'}, "
        f"uploads/day {found.quota_uploads_per_day if found.quota_uploads_per_day is not None else 'default'}",
        highlight=False,
    )
