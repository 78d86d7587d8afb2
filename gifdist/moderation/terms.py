"""Whole-word term matching that sees through case, accents, look-alikes and leetspeak.

Text is NFKD-normalised with combining marks removed, case-folded, Cyrillic and
Greek look-alike letters mapped to Latin, and split into words. Runs of single
letters separated by dots, dashes or spaces ("s.e.x", "s e x") are joined. Each
word is matched as written and with leetspeak digits/symbols mapped to letters
("pr0n" → "pron"), against a set of terms and short phrases; because matching is
by whole word, "Essex", "Scunthorpe" and "grape" never hit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from importlib import resources

CONFUSABLES = str.maketrans(
    {
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "х": "x",
        "у": "y",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "һ": "h",
        "к": "k",
        "м": "m",
        "т": "t",
        "в": "b",
        "н": "h",
        "α": "a",
        "ο": "o",
        "ρ": "p",
        "ν": "v",
        "τ": "t",
        "ι": "i",
        "κ": "k",
        "χ": "x",
        "ε": "e",
    }
)
LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
        "+": "t",
    }
)
_WORD = re.compile(r"[a-z0-9@$!|+]+")
MAX_PHRASE_WORDS = 3
MAX_TEXT = 20_000


def normalise(text: str) -> str:
    """Lower-case ASCII-ish text: accents stripped, look-alikes mapped to Latin."""
    decomposed = unicodedata.normalize("NFKD", text[:MAX_TEXT])
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold().translate(CONFUSABLES)


def words(text: str) -> list[str]:
    """The words of ``text``, with spelled-out runs ("s.e.x") joined into one word."""
    tokens = _WORD.findall(normalise(text))
    joined: list[str] = []
    run: list[str] = []
    for token in tokens:
        if len(token) == 1:
            run.append(token)
            continue
        if len(run) >= 2:
            joined.append("".join(run))
        else:
            joined.extend(run)
        run = []
        joined.append(token)
    joined.extend(["".join(run)] if len(run) >= 2 else run)
    return joined


class TermMatcher:
    """Finds terms (single words or phrases of up to three words) in text."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms: set[tuple[str, ...]] = set()
        for term in terms:
            key = tuple(w.translate(LEET) if not w.isdigit() else w for w in words(term))
            if key:
                self.terms.add(key[:MAX_PHRASE_WORDS])

    def find(self, text: str) -> list[str]:
        """Matched terms in order of appearance (each once)."""
        tokens = words(text)
        variants = [(t, t.translate(LEET)) for t in tokens]
        found: list[str] = []
        for i in range(len(tokens)):
            for n in range(1, MAX_PHRASE_WORDS + 1):
                if i + n > len(tokens):
                    break
                for pick in (0, 1):
                    key = tuple(v[pick] for v in variants[i : i + n])
                    if key in self.terms and " ".join(key) not in found:
                        found.append(" ".join(key))
        return found


def load_terms(name: str) -> list[str]:
    """The terms of ``gifdist/moderation/term_lists/<name>.txt`` (comments dropped)."""
    text = (
        resources.files("gifdist.moderation")
        .joinpath("term_lists", f"{name}.txt")
        .read_text("utf-8")
    )
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
