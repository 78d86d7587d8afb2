"""Usernames: one spelling per person, and no look-alikes.

A username is compared in its NFKC, case-folded form (``Ａlice`` and ``ALICE`` are
``alice``), may hold letters, digits, ``.``, ``_`` and ``-``, and is refused when it
mixes scripts in a way that makes it look like another name (``pаypal`` with a
Cyrillic ``а``), as the Unicode confusables data says.
"""

from __future__ import annotations

import re
import unicodedata

from confusable_homoglyphs import confusables

from gifdist.errors import InvalidInput

MIN_CHARS = 2
MAX_CHARS = 32
_ALLOWED_PUNCTUATION = frozenset("._-")
_ASCII_NAME = re.compile(r"[a-z0-9._-]+")


def normalise_username(raw: str) -> str:
    """The stored, compared form of ``raw``; ``InvalidInput`` says what is wrong."""
    if len(raw) > 4 * MAX_CHARS:
        raise InvalidInput(f"a username has at most {MAX_CHARS} characters", code="bad_username")
    name = unicodedata.normalize("NFKC", raw.strip()).casefold()
    name = unicodedata.normalize("NFKC", name)  # casefolding can un-normalise
    if not MIN_CHARS <= len(name) <= MAX_CHARS:
        raise InvalidInput(
            f"a username has {MIN_CHARS} to {MAX_CHARS} characters", code="bad_username"
        )
    for char in name:
        if char in _ALLOWED_PUNCTUATION:
            continue
        category = unicodedata.category(char)
        if not (category.startswith("L") or category == "Nd"):
            raise InvalidInput(
                "a username may hold letters, digits, '.', '_' and '-' only",
                code="bad_username",
            )
    if not name[0].isalnum():
        raise InvalidInput("a username starts with a letter or digit", code="bad_username")
    if not _ASCII_NAME.fullmatch(name) and _looks_like_another(name):
        raise InvalidInput(
            "this username mixes alphabets in a way that looks like another name; "
            "use letters of one alphabet",
            code="confusable_username",
        )
    return name


def _looks_like_another(name: str) -> bool:
    """Mixed scripts with confusable letters, or a single non-Latin script whose
    every letter could pass for a Latin one (``раураl`` in Cyrillic)."""
    if confusables.is_dangerous(name):
        return True
    letters = [c for c in name if c.isalpha()]
    if not letters:
        return False
    found = confusables.is_confusable(name, greedy=True, preferred_aliases=["latin"])
    if not found:
        return False
    confusable = {
        item["character"]
        for item in found
        if any(glyph["c"].isascii() for glyph in item["homoglyphs"])
    }
    return all(c in confusable or c.isascii() for c in letters)
