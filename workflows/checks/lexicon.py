"""A small lexicon engine: curated terms with context, looked up by their first character.

A lexicon is a YAML file beside the rule modules::

    entries:
      - id: flame.politics            # the rule id reported
        name: party                   # optional, names the entry in errors
        severity: warning
        message: flame.politics.party # catalogue key; {quote} is the matched original text
        terms: [自民党, 公明党]         # literal terms
        patterns: ['政権(は|が)']       # regular expressions
        unless: [一般質問, 会派]        # a benign context there suppresses the hit
        requires: []                  # if given, the hit counts only with this context there
        within: sentence              # where unless/requires look: sentence | draft | N chars
        suggestion: 保護者             # or {matched text: replacement}
        report: sentence              # optional: the finding spans (and quotes) the sentence
        about: [election]             # topics of meaning.yaml: like requires (any of them)
        says: [urging]                # stances of meaning.yaml: like patterns
        hits: [自民党を支持します。]      # or {text: ..., quote: 自民党}: must produce this id
        clean: [市長選挙の投票日です。]   # must not produce this id

A sentence-level judgement names what the sentence is about (``about``: a group of people, an
election, a law, residents, a disaster) and what it says of it (``says``: a generalisation, an
urging, a permission, contempt, a comparison); the words of each topic and stance are kept once,
in ``meaning.yaml``, and an entry flags only the combination, never one of its words alone.

Everything is matched on the NFKC text, so terms and patterns are NFKC-normalised too. A literal
term that starts or ends with katakana or a Latin letter matches only as a whole word of that
script (``ホモ`` does not fire inside ``ホモサピエンス``, ``test`` not inside ``contest``); Latin
letters in terms match in any case. ``within: N`` looks N characters either side of the match.

Speed: CPython's ``re`` tries every branch of a large alternation at every position, so instead
each term and pattern is indexed by the characters it can start with; a scan runs only those
whose first character occurs in the text, and each of those is a plain search that ``re``
speeds up by its literal prefix. Start patterns with a literal where possible: a pattern that
can start with any character runs on every text.

Loading validates every entry and runs its specs; any failure raises :class:`RuleDataError`
naming the file and the entry.
"""

from __future__ import annotations

import bisect
import importlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

from workflows.checks.context import CheckContext
from workflows.checks.data import RuleDataError, cached, load_yaml, resolve
from workflows.checks.model import Finding, Severity
from workflows.checks.text import NormalizedText

Scope = int | Literal["sentence", "draft"]

_ENTRY_KEYS = frozenset(
    {
        "id",
        "name",
        "severity",
        "message",
        "terms",
        "patterns",
        "unless",
        "requires",
        "within",
        "unless_within",
        "requires_within",
        "suggestion",
        "hits",
        "clean",
        "report",
        "about",
        "says",
    }
)
MEANING = "meaning.yaml"
# Sentence ends in the NFKC text (！？ have become !?); "." is left out because of URLs.
_SENTENCE_END = re.compile(r"[。!?\n]")
_BACKREF = re.compile(r"\\[1-9]|\(\?P[<=]")
# Above this many possible first characters a pattern is treated as starting with anything.
_MAX_FIRST_CHARS = 8000


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _is_katakana(ch: str) -> bool:
    return "ァ" <= ch <= "ヺ" or ch == "ー"


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@dataclass(frozen=True, slots=True)
class Term:
    """A literal term, found with ``str.find`` (no regex to compile or run).

    At a katakana or Latin edge it matches only as a whole word of that script; a term with
    Latin letters is matched, in any case, against the lower-cased text.
    """

    text: str
    ignore_case: bool
    left: Callable[[str], bool] | None
    right: Callable[[str], bool] | None

    @classmethod
    def of(cls, term: str) -> Term:
        def edge(ch: str) -> Callable[[str], bool] | None:
            if _is_katakana(ch):
                return _is_katakana
            return _is_latin if _is_latin(ch) else None

        ignore_case = any(c.isascii() and c.isalpha() for c in term)
        return cls(
            term.lower() if ignore_case else term, ignore_case, edge(term[0]), edge(term[-1])
        )

    def first_chars(self) -> frozenset[str]:
        first = self.text[0]
        return frozenset({first, first.upper()}) if self.ignore_case else frozenset(first)

    def spans(self, text: str, lowered: str) -> Iterator[tuple[int, int]]:
        """Each match, left to right, the next looked for past the last."""
        if self.left is None and self.right is None:  # no edge to test: found in C
            hay = lowered if self.ignore_case else text
            for m in _term_regex(self.text).finditer(hay):
                yield m.span()
            return
        pos = 0
        while (span := self.search(text, lowered, pos)) is not None:
            yield span
            pos = span[1]

    def search(self, text: str, lowered: str, pos: int) -> tuple[int, int] | None:
        hay = lowered if self.ignore_case else text
        n = len(self.text)
        while (i := hay.find(self.text, pos)) >= 0:
            j = i + n
            if not (
                (self.left is not None and i > 0 and self.left(text[i - 1]))
                or (self.right is not None and j < len(text) and self.right(text[j]))
            ):
                return i, j
            pos = i + 1
        return None


