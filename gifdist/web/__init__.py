"""gifdist.web: the ASGI application."""
