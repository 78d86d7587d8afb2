"""ASGI middleware: request ids, telemetry, rate limits, body limits, client addresses."""