class Pattern:
    """A regular expression, compiled the first time a draft needs it.

    A lexicon has hundreds of patterns and a draft's characters select a few of them: compiling
    them all would be most of a one-draft `postgate check`. The rule-data cache keeps every one
    compiled, with the pieces its matches need (``possible``): they load in microseconds (see
    ``data._Pickler``), where compiling and parsing a pattern takes a fraction of a millisecond
    each, and an ordinary draft selects a hundred.
    """

    __slots__ = ("_needed", "_never_empty", "_regex", "source")

    def __init__(
        self,
        source: str,
        regex: re.Pattern[str] | None = None,
        needed: tuple[frozenset[str], ...] | None = None,
        never_empty: bool | None = None,
    ) -> None:
        self.source = source
        self._regex = regex
        self._needed = needed
        self._never_empty = never_empty

    def __reduce__(
        self,
    ) -> tuple[type[Pattern], tuple[str, re.Pattern[str], tuple[frozenset[str], ...], bool]]:
        return Pattern, (self.source, self.regex, self.needed(), self.never_empty())

    @property
    def regex(self) -> re.Pattern[str]:
        if self._regex is None:
            self._regex = re.compile(self.source)
        return self._regex

    def first_chars(self) -> frozenset[str] | None:
        return _first_chars(self.source, 0)

    def search(self, text: str, lowered: str, pos: int) -> tuple[int, int] | None:
        m = self.regex.search(text, pos)
        return None if m is None else m.span()

    def needed(self) -> tuple[frozenset[str], ...]:
        """The pieces every match contains (see ``_needed``)."""
        if self._needed is None:
            self._needed = _needed(self.source)
        return self._needed

    def never_empty(self) -> bool:
        """Whether every match is at least one character long (read from the expression)."""
        if self._never_empty is None:
            self._never_empty = _sre.parse(self.source).getwidth()[0] > 0
        return self._never_empty

    def spans(self, text: str, lowered: str) -> Iterator[tuple[int, int]]:
        """Each match, left to right, the next looked for past the last (past an empty match,
        one character further: ``finditer`` would try a longer match there)."""
        if self.never_empty():
            for m in self.regex.finditer(text):  # found in C
                yield m.span()
            return
        pos = 0
        while (span := self.search(text, lowered, pos)) is not None:
            yield span
            pos = max(span[1], span[0] + 1)

    def possible(self, text: str, chars: set[str] | None = None) -> bool:
        """False when ``text`` lacks a piece every match must contain (a literal run, or each
        word of a literal alternation): no need to run the expression at every position then.
        A repeated trigger (``候補`` x 35,000) before ``[^。]{0,30}(不可能|…)`` costs nothing.
        ``chars``, the characters of ``text``, spares a search for a word made of others."""
        return all(
            any((chars is None or chars.issuperset(word)) and word in text for word in words)
            for words in self.needed()
        )


def _needed(source: str) -> tuple[frozenset[str], ...]:
    """The pieces every match of ``source`` contains: each a set of words, one of which must
    appear verbatim. Only what is certain is kept (no case-insensitive part, no optional one)."""
    try:
        parsed = _sre.parse(source)
    except re.error:
        return ()
    if parsed.state.flags & re.IGNORECASE:
        return ()
    return tuple(_needs(list(parsed)))


