"""Text to search terms: one analyzer for every store, so every store matches alike.

Text is NFKD-normalised with combining marks removed and case-folded, then split
into runs of letters and digits (emoji, punctuation and query syntax such as
``"``, ``*``, ``-`` or ``NEAR`` operators are separators or plain words, never
syntax). Each word is kept as written and as its Snowball stem in the configured
language, so "cats" finds "cat" and a typed prefix ("danci") still finds
"dancing". The stores only ever see these terms: SQLite FTS5 and PostgreSQL's
``tsvector`` index the same lexemes, which is why they return the same results.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from gifdist.errors import InvalidInput

NO_STEMMING = "none"
MAX_TERM_CHARS = 64
MAX_QUERY_TERMS = 10

_WORD = re.compile(r"[^\W_]+")


def languages() -> tuple[str, ...]:
    """Every accepted language name: Snowball's stemmers plus ``none``."""
    return (NO_STEMMING, *sorted(snowballstemmer.algorithms()))


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """One word of a query: it matches a document term equal to ``stem`` or, for
    a ``prefix`` term, any document term starting with ``word``."""

    word: str
    stem: str
    prefix: bool = False


class Analyzer:
    """Splits text into words and stems them in one language."""

    def __init__(self, language: str = "english") -> None:
        if language not in languages():
            raise InvalidInput(
                f"unknown search language {language!r}; use one of {', '.join(languages())}",
                code="bad_settings",
            )
        self.language = language

    def words(self, text: str) -> list[str]:
        """The folded words of ``text`` in order (overlong words are dropped)."""
        folded = unicodedata.normalize("NFKD", text)
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold()
        return [w for w in _WORD.findall(folded) if len(w) <= MAX_TERM_CHARS]

    def stem(self, word: str) -> str:
        return word if self.language == NO_STEMMING else _stem(self.language, word)

    def terms(self, text: str) -> tuple[str, ...]:
        """Distinct index terms of ``text``: every word and its stem."""
        found: dict[str, None] = {}
        for word in self.words(text):
            found[word] = None
            found[self.stem(word)] = None
        return tuple(found)

    def query(self, text: str, *, prefix: bool = False) -> tuple[QueryTerm, ...]:
        """The terms of a query (at most ``MAX_QUERY_TERMS``); with ``prefix`` the last
        word also matches longer words (search as you type)."""
        words = list(dict.fromkeys(self.words(text)))[:MAX_QUERY_TERMS]
        return tuple(
            QueryTerm(w, self.stem(w), prefix=prefix and i == len(words) - 1)
            for i, w in enumerate(words)
        )


_stemmers = threading.local()  # Snowball stemmers keep state while stemming: one per thread


@lru_cache(maxsize=65_536)
def _stem(language: str, word: str) -> str:
    stemmer = getattr(_stemmers, language, None)
    if stemmer is None:
        stemmer = snowballstemmer.stemmer(language)
        setattr(_stemmers, language, stemmer)
    return str(stemmer.stemWord(word))
