"""QR codes of short URLs (segno), for printing a link or showing it on a screen."""

from __future__ import annotations

import io

import segno


def qr_image(url: str, kind: str, *, scale: int = 8) -> bytes:
    """The URL as an SVG or PNG QR code (error correction M, quiet zone kept)."""
    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    if kind == "svg":
        code.save(out, kind="svg", scale=scale, xmldecl=True, svgns=True, title=url)
    else:
        code.save(out, kind="png", scale=scale)
    return out.getvalue()