def _needs(items: list[tuple[Any, Any]]) -> Iterator[frozenset[str]]:
    c = _C
    run: list[str] = []
    for op, av in items:
        if op is c.LITERAL:
            run.append(chr(av))
            continue
        if run:
            yield frozenset({"".join(run)})
            run = []
        if op is c.SUBPATTERN and not av[1] & re.IGNORECASE:
            yield from _needs(list(av[3]))
        elif op is c.BRANCH:
            words = [_literal(list(branch)) for branch in av[1]]
            if all(words):
                yield frozenset(w for w in words if w)
        elif op is c.IN and av and all(kind is c.LITERAL for kind, _ in av):
            yield frozenset(chr(code) for _, code in av)  # (に|へ) is read as [にへ]
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1:
            yield from _needs(list(av[2]))
        elif op is c.ATOMIC_GROUP:
            yield from _needs(list(av))
    if run:
        yield frozenset({"".join(run)})


def _literal(items: list[tuple[Any, Any]]) -> str | None:
    if not items or any(op is not _C.LITERAL for op, _ in items):
        return None
    return "".join(chr(av) for _, av in items)


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry: what to match, what context changes that, what to report."""

    rule: str
    severity: Severity
    message: str
    name: str
    alternatives: tuple[Term | Pattern, ...]
    unless: Pattern | None = None
    requires: Pattern | None = None
    unless_within: Scope = "sentence"
    requires_within: Scope = "sentence"
    suggestion: str | Mapping[str, str] | None = None
    # The judgement is about the sentence: the finding spans and quotes all of it.
    whole_sentence: bool = False

    def suggestion_for(self, matched: str) -> str | None:
        if isinstance(self.suggestion, Mapping):
            return self.suggestion.get(matched)
        return self.suggestion


class Hit(NamedTuple):
    """A match that survived its context checks; ``start``/``end`` index the NFKC text.

    A tuple: a draft can hold tens of thousands (笑笑笑…), and a tuple costs a fraction of a
    frozen dataclass to make.
    """

    entry: Entry
    start: int
    end: int
    matched: str

    @property
    def rule(self) -> str:
        return self.entry.rule

    @property
    def severity(self) -> Severity:
        return self.entry.severity

    @property
    def suggestion(self) -> str | None:
        return self.entry.suggestion_for(self.matched)


class _Context:
    """The context checks of one scan: sentence bounds and searches, each computed once.

    A sentence or the whole draft is searched once per context pattern, not once per match, so
    a long draft with many matches stays linear.
    """

    __slots__ = ("_ends", "_searched", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._ends: list[int] | None = None
        self._searched: dict[tuple[int, int, int], bool] = {}

    def region(self, start: int, end: int, scope: Scope) -> tuple[int, int]:
        if scope == "draft":
            return 0, len(self._text)
        if scope == "sentence":
            return self._sentence(start, end)
        return max(0, start - scope), min(len(self._text), end + scope)

    def _sentence(self, start: int, end: int) -> tuple[int, int]:
        if self._ends is None:
            self._ends = [m.start() for m in _SENTENCE_END.finditer(self._text)]
        ends = self._ends
        i = bisect.bisect_left(ends, start)
        lo = ends[i - 1] + 1 if i > 0 else 0
        j = bisect.bisect_left(ends, max(end - 1, start))
        hi = ends[j] if j < len(ends) else len(self._text)
        return lo, max(hi, end)

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        """The sentence around [start, end), with its closing mark, without leading spaces."""
        lo, hi = self._sentence(start, end)
        text = self._text
        if hi < len(text) and text[hi] in "。!?":
            hi += 1
        while lo < start and text[lo].isspace():
            lo += 1
        return lo, hi

    def has(self, pattern: Pattern, start: int, end: int, scope: Scope) -> bool:
        lo, hi = self.region(start, end, scope)
        key = (id(pattern), lo, hi)
        if key not in self._searched:
            self._searched[key] = pattern.regex.search(self._text, lo, hi) is not None
        return self._searched[key]

    def allows(self, entry: Entry, start: int, end: int) -> bool:
        if entry.requires is not None and not self.has(
            entry.requires, start, end, entry.requires_within
        ):
            return False
        return entry.unless is None or not self.has(entry.unless, start, end, entry.unless_within)


@dataclass
class Lexicon:
    """The entries of one family, indexed by the first characters their alternatives start with."""

    entries: tuple[Entry, ...]
    # Alternative number -> (entry index, alternative), in entry order.
    _alternatives: tuple[tuple[int, Term | Pattern], ...] = field(init=False, repr=False)
    _by_char: dict[str, tuple[int, ...]] = field(init=False, repr=False)
    _always: frozenset[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        alternatives = [(i, alt) for i, e in enumerate(self.entries) for alt in e.alternatives]
        by_char: dict[str, list[int]] = {}
        always: set[int] = set()
        for n, (_, alt) in enumerate(alternatives):
            chars = alt.first_chars()
            if chars is None:
                always.add(n)
                continue
            for ch in chars:
                by_char.setdefault(ch, []).append(n)
        self._alternatives = tuple(alternatives)
        self._by_char = {ch: tuple(ns) for ch, ns in by_char.items()}
        self._always = frozenset(always)

    def scan(self, text: str) -> list[Hit]:
        """Every hit in ``text`` (NFKC), in text order; one rule never reports overlapping spans."""
        by_char = self._by_char
        candidates = set(self._always)
        chars = set(text)
        for ch in by_char.keys() & chars:
            candidates.update(by_char[ch])
        if not candidates:
            return []
        found: list[tuple[int, int, int]] = []  # (start, -end, entry index): longest first
        context = _Context(text)
        lowered = _ascii_lower(text)
        for n in sorted(candidates):
            index, alt = self._alternatives[n]
            entry = self.entries[index]
            if isinstance(alt, Pattern) and not alt.possible(text, chars):
                continue
            free = entry.requires is None and entry.unless is None
            # Past each match even when its context suppressed it: a shorter match inside it
            # would have the same context, and re-trying each position is quadratic.
            for start, end in alt.spans(text, lowered):
                if end > start and (free or context.allows(entry, start, end)):
                    lo, hi = context.sentence(start, end) if entry.whole_sentence else (start, end)
                    found.append((lo, -hi, index))
        found.sort()
        hits: list[Hit] = []
        # A sentence-level judgement and a word found inside it are two findings, not one.
        last_end: dict[tuple[str, bool], int] = {}
        for start, neg_end, index in found:
            end = -neg_end
            entry = self.entries[index]
            key = (entry.rule, entry.whole_sentence)
            if last_end.get(key, -1) <= start:
                hits.append(Hit(entry, start, end, text[start:end]))
                last_end[key] = end
        return hits

    def findings(self, ctx: CheckContext) -> Iterator[Finding]:
        """The hits in a draft as findings whose spans point into the original text."""
        for hit in self.scan(ctx.text):
            if ctx.full(hit.rule):
                ctx.over_limit(hit.rule)  # counted, not spelled out
                continue
            suggestion = hit.suggestion
            yield ctx.finding(
                hit.rule,
                hit.severity,
                hit.entry.message,
                hit.start,
                hit.end,
                suggestion=suggestion,
                replacement=suggestion or "",
            )


@cache
def _term_regex(term: str) -> re.Pattern[str]:
    return re.compile(re.escape(term))


def _ascii_lower(text: str) -> str:
    """``text`` with ASCII letters lower-cased and every other character where it was."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if c.isascii() else c for c in text)  # pragma: no cover - e.g. "İ"


