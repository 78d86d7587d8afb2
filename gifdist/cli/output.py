"""Where the CLI writes: results on stdout, everything else (progress, notes, which
data it uses, errors) on stderr, so stdout can be piped."""

from __future__ import annotations

from rich.console import Console

console = Console()
err = Console(stderr=True)
