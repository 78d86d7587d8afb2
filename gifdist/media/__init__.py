"""Media handling: GIF validation, frame sampling."""