# ── first characters ─────────────────────────────────────────────────────────────────────────
# The parse tree of ``re`` is internal (re._parser); it is only read here (first characters at
# load time, the words a match needs when it is cached or first used), and any node this does
# not know makes the pattern "may start with anything" or "needs nothing", which is always safe.
_sre: Any = importlib.import_module("re._parser")
_C: Any = importlib.import_module("re._constants")
_ZERO_WIDTH = {_C.AT, _C.ASSERT, _C.ASSERT_NOT}
_REPEATS = {_C.MAX_REPEAT, _C.MIN_REPEAT, getattr(_C, "POSSESSIVE_REPEAT", _C.MAX_REPEAT)}


def first_chars(regex: re.Pattern[str]) -> frozenset[str] | None:
    """The characters a match of ``regex`` can start with, or None if that is not bounded."""
    return _first_chars(regex.pattern, regex.flags)


def _first_chars(pattern: str, flags: int) -> frozenset[str] | None:
    try:
        tree = _sre.parse(pattern, flags)
        chars, nullable = _seq_first(list(tree), bool(flags & re.IGNORECASE))
    except _Unbounded:
        return None
    if nullable or len(chars) > _MAX_FIRST_CHARS:
        return None
    return frozenset(chars)


class _Unbounded(Exception):
    """A node whose first characters (or reach) are not worth enumerating."""


