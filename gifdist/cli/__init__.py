"""The ``gifdist`` command line.

One module per command group (``assets``, ``links``, ``keys``, …) defines a Typer and
``root`` registers it with one ``app.add_typer`` line; commands raise, and the root's
one handler (:mod:`gifdist.cli.errors`) prints the message and picks the exit code
(0 done, 1 refused, 2 usage).
"""

from gifdist.cli.root import app, main

__all__ = ["app", "main"]
