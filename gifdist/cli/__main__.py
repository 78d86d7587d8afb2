"""``python -m gifdist.cli``."""

from gifdist.cli.root import main

main()