def reach(regex: re.Pattern[str]) -> int | None:
    """How far past the place a match of ``regex`` is tried it can read: the characters it may
    consume, look ahead at or test for an end there (None when that is not bounded)."""
    try:
        return _seq_reach(list(_sre.parse(regex.pattern, regex.flags)))[1]
    except _Unbounded:
        return None


def _seq_reach(seq: Iterable[tuple[Any, Any]]) -> tuple[int, int]:
    """(the most characters ``seq`` consumes, the furthest it reads) from where it starts."""
    at = furthest = 0
    for op, av in seq:
        if op in (_C.LITERAL, _C.NOT_LITERAL, _C.IN, _C.ANY):
            at += 1
            continue
        if op is _C.AT:  # ^, $, \b, \Z: the character there decides
            furthest = max(furthest, at + 1)
            continue
        if op is _C.SUBPATTERN:
            inner = [(list(av[3]), 1)]
        elif op is getattr(_C, "ATOMIC_GROUP", None):
            inner = [(list(av), 1)]
        elif op is _C.BRANCH:
            inner = [(list(alt), 1) for alt in av[1]]
        elif op in _REPEATS and av[1] != _C.MAXREPEAT:
            inner = [(list(av[2]), av[1])]
        elif op in (_C.ASSERT, _C.ASSERT_NOT):
            direction, body = av
            width, read = _seq_reach(list(body))
            # A lookahead reads from here; a lookbehind from its width back.
            furthest = max(furthest, at + read if direction == 1 else at - width + read)
            continue
        else:
            raise _Unbounded  # a repeat without bound, a back reference, …
        widths = [_seq_reach(body) for body, _ in inner]
        times = inner[0][1]
        most = max(width for width, _ in widths)
        furthest = max(furthest, at + (times - 1) * most + max(read for _, read in widths))
        at += times * most
    return at, max(at, furthest)


class Sweep:
    """``regex.search(text, pos, endpos)`` for stretches that move forward through one text
    (neither end moves back), each part of the text read about once, not once per stretch.

    A stretch is searched as if the text ended at ``endpos``. A match tried at least ``reach``
    characters before the end of a stretch (see ``reach``) reads nothing at or past that end:
    there it succeeds or fails as in the whole text, so for every later stretch too. What the
    last search found or ruled out before that point is therefore kept, and the next one reads
    only from where that knowledge stops. The answer is the same match object ``search`` gives:
    the first place where a match succeeds, matched there under the same end.
    """

    __slots__ = ("_end", "_found", "_pos", "_reach", "_regex", "_text")

    def __init__(self, regex: re.Pattern[str], text: str, reach: int) -> None:
        self._regex, self._text, self._reach = regex, text, reach
        self._pos = self._end = 0  # the last stretch searched
        self._found: re.Match[str] | None = None  # what it found

    def search(self, pos: int, endpos: int) -> re.Match[str] | None:
        regex, text, found = self._regex, self._text, self._found
        start = pos
        if pos >= self._pos and endpos >= self._end:  # else nothing known holds: read it all
            # Places up to ``settled`` were tried as in the whole text: every one before the
            # last match failed (every one, when it found none).
            settled = self._end - self._reach
            if found is not None and pos <= found.start() <= settled:
                # Found again, the same way: what it reads lies before the last end.
                self._pos, self._end = pos, endpos
                self._found = regex.match(text, found.start(), endpos)
                return self._found
            if found is None or found.start() > settled:
                start = max(pos, settled + 1)
            # else the last match starts before this stretch: past it, nothing is known
        self._pos, self._end = pos, endpos
        self._found = regex.search(text, start, endpos)
        return self._found


def _seq_first(seq: Iterable[tuple[Any, Any]], icase: bool) -> tuple[set[str], bool]:
    chars: set[str] = set()
    for op, av in seq:
        first, nullable = _node_first(op, av, icase)
        chars |= first
        if not nullable:
            return chars, False
    return chars, True


