"""Media handling: GIF validation, frame sampling, renditions (MP4, WebP, stills) and cards."""
