"""Normalised text that remembers where each character came from.

Rules match against the NFKC form (full-width digits become ASCII, half-width katakana become
full-width) but report spans in the original text the drafter wrote.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
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
    # For each character of ``text``, the [start, end) span in ``original`` it came from (ranges
    # when each character stays where it was: nothing to build for a long draft).
    _starts: Sequence[int] = field(repr=False)
    _ends: Sequence[int] = field(repr=False)

    @classmethod
    def of(cls, original: str) -> NormalizedText:
        if original.isascii():
            return cls._one_to_one(original, original)
        distinct = set(original)
        # One NFKC per distinct character, applied in C (str.translate); only a character with
        # combining marks after it (カ + ゛) is normalised together with them.
        table = {ord(ch): unicodedata.normalize("NFKC", ch) for ch in distinct}
        joiners = "".join(ch for ch in distinct if _is_joiner(ch))
        if not joiners:
            text = original.translate(table)
            if len(text) == len(original):
                return cls._one_to_one(original, text)
        out: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        clusters = re.finditer(f"(?s).[{re.escape(joiners)}]+", original) if joiners else ()
        together: dict[str, str] = {}  # each cluster normalised once (ｶﾞ recurs)
        for m in clusters:
            start, end = m.span()
            if pos < start:
                _fold_each(original, pos, start, table, (out, starts, ends))
            cluster = m.group()
            if (folded := together.get(cluster)) is None:
                folded = together[cluster] = unicodedata.normalize("NFKC", cluster)
            out.append(folded)
            starts += [start] * len(folded)
            ends += [end] * len(folded)
            pos = end
        _fold_each(original, pos, len(original), table, (out, starts, ends))
        return cls(original, "".join(out), tuple(starts), tuple(ends))

    @classmethod
    def _one_to_one(cls, original: str, text: str) -> NormalizedText:
        """Each character of ``text`` came from the one at the same place in ``original``."""
        return cls(original, text, range(len(original)), range(1, len(original) + 1))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalised text back to the original."""
        if not self.text:
            return 0, 0
        if end <= start:
            pos = self._starts[start] if start < len(self._starts) else len(self.original)
            return pos, pos
        return self._starts[start], self._ends[end - 1]


def _fold_each(
    original: str,
    start: int,
    end: int,
    table: dict[int, str],
    into: tuple[list[str], list[int], list[int]],
) -> None:
    """Fold ``original[start:end]`` character by character (NFKC of each, from ``table``)."""
    out, starts, ends = into
    folded = original[start:end].translate(table)
    out.append(folded)
    if len(folded) == end - start:
        starts.extend(range(start, end))
        ends.extend(range(start + 1, end + 1))
        return
    for i in range(start, end):  # some character became several (㍻ is 平成)
        n = len(table[ord(original[i])])
        starts += [i] * n
        ends += [i + 1] * n


# Links, e-mail addresses, hashtags and mentions are identifiers, not prose: the terminology,
# typo and style families do not look inside them. Each kind is looked for only when a character
# it needs is in the text. Every scan here is linear in the text: runs are matched possessively
# and each e-mail address or domain is tried once per run, never once per starting character.
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'「」『』()（）【】、。]++")
# A whole run of the characters of an e-mail address's local part, with an @ right after it
# (only at a run's start does the lookbehind let the run be tried: linear).
_LOCAL_PART = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++(?=@)")
_MAIL_DOMAIN = re.compile(r"[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)++")
_MENTION = re.compile(r"@[A-Za-z0-9_]++")
_HASHTAG = re.compile(r"[#＃][^\s#＃、。,.!?！？「」『』()（）【】]++")
_MAYBE_DOMAIN = re.compile(r"[A-Za-z0-9]\.[A-Za-z]")
_DOTTED_RUN = re.compile(r"[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)++")
_DOMAIN = re.compile(
    r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:jp|com|net|org|info|io)(?![A-Za-z0-9])"
    r"(?:/[^\s、。「」()（）]*+)?"
)


class Spans:
    """Sorted, merged [start, end) spans that answer "does this overlap one?" by bisection."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        starts: list[int] = []
        ends: list[int] = []
        for s, e in sorted(spans):
            if e <= s:
                continue
            if ends and s <= ends[-1]:
                ends[-1] = max(ends[-1], e)
            else:
                starts.append(s)
                ends.append(e)
        self._starts, self._ends = starts, ends

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self._starts, self._ends, strict=True)

    def __len__(self) -> int:
        return len(self._starts)

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self._starts, end) - 1
        return i >= 0 and self._ends[i] > start


def _emails_and_mentions(text: str) -> Iterator[tuple[int, int]]:
    local_starts = {m.end(): m.start() for m in _LOCAL_PART.finditer(text)}  # by the @
    pos = 0
    while (at := text.find("@", pos)) >= 0:
        local = local_starts.get(at)
        if local is not None:
            local = max(local, pos)
        domain = _MAIL_DOMAIN.match(text, at + 1) if local is not None and local < at else None
        if local is not None and domain is not None:
            yield local, domain.end()
            pos = domain.end()
        elif mention := _MENTION.match(text, at):
            yield mention.span()
            pos = mention.end()
        else:
            pos = at + 1


def _domains(text: str) -> Iterator[tuple[int, int]]:
    pos = 0
    for run in _DOTTED_RUN.finditer(text):
        if run.start() < pos:
            continue
        # A later start in the same run could only end at the same top-level domains.
        if domain := _DOMAIN.match(text, run.start()):
            yield domain.span()
            pos = domain.end()


@lru_cache(maxsize=16)
def protected_spans(text: str) -> Spans:
    """Spans of ``text`` that are links, e-mail addresses, hashtags or mentions."""
    spans: list[tuple[int, int]] = []
    if "://" in text or "www." in text:
        spans.extend(m.span() for m in _URL.finditer(text))
    if "@" in text:
        spans.extend(_emails_and_mentions(text))
    if "#" in text or "＃" in text:
        spans.extend(m.span() for m in _HASHTAG.finditer(text))
    if "." in text:
        found = Spans(spans)
        if any(not found.overlaps(*m.span()) for m in _MAYBE_DOMAIN.finditer(text)):
            spans.extend(_domains(text))  # a dot outside the links already found
    return Spans(spans)


# Words in Japanese quotation marks on one line: someone's words or a title.
_QUOTE = re.compile(r"[「『][^「」『』\n]++[」』]")


def quoted_spans(text: str) -> Spans:
    """Spans of ``text`` inside 「」 or 『』 (marks included): a resident's words, a title."""
    if "「" not in text and "『" not in text:
        return Spans(())
    return Spans([m.span() for m in _QUOTE.finditer(text)])


def overlaps(spans: Spans | Iterable[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps any of ``spans``."""
    if isinstance(spans, Spans):
        return spans.overlaps(start, end)
    return any(s < end and start < e for s, e in spans)
