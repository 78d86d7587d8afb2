"""``python -m gifdist.cli``."""

from gifdist.cli.commands import main

main()