def _node_first(op: Any, av: Any, icase: bool) -> tuple[set[str], bool]:
    if op is _C.LITERAL:
        return _cased({chr(av)}, icase), False
    if op is _C.IN:
        return _cased(_charset(av), icase), False
    if op in _ZERO_WIDTH:
        return set(), True
    if op is _C.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        sub_icase = (icase or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE
        return _seq_first(sub, sub_icase)
    if op is _C.BRANCH:
        chars: set[str] = set()
        nullable = False
        for alt in av[1]:
            first, empty = _seq_first(alt, icase)
            chars |= first
            nullable = nullable or empty
        return chars, nullable
    if op in _REPEATS:
        low, _high, item = av
        first, empty = _seq_first(item, icase)
        return first, empty or low == 0
    if op is getattr(_C, "ATOMIC_GROUP", None):
        return _seq_first(av, icase)
    raise _Unbounded


def _charset(items: Iterable[tuple[Any, Any]]) -> set[str]:
    chars: set[str] = set()
    for op, av in items:
        if op is _C.LITERAL:
            chars.add(chr(av))
        elif op is _C.RANGE and av[1] - av[0] < _MAX_FIRST_CHARS:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        else:  # NEGATE, CATEGORY (\s, \d, \w) or a huge range
            raise _Unbounded
    return chars


def _cased(chars: set[str], icase: bool) -> set[str]:
    if not icase:
        return chars
    return chars | {c.lower() for c in chars} | {c.upper() for c in chars}


def consumes_one_of(regex: re.Pattern[str], chars: frozenset[str]) -> bool:
    """Whether every match of ``regex`` consumes one of ``chars`` (what it only looks at around
    the match does not count, nor a part that ignores case): a match then starts at most its
    width before one of them. False when that cannot be read from the expression."""
    try:
        tree = _sre.parse(regex.pattern, regex.flags)
    except re.error:
        return False
    return not tree.state.flags & re.IGNORECASE and _seq_consumes(list(tree), chars)


def _seq_consumes(seq: Iterable[tuple[Any, Any]], chars: frozenset[str]) -> bool:
    # A sequence matches only if each of its parts does: one part that always consumes will do.
    return any(_node_consumes(op, av, chars) for op, av in seq)


def _node_consumes(op: Any, av: Any, chars: frozenset[str]) -> bool:
    if op is _C.LITERAL:
        return chr(av) in chars
    if op is _C.IN:
        try:
            return _charset(av) <= chars
        except _Unbounded:  # a negated class, \d, \s or a huge range
            return False
    if op is _C.SUBPATTERN:
        _group, add_flags, _del_flags, sub = av
        return not add_flags & re.IGNORECASE and _seq_consumes(sub, chars)
    if op is _C.BRANCH:
        return all(_seq_consumes(alt, chars) for alt in av[1])
    if op in _REPEATS:
        return av[0] >= 1 and _seq_consumes(av[2], chars)
    if op is getattr(_C, "ATOMIC_GROUP", None):
        return _seq_consumes(av, chars)
    return False  # a lookaround, an anchor, any character, a back reference, …


def widths(regex: re.Pattern[str]) -> tuple[int, int | None]:
    """The fewest and the most characters a match of ``regex`` consumes (None: not bounded)."""
    fewest, most = _sre.parse(regex.pattern, regex.flags).getwidth()
    return int(fewest), int(most) if most < _C.MAXREPEAT else None


# ── loading ──────────────────────────────────────────────────────────────────────────────────


def load_lexicon(path: str | Path, family: str, *, message_keys: frozenset[str]) -> Lexicon:
    """Load, validate and index a family's lexicon, then run every entry's specs.

    Raises :class:`RuleDataError` naming the file and the entry on any problem; spec failures
    are all reported at once. What a load built is cached (see ``data.cached``) for the same
    file, the same code and the same message keys, so only the first run after a change pays
    for validating it.
    """
    file = resolve(path)
    try:
        inputs = [file.read_bytes(), Path(__file__).read_bytes(), family.encode()]
        inputs.append(resolve(MEANING).read_bytes())
    except OSError as exc:
        raise RuleDataError(f"{file}: {exc}") from exc
    inputs.append("\n".join(sorted(message_keys)).encode())
    return cached(f"lexicon-{file.stem}", inputs, lambda: _load(file, family, message_keys))


def _load(path: Path, family: str, message_keys: frozenset[str]) -> Lexicon:
    name = path.name
    data = load_yaml(path)
    if not isinstance(data, Mapping) or set(data) != {"entries"}:
        raise RuleDataError(f"{name}: expected a mapping with only 'entries'")
    if not isinstance(data["entries"], list):
        raise RuleDataError(f"{name}: 'entries' must be a list")
    vocabulary = _vocabulary()
    entries: list[Entry] = []
    specs: list[tuple[str, list[tuple[str, str | None]], list[str]]] = []
    for i, raw in enumerate(data["entries"], 1):
        label = _label(name, i, raw)
        entry, hits, clean = _entry(_expanded(raw, label, vocabulary), label, family, message_keys)
        entries.append(entry)
        specs.append((label, hits, clean))
    lexicon = Lexicon(tuple(entries))
    failures = [
        problem
        for entry, (label, hits, clean) in zip(lexicon.entries, specs, strict=True)
        for problem in _spec_failures(lexicon, entry, label, hits, clean)
    ]
    if failures:
        raise RuleDataError("\n".join(failures))
    return lexicon


def _vocabulary() -> dict[str, dict[str, list[str]]]:
    """The topics and stances of meaning.yaml: name -> regular expressions."""
    data = load_yaml(resolve(MEANING))
    if not isinstance(data, Mapping) or set(data) != {"topics", "stances"}:
        raise RuleDataError(f"{MEANING}: expected a mapping with only 'topics' and 'stances'")
    vocabulary: dict[str, dict[str, list[str]]] = {}
    for part in ("topics", "stances"):
        words = data[part]
        if not isinstance(words, Mapping):
            raise RuleDataError(f"{MEANING}: {part!r} must map names to lists of patterns")
        vocabulary[part] = {str(k): _strings(words, k, f"{MEANING}: {part}") for k in words}
        for key, patterns in vocabulary[part].items():
            if not patterns:
                raise RuleDataError(f"{MEANING}: {part}.{key} has no patterns")
            for pattern in patterns:
                _compile(nfkc(pattern), f"{MEANING}: {part}.{key}", "patterns")
    return vocabulary


def _expanded(
    raw: Any, label: str, vocabulary: dict[str, dict[str, list[str]]]
) -> Mapping[str, Any]:
    """An entry with ``about`` added to its ``requires`` and ``says`` to its ``patterns``."""
    if not isinstance(raw, Mapping) or not ("about" in raw or "says" in raw):
        return raw
    entry = dict(raw)
    for key, part, into in (("about", "topics", "requires"), ("says", "stances", "patterns")):
        names = _strings(entry, key, label)
        unknown = [n for n in names if n not in vocabulary[part]]
        if unknown:
            raise RuleDataError(f"{label}: {key!r} names no {part} of {MEANING}: {unknown}")
        if names:
            entry[into] = _strings(entry, into, label) + [
                p for n in names for p in vocabulary[part][n]
            ]
        entry.pop(key, None)
    return entry


def _label(file: str, index: int, raw: Any) -> str:
    if isinstance(raw, Mapping):
        ident = raw.get("name") or raw.get("id") or "?"
        return f"{file}: entry {index} ({ident})"
    return f"{file}: entry {index}"


def _entry(
    raw: Any, label: str, family: str, message_keys: frozenset[str]
) -> tuple[Entry, list[tuple[str, str | None]], list[str]]:
    if not isinstance(raw, Mapping):
        raise RuleDataError(f"{label}: an entry must be a mapping")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise RuleDataError(f"{label}: unknown key(s) {sorted(map(str, unknown))}")
    rule = raw.get("id")
    if not isinstance(rule, str) or not (rule == family or rule.startswith(family + ".")):
        raise RuleDataError(f"{label}: 'id' must be {family!r} or start with '{family}.'")
    try:
        severity = Severity(str(raw.get("severity")))
    except ValueError:
        raise RuleDataError(
            f"{label}: 'severity' must be error, warning or info (got {raw.get('severity')!r})"
        ) from None
    message = raw.get("message")
    if not isinstance(message, str) or message not in message_keys:
        raise RuleDataError(f"{label}: 'message' {message!r} is not a catalogue key")

    terms = _strings(raw, "terms", label)
    patterns = _strings(raw, "patterns", label)
    if not terms and not patterns:
        raise RuleDataError(f"{label}: needs 'terms' or 'patterns'")
    alternatives: list[Term | Pattern] = [Term.of(nfkc(t)) for t in terms]
    for p in patterns:
        if _BACKREF.search(p):
            raise RuleDataError(f"{label}: patterns may not use named groups or backreferences")
        alternatives.append(_compile(nfkc(p), label, "patterns"))

    scope = _scope(raw.get("within", "sentence"), label, "within")
    entry = Entry(
        rule=rule,
        severity=severity,
        message=message,
        name=str(raw.get("name") or rule),
        alternatives=tuple(alternatives),
        unless=_context(raw, "unless", label),
        requires=_context(raw, "requires", label),
        unless_within=_scope(raw.get("unless_within", scope), label, "unless_within"),
        requires_within=_scope(raw.get("requires_within", scope), label, "requires_within"),
        suggestion=_suggestion(raw.get("suggestion"), label),
        whole_sentence=_report(raw.get("report", "match"), label),
    )

    hits: list[tuple[str, str | None]] = []
    for spec in raw.get("hits") or []:
        if isinstance(spec, str):
            hits.append((spec, None))
        elif isinstance(spec, Mapping) and isinstance(spec.get("text"), str):
            quote = spec.get("quote")
            hits.append((spec["text"], nfkc(quote) if isinstance(quote, str) else None))
        else:
            raise RuleDataError(f"{label}: a 'hits' spec must be a text or {{text, quote}}")
    clean = _strings(raw, "clean", label)
    if not hits or not clean:
        raise RuleDataError(f"{label}: every entry needs 'hits' and 'clean' examples")
    return entry, hits, clean


def _strings(raw: Mapping[str, Any], key: str, label: str) -> list[str]:
    value = raw.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RuleDataError(f"{label}: {key!r} must be a list of non-empty strings")
    return value


def _compile(pattern: str, label: str, key: str) -> Pattern:
    """A lazily compiled pattern, parsed now so that a mistake is reported at load time."""
    try:
        _sre.parse(pattern)
    except re.error as exc:
        raise RuleDataError(f"{label}: bad regular expression in {key!r}: {exc}") from exc
    return Pattern(pattern)


def _context(raw: Mapping[str, Any], key: str, label: str) -> Pattern | None:
    items = _strings(raw, key, label)
    if not items:
        return None
    return _compile("|".join(f"(?:{nfkc(p)})" for p in items), label, key)


def _scope(value: Any, label: str, key: str) -> Scope:
    if value == "sentence":
        return "sentence"
    if value == "draft":
        return "draft"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise RuleDataError(
        f"{label}: {key!r} must be 'sentence', 'draft' or a number of characters (got {value!r})"
    )


def _report(value: Any, label: str) -> bool:
    if value not in ("match", "sentence"):
        raise RuleDataError(f"{label}: 'report' must be 'match' or 'sentence' (got {value!r})")
    return bool(value == "sentence")


def _suggestion(value: Any, label: str) -> str | Mapping[str, str] | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return {nfkc(k): v for k, v in value.items()}
    raise RuleDataError(f"{label}: 'suggestion' must be a string or a mapping of strings")


def _spec_failures(
    lexicon: Lexicon,
    entry: Entry,
    label: str,
    hits: list[tuple[str, str | None]],
    clean: list[str],
) -> Iterator[str]:
    for text, quote in hits:
        found = [h for h in lexicon.scan(NormalizedText.of(text).text) if h.rule == entry.rule]
        if not found:
            yield f"{label}: hit spec {text!r} does not produce {entry.rule}"
        elif quote is not None and quote not in {h.matched for h in found}:
            got = [h.matched for h in found]
            yield f"{label}: hit spec {text!r} should quote {quote!r}; {entry.rule} quotes {got}"
    for text in clean:
        norm = NormalizedText.of(text).text
        wrong = [h.matched for h in lexicon.scan(norm) if h.rule == entry.rule]
        if wrong:
            yield f"{label}: clean spec {text!r} produces {entry.rule} on {wrong}"
