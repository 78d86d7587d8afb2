"""The CLI's one error handler and its one exit-code rule.

======  ==============================================================================
exit    meaning
======  ==============================================================================
0       done
1       refused or failed: the data or the server said no (unknown id or code, deleted,
        conflict, forbidden, a key the server does not accept, rate limited,
        unavailable, a server that cannot be reached, a tampered audit trail)
2       usage: the command line is wrong (unknown option, malformed value, --server
        without --key, a data dir that does not exist)
130     interrupted (Ctrl-C)
======  ==============================================================================

Commands raise; they never print errors or pick exit codes themselves.
:class:`HandledGroup` (the root command's class) turns every ``GifdistError`` (local
or mapped from a server's answer) and every :class:`CliError` into one ``error:`` line
on stderr and the exit code above: no traceback reaches the terminal.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import typer
from pydantic import ValidationError
from typer.core import TyperGroup

from gifdist.cli.output import err
from gifdist.errors import GifdistError, InvalidInput


class ExitCode(IntEnum):
    OK = 0
    REFUSED = 1
    USAGE = 2
    INTERRUPTED = 130


class CliError(Exception):
    """Something the person at the terminal must hear about; exit 1 unless told."""

    exit_code = ExitCode.REFUSED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(CliError):
    """The command line itself is wrong (exit 2)."""

    exit_code = ExitCode.USAGE


def exit_code_for(exc: BaseException) -> ExitCode:
    """The rule: malformed input is a usage error (2); any other refusal is 1."""
    if isinstance(exc, CliError):
        return exc.exit_code
    if isinstance(exc, InvalidInput):  # 400, 413, 415, 422: the arguments are wrong
        return ExitCode.USAGE
    return ExitCode.REFUSED


def message_for(exc: BaseException) -> str:
    if isinstance(exc, CliError | GifdistError):
        return exc.message
    return str(exc)


def report(exc: BaseException) -> None:
    """Print the one error line (stderr)."""
    err.print(f"[red]error:[/red] {message_for(exc)}", highlight=False, soft_wrap=True)


class HandledGroup(TyperGroup):
    """The root command: every sub-command runs inside this one handler."""

    def invoke(self, ctx: Any) -> Any:  # a typer Context (its vendored click's)
        try:
            return super().invoke(ctx)
        except (GifdistError, CliError) as exc:
            report(exc)
            raise typer.Exit(exit_code_for(exc)) from None
        except ValidationError as exc:  # a GIFDIST_* variable that does not parse
            report(UsageError(f"invalid configuration: {_first_problem(exc)}"))
            raise typer.Exit(ExitCode.USAGE) from None
        except KeyboardInterrupt:
            raise typer.Exit(ExitCode.INTERRUPTED) from None


def _first_problem(exc: ValidationError) -> str:
    problem = exc.errors()[0]
    where = ".".join(str(part) for part in problem.get("loc", ()))
    return f"GIFDIST_{where.upper()}: {problem.get('msg', 'invalid')}" if where else str(exc)
