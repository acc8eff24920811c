"""Normalised text that remembers where each character came from.

Rules match against the NFKC form (full-width digits become ASCII, half-width katakana become
full-width) but report spans in the original text the drafter wrote.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

# Marks that NFKC folds into the preceding character, so they must be normalised together.
_JOINERS = frozenset("\u3099\u309a\uff9e\uff9f")


def _is_joiner(ch: str) -> bool:
    return ch in _JOINERS or unicodedata.combining(ch) != 0


@dataclass(frozen=True, slots=True)
class NormalizedText:
    original: str
    text: str
    # For each character of ``text``, the [start, end) span in ``original`` it came from.
    _starts: tuple[int, ...] = field(repr=False)
    _ends: tuple[int, ...] = field(repr=False)

    @classmethod
    def of(cls, original: str) -> NormalizedText:
        if original.isascii():
            span = tuple(range(len(original)))
            return cls(original, original, span, tuple(i + 1 for i in span))
        out: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        i, n = 0, len(original)
        while i < n:
            j = i + 1
            while j < n and _is_joiner(original[j]):
                j += 1
            chunk = original[i:j]
            folded = chunk if chunk.isascii() else unicodedata.normalize("NFKC", chunk)
            for ch in folded:
                out.append(ch)
                starts.append(i)
                ends.append(j)
            i = j
        return cls(original, "".join(out), tuple(starts), tuple(ends))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalised text back to the original."""
        if not self.text:
            return 0, 0
        if end <= start:
            pos = self._starts[start] if start < len(self._starts) else len(self.original)
            return pos, pos
        return self._starts[start], self._ends[end - 1]


# Links, e-mail addresses, hashtags and mentions are identifiers, not prose: the terminology,
# typo and style families do not look inside them. Each kind is looked for only when a character
# it needs is in the text.
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'「」『』()（）【】、。]+")
_EMAIL_OR_MENTION = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|@[A-Za-z0-9_]+"
)
_HASHTAG = re.compile(r"[#＃][^\s#＃、。,.!?！？「」『』()（）【】]+")
_MAYBE_DOMAIN = re.compile(r"[A-Za-z0-9]\.[A-Za-z]")
_DOMAIN = re.compile(
    r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:jp|com|net|org|info|io)(?![A-Za-z0-9])"
    r"(?:/[^\s、。「」()（）]*)?"
)


@lru_cache(maxsize=16)
def protected_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of ``text`` that are links, e-mail addresses, hashtags or mentions."""
    spans: list[tuple[int, int]] = []
    if "://" in text or "www." in text:
        spans.extend(m.span() for m in _URL.finditer(text))
    if "@" in text or "＠" in text:
        spans.extend(m.span() for m in _EMAIL_OR_MENTION.finditer(text))
    if "#" in text or "＃" in text:
        spans.extend(m.span() for m in _HASHTAG.finditer(text))
    if "." in text and any(
        not overlaps(spans, *m.span()) for m in _MAYBE_DOMAIN.finditer(text)
    ):  # a dot outside the links already found
        spans.extend(m.span() for m in _DOMAIN.finditer(text))
    return tuple(spans)


def overlaps(spans: Iterable[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps any of ``spans``."""
    return any(s < end and start < e for s, e in spans)
