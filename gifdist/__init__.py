"""gifdist: self-hostable GIF distribution with short links and per-platform analytics."""

__version__ = "0.1.0"
