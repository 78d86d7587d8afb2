"""Documentation stays honest: every CLI command is in the README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gifdist.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text()


def command_paths(command: Any, prefix: str = "") -> list[str]:
    subcommands = getattr(command, "commands", None)
    if subcommands:
        paths = []
        for name, sub in subcommands.items():
            paths += command_paths(sub, f"{prefix} {name}".strip())
        return paths
    return [prefix]


def test_every_cli_command_is_in_the_readme() -> None:
    paths = command_paths(typer.main.get_command(app))
    assert len(paths) >= 14
    cli_section = README.split("## CLI", 1)[1].split("\n## ", 1)[0]
    missing = [path for path in paths if path not in cli_section]
    assert missing == []


def test_every_api_route_is_in_the_readme(client) -> None:  # type: ignore[no-untyped-def]
    import re

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]*\}", "{}", path.removeprefix("/api/v1"))

    documented = shape(README)
    schema = client.get("/api/v1/openapi.json").json()
    missing = [path for path in schema["paths"] if shape(path) not in documented]
    assert missing == []
