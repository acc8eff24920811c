"""Terminology: official names and 公用文 spellings, from prh-style dictionaries.

The dictionary format is prh's (https://github.com/prh/prh): ``version: 1``, ``imports:`` and
``rules:`` whose entries have ``expected``, optional ``pattern``/``patterns`` (plain strings, or
``/regex/flags``), ``options: {wordBoundary, regexpMustEmpty}``, ``prh`` (a note) and
``specs: [{from, to}]``. Our additions: ``severity`` (error|warning|info, default warning),
``kind`` (official|kobun|house|service|general: which message the finding uses) and
``disabled: true`` (drops an earlier entry with the same ``expected``).

The starter dictionary (terminology.yaml) always loads; ``settings.terminology`` adds the
organisation's own on top, later entries replacing earlier ones with the same ``expected``.
Patterns match the NFKC-normalised text, so half-width katakana and full-width letters need no
patterns of their own.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import Any

from workflows.catalogue import Lang
from workflows.checks.context import CheckContext, Rule
from workflows.checks.data import RULES_DIR, RuleDataError, cached_data, load_yaml
from workflows.checks.model import Finding, Severity
from workflows.checks.text import Spans, overlaps, protected_spans, quoted_spans

STARTER = RULES_DIR / "terminology.yaml"
KINDS = frozenset({"official", "kobun", "house", "service", "general"})
# Kinds of term that are the city's own way of writing: not imposed on the words in 「」 (a
# resident's voice 「つらかった時に…」, a title), which are someone else's.
OWN_WRITING = frozenset({"kobun", "house"})
_ENTRY_KEYS = frozenset(
    {"expected", "pattern", "patterns", "options", "specs", "prh", "severity", "kind", "disabled"}
)
_OPTION_KEYS = frozenset({"wordBoundary", "regexpMustEmpty"})
_REGEX_LITERAL = re.compile(r"^/(.*)/([gimsuy]*)$", re.DOTALL)
_JS_REFERENCE = re.compile(r"\$(\$|&|\d{1,2})")
# prh's wordBoundary is JavaScript's \b: ASCII word characters only.
_BOUNDARY_BEFORE = r"(?<![A-Za-z0-9_])"
_BOUNDARY_AFTER = r"(?![A-Za-z0-9_])"


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _closing(source: str, i: int) -> int:
    """Index just past the group that opens at ``source[i]`` (``(``), or -1."""
    depth, j, n = 0, i, len(source)
    while j < n:
        ch = source[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            j = _class_end(source, j)
            if j < 0:
                return -1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


def _class_end(source: str, i: int) -> int:
    """Index just past the character class that opens at ``source[i]`` (``[``), or -1."""
    j = i + 1
    if j < len(source) and source[j] == "^":
        j += 1
    if j < len(source) and source[j] == "]":
        j += 1
    while j < len(source):
        if source[j] == "\\":
            j += 2
        elif source[j] == "]":
            return j + 1
        else:
            j += 1
    return -1


def _split_top(source: str) -> list[str]:
    """The alternatives of ``source`` at its top level."""
    parts: list[str] = []
    start = j = 0
    while j < len(source):
        ch = source[j]
        if ch == "\\":
            j += 2
        elif ch == "[":
            j = _class_end(source, j)
            if j < 0:
                return [source]
        elif ch == "(":
            j = _closing(source, j)
            if j < 0:
                return [source]
        else:
            if ch == "|":
                parts.append(source[start:j])
                start = j + 1
            j += 1
    parts.append(source[start:])
    return parts


_ESCAPED_CHAR = re.compile(r"\\u([0-9a-fA-F]{4})|\\([^A-Za-z0-9])")


def _frequency(s: str) -> int:
    """How common a string is in a Japanese post, roughly: a hiragana or ASCII character is in
    every sentence, a kanji or katakana often, a symbol (○, ※, 【) seldom; a run of several
    characters is rare. (Comparisons, not a character class: compiling one costs every start.)"""
    if len(s) != 1:
        return 1
    if "\u3041" <= s <= "\u309f" or s <= "\x7f":
        return 50
    return 5 if "\u3400" <= s <= "\u9fff" or "\u30a0" <= s <= "\u30ff" else 1


@dataclass(frozen=True, slots=True)
class Anchor:
    """Strings of which one occurs in every match; ``leading``: every match starts with one."""

    strings: frozenset[str]
    leading: bool
    folded: bool = False  # the strings are lower-cased: look for them in the lower-cased text

    @property
    def cost(self) -> int:
        """How often a text is likely to contain one of the strings (lower is rarer)."""
        return sum(_frequency(s) for s in self.strings)


def _zero_width(body: str) -> bool:
    """Whether a group body is only lookarounds, e.g. ``?:(?<=a)|(?<=b)``."""
    if body.startswith("?:"):
        body = body[2:]
    for alternative in _split_top(body):
        j = 0
        while j < len(alternative):
            if not alternative.startswith(("(?=", "(?!", "(?<=", "(?<!"), j):
                return False
            j = _closing(alternative, j)
            if j < 0:
                return False
    return True


def anchor(source: str) -> Anchor | None:
    """What any text ``source`` matches must contain (None: nothing known).

    Most dictionary patterns start with a lookbehind, which stops ``re`` from skipping ahead to
    their first literal, so each scan would visit every position: a substring test first, and a
    match only where the anchor occurs, keeps the dictionary cheap.
    """
    alternatives = _split_top(source)
    if len(alternatives) > 1:
        found = [anchor(a) for a in alternatives]
        if any(f is None for f in found):
            return None
        return Anchor(
            frozenset().union(*(f.strings for f in found if f is not None)),
            all(f.leading for f in found if f is not None),
        )
    candidates: list[Anchor] = []
    run, run_leading, consumed = "", False, False
    j, n = 0, len(source)
    while j < n:
        ch = source[j]
        item: Anchor | None
        single: str | None = None
        if ch == "(":
            end = _closing(source, j)
            if end < 0:
                break
            body = source[j + 1 : end - 1]
            if body.startswith(("?=", "?!", "?<=", "?<!")) or _zero_width(body):
                j = end
                continue  # zero-width: a literal run goes on across it
            if body.startswith("?:"):
                body = body[2:]
            elif body.startswith("?P<"):
                body = body[body.index(">") + 1 :]
            elif body.startswith("?"):
                break
            item = anchor(body)
        elif ch == "[":
            end = _class_end(source, j)
            if end < 0:
                break
            body = source[j + 1 : end - 1]
            plain = not (body.startswith("^") or "-" in body or "\\" in body)
            item = Anchor(frozenset(body), True) if plain else None
        elif ch == "\\":
            m = _ESCAPED_CHAR.match(source, j)
            end = m.end() if m else j + 2
            single = None if m is None else chr(int(m[1], 16)) if m[1] else m[2]
            item = None
        elif ch in "^$":
            j += 1
            continue
        elif ch == ".":
            end, item = j + 1, None
        elif ch in "|)*+?{":
            break
        else:
            end, single, item = j + 1, ch, None
        quant = source[end : end + 2]
        optional = quant[:1] in ("?", "*") or quant.startswith(("{0", "{,"))
        quantified = quant[:1] in ("?", "*", "+", "{")
        j = end
        while j < n and source[j] in "?*+":
            j += 1
        if j < n and source[j] == "{":
            close = source.find("}", j)
            j = n if close < 0 else close + 1
        if single is not None and not quantified:
            if not run:
                run_leading = not consumed
            run += single
            consumed = True
            continue
        if run:
            candidates.append(Anchor(frozenset((run,)), run_leading))
            run = ""
        if single is not None:
            item = Anchor(frozenset(single), True)
        if item is not None and not optional:
            candidates.append(Anchor(item.strings, item.leading and not consumed))
        consumed = True
    if run:
        candidates.append(Anchor(frozenset((run,)), run_leading))
    return min(candidates, key=lambda c: c.cost) if candidates else None


@dataclass(frozen=True, slots=True)
class Probe:
    """A cheap test that a text may hold a match of a pattern: one of its anchor strings occurs,
    or (``needs``) an expression that finds something in every match does."""

    strings: tuple[str, ...]  # empty: nothing known, always look
    needs: str | None = None  # e.g. "[○●xX]", "00|YYYY"

    @classmethod
    def of(cls, pattern: re.Pattern[str]) -> Probe:
        found = anchor(pattern.pattern)
        if found is None or pattern.flags & re.IGNORECASE:
            return cls(())
        return cls(tuple(found.strings))

    def may_match(self, text: str, chars: set[str]) -> bool:
        """``chars``: the characters of ``text`` (a string made of others is not looked for)."""
        if self.needs is not None:
            return _needs(self.needs).search(text) is not None
        if not self.strings:
            return True
        return any(s in text for s in self.strings if chars.issuperset(s))


@cache
def _needs(source: str) -> re.Pattern[str]:
    return re.compile(source)


@dataclass(frozen=True, slots=True)
class Term:
    """One compiled dictionary entry."""

    expected: str
    patterns: tuple[re.Pattern[str], ...]
    anchors: tuple[Anchor | None, ...]
    template: str  # ``expected`` in Match.expand syntax
    references: bool  # whether ``expected`` uses $1 …
    must_empty: int | str | None
    severity: Severity
    kind: str
    note_ja: str
    note_en: str
    origin: str

    def hits(self, index: int, text: str, lowered: str) -> Iterator[tuple[int, int, str]]:
        """(start, end, corrected text) for each match of pattern ``index`` that differs."""
        for m in _matches(self.patterns[index], self.anchors[index], text, lowered):
            if m.end() == m.start() or self._vetoed(m):
                continue
            fixed = m.expand(self.template) if self.references else self.expected
            if _nfkc(fixed) != m.group():
                yield m.start(), m.end(), fixed

    def apply(self, text: str) -> str:
        """``text`` with every pattern replaced, as prh does (used to run the specs).

        It looks for matches the way ``hits`` does, so a spec also checks the anchor pre-check.
        """
        for pattern, found in zip(self.patterns, self.anchors, strict=True):
            matches = [
                m for m in _matches(pattern, found, text, text.lower()) if m.end() > m.start()
            ]
            for m in reversed(matches):
                text = text[: m.start()] + self._replace(m) + text[m.end() :]
        return text

    def _replace(self, m: re.Match[str]) -> str:
        if self._vetoed(m):
            return m.group()
        return m.expand(self.template) if self.references else self.expected

    def _vetoed(self, m: re.Match[str]) -> bool:
        return self.must_empty is not None and bool(m.group(self.must_empty))


# Past one anchor every this many characters, a pattern is matched by scanning the whole text.
_DENSE = 32


def _matches(
    pattern: re.Pattern[str], found: Anchor | None, text: str, lowered: str
) -> Iterator[re.Match[str]]:
    """Like ``pattern.finditer(text)``, but looking only where the anchor says a match can be."""
    if found is None:
        yield from pattern.finditer(text)
        return
    folded = found.folded
    haystack = lowered if folded else text
    if not found.leading or (folded and len(lowered) != len(text)):
        yield from pattern.finditer(text)
        return
    if sum(haystack.count(s) for s in found.strings) > len(text) // _DENSE:
        # Anchors everywhere (様様様…): trying every place in C is cheaper than a Python step per
        # anchor, and finds the same matches, since each starts with an anchor string.
        yield from pattern.finditer(text)
        return
    starts: set[int] = set()
    for s in found.strings:
        at = haystack.find(s)
        while at >= 0:
            starts.add(at)
            at = haystack.find(s, at + 1)
    done = 0
    for at in sorted(starts):
        if at < done:
            continue
        m = pattern.match(text, at)
        if m is not None:
            done = max(m.end(), at + 1)
            yield m


@dataclass(frozen=True, slots=True)
class Hit:
    """A dictionary match to report: where it is, which entry, and the corrected text."""

    start: int
    end: int
    term: Term
    fixed: str


class Dictionary:
    """The merged dictionary: its terms in order, earlier ones winning ties between overlaps."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms = tuple(terms)
        # One row per pattern: (term rank, term, pattern index). Rows without an anchor always
        # run, the others only when one of their anchor strings is in the text (in the
        # lower-cased text for the patterns that ignore case).
        self._rows: list[tuple[int, Term, int]] = []
        self._always: list[int] = []
        by_anchor: tuple[dict[str, list[int]], dict[str, list[int]]] = ({}, {})
        for rank, term in enumerate(self.terms):
            for index, found in enumerate(term.anchors):
                row = len(self._rows)
                self._rows.append((rank, term, index))
                if found is None:
                    self._always.append(row)
                    continue
                for s in found.strings:
                    by_anchor[found.folded].setdefault(s, []).append(row)
        self._scans = (_AnchorScan(by_anchor[0]), _AnchorScan(by_anchor[1]))

    def find(self, text: str) -> list[Hit]:
        """Non-overlapping hits in text order; where hits overlap the longer (then earlier) wins."""
        lowered = text.lower()
        rows = set(self._always)
        self._scans[0].collect(text, rows)
        self._scans[1].collect(lowered, rows)
        found: list[tuple[int, int, int, Term, str]] = []
        for row in rows:
            rank, term, index = self._rows[row]
            found.extend(
                (s, e, rank, term, fixed) for s, e, fixed in term.hits(index, text, lowered)
            )
        if len(found) > 1:
            found.sort(key=lambda h: (h[0], h[0] - h[1], h[2]))
        kept: list[Hit] = []
        for start, end, _, term, fixed in found:
            if not kept or start >= kept[-1].end:
                kept.append(Hit(start, end, term, fixed))
        return kept


class _AnchorScan:
    """Finds the rows whose anchor strings occur in a text: one substring test per string (a few
    dozen, each a scan in C), so a draft of one anchor repeated costs no Python step per repeat."""

    def __init__(self, table: dict[str, list[int]]) -> None:
        self.table = {s: tuple(rows) for s, rows in table.items()}

    def collect(self, text: str, rows: set[int]) -> None:
        for s, of in self.table.items():
            if s in text:
                rows.update(of)


def _js_template(expected: str) -> str:
    """prh's ``expected`` uses JavaScript's $1 / $& / $$; Match.expand wants \\g<1>."""

    def convert(m: re.Match[str]) -> str:
        ref = m.group(1)
        if ref == "$":
            return "$"
        return r"\g<0>" if ref == "&" else rf"\g<{int(ref)}>"

    return _JS_REFERENCE.sub(convert, expected.replace("\\", "\\\\"))


def _compile(source: str, word_boundary: bool, origin: str) -> re.Pattern[str]:
    m = _REGEX_LITERAL.match(source)
    flags = re.MULTILINE  # prh always matches with the m flag
    if m:
        body = m.group(1)
        if "i" in m.group(2):
            flags |= re.IGNORECASE
        if "s" in m.group(2):
            flags |= re.DOTALL
    else:
        body = re.escape(_nfkc(source))
        if any(ch.isascii() and ch.isalpha() for ch in body):
            flags |= re.IGNORECASE  # prh matches plain-string patterns in either case
    if word_boundary:
        body = f"{_BOUNDARY_BEFORE}(?:{body}){_BOUNDARY_AFTER}"
    try:
        return re.compile(body, flags)
    except re.error as exc:
        raise RuleDataError(f"{origin}: pattern {source!r} is not a valid regex: {exc}") from exc


def _strings(value: Any, what: str, origin: str) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) and v for v in items):
        raise RuleDataError(f"{origin}: {what} must be a non-empty string or a list of them")
    return list(items)


def _note(value: Any, origin: str) -> tuple[str, str]:
    if value is None:
        return "", ""
    if isinstance(value, str):
        return value, value
    if isinstance(value, dict) and isinstance(value.get("ja"), str):
        return value["ja"], str(value.get("en", value["ja"]))
    raise RuleDataError(f"{origin}: prh must be a string or {{ja: ..., en: ...}}")


def _anchor_of(pattern: re.Pattern[str]) -> Anchor | None:
    found = anchor(pattern.pattern)
    if found is None or not pattern.flags & re.IGNORECASE:
        return found
    return Anchor(frozenset(s.lower() for s in found.strings), found.leading, folded=True)


def _compile_entry(entry: Any, origin: str, strict: bool) -> tuple[str, Term | None]:
    if not isinstance(entry, dict):
        raise RuleDataError(f"{origin}: an entry must be a mapping with 'expected'")
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise RuleDataError(f"{origin}: unknown key(s) {sorted(unknown)}")
    expected = entry.get("expected")
    if not isinstance(expected, str) or not expected:
        raise RuleDataError(f"{origin}: 'expected' must be a non-empty string")
    origin = f"{origin} (expected {expected!r})"
    if entry.get("disabled"):
        return expected, None
    options = entry.get("options") or {}
    if not isinstance(options, dict) or set(options) - _OPTION_KEYS:
        raise RuleDataError(f"{origin}: options may only hold {sorted(_OPTION_KEYS)}")
    sources = _strings(entry.get("pattern"), "pattern", origin) + _strings(
        entry.get("patterns"), "patterns", origin
    )
    if not sources:
        sources = [expected]
    patterns = tuple(_compile(s, bool(options.get("wordBoundary")), origin) for s in sources)
    template = _js_template(expected)
    for p in patterns:
        refs = [int(r) for r in re.findall(r"\\g<(\d+)>", template)]
        if refs and max(refs) > p.groups:
            raise RuleDataError(f"{origin}: expected refers to group ${max(refs)}, {p.pattern!r}")
    must_empty = _must_empty(options.get("regexpMustEmpty"), origin)
    try:
        severity = Severity(entry.get("severity", "warning"))
    except ValueError:
        raise RuleDataError(f"{origin}: severity must be error, warning or info") from None
    kind = entry.get("kind", "general")
    if kind not in KINDS:
        raise RuleDataError(f"{origin}: kind must be one of {sorted(KINDS)}")
    note_ja, note_en = _note(entry.get("prh"), origin)
    anchors = tuple(_anchor_of(p) for p in patterns)
    term = Term(
        expected,
        patterns,
        anchors,
        template,
        template != expected,
        must_empty,
        severity,
        kind,
        note_ja,
        note_en,
        origin,
    )
    _run_specs(term, entry.get("specs"), origin, strict)
    return expected, term


def _must_empty(value: Any, origin: str) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"\$\d{1,2}", value):
        return int(value[1:])
    if isinstance(value, str) and value:
        return value  # a named group
    raise RuleDataError(f"{origin}: regexpMustEmpty must look like $1")


def _run_specs(term: Term, specs: Any, origin: str, strict: bool) -> None:
    """Apply the entry to each spec's ``from``; the result must be its ``to``."""
    if specs is None:
        specs = []
    if not isinstance(specs, list):
        raise RuleDataError(f"{origin}: specs must be a list of {{from, to}}")
    hits = misses = 0
    for spec in specs:
        if not isinstance(spec, dict) or not {"from", "to"} <= spec.keys():
            raise RuleDataError(f"{origin}: each spec needs 'from' and 'to'")
        source, wanted = _nfkc(str(spec["from"])), _nfkc(str(spec["to"]))
        got = _nfkc(term.apply(source))
        if got != wanted:
            raise RuleDataError(
                f"{origin}: spec fails: from {spec['from']!r} gives {got!r}, not {spec['to']!r}"
            )
        if source == wanted:
            misses += 1
        else:
            hits += 1
    if strict and (not hits or not misses):
        raise RuleDataError(
            f"{origin}: needs specs that change the text and specs that leave it alone"
        )


def _imports(value: Any, origin: str) -> Iterator[tuple[str, list[str]]]:
    for i, item in enumerate(value or []):
        if isinstance(item, str):
            yield item, []
        elif isinstance(item, dict) and isinstance(item.get("path"), str):
            ignore: list[str] = []
            for rule in item.get("ignoreRules") or []:
                if isinstance(rule, str):
                    ignore.append(rule)
                elif isinstance(rule, dict) and isinstance(rule.get("expected"), str):
                    ignore.append(rule["expected"])
                else:
                    raise RuleDataError(f"{origin}: imports[{i}].ignoreRules: strings only")
            yield item["path"], ignore
        else:
            raise RuleDataError(f"{origin}: imports[{i}] must be a path or {{path, ignoreRules}}")


def _merge(base: dict[str, Term | None], layer: dict[str, Term | None]) -> None:
    for expected, term in layer.items():
        base.pop(expected, None)
        base[expected] = term


def load_file(
    path: Path, *, strict: bool = False, _seen: tuple[Path, ...] = ()
) -> dict[str, Term | None]:
    """One dictionary file with its imports, in order; ``None`` marks a disabled entry."""
    path = path.resolve()
    if path in _seen:
        raise RuleDataError(f"{path}: imports itself (via {' -> '.join(map(str, _seen))})")
    data = load_yaml(path)
    if data is None:
        data = {}
    if not isinstance(data, dict) or set(data) - {"version", "imports", "rules"}:
        raise RuleDataError(f"{path}: expected a mapping with version, imports and rules")
    if data.get("version", 1) != 1:
        raise RuleDataError(f"{path}: only version 1 is supported")
    merged: dict[str, Term | None] = {}
    for rel, ignore in _imports(data.get("imports"), str(path)):
        imported = load_file(path.parent / rel, _seen=(*_seen, path))
        skipped = set(ignore)
        _merge(merged, {k: v for k, v in imported.items() if k not in skipped})
    own: dict[str, Term | None] = {}
    rules = data.get("rules") or []
    if not isinstance(rules, list):
        raise RuleDataError(f"{path}: rules must be a list")
    for i, entry in enumerate(rules):
        expected, term = _compile_entry(entry, f"{path}: rules[{i}]", strict)
        if expected in own:
            raise RuleDataError(f"{path}: rules[{i}]: {expected!r} is already defined in this file")
        own[expected] = term
    _merge(merged, own)
    return merged


@cache
def dictionary(extra: Path | None = None) -> Dictionary:
    """The starter dictionary, with the organisation's dictionary (if any) on top."""
    terms = dict(_starter())
    if extra is not None:
        _merge(terms, load_file(Path(extra)))
    return Dictionary(tuple(t for t in terms.values() if t is not None))


@cached_data(STARTER.name)
def _starter() -> dict[str, Term | None]:
    return load_file(STARTER, strict=True)


# ── the organisation's official names ────────────────────────────────────────────────────────
# Spelling variants a name is folded over: separators dropped, katakana read as hiragana, and
# these spellings of one word made one.
_SEPARATORS = frozenset("・･·•‧∙ \u3000")
_VARIANTS = (
    ("作り", "づくり"),
    ("ずくり", "づくり"),
    ("つくり", "づくり"),
    ("市立", "市"),
    ("舘", "館"),
)


# Separators dropped, katakana read as hiragana: one `str.translate`, not a loop over a draft.
_FOLD_TABLE: dict[int, int | None] = {
    **{code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)},
    **dict.fromkeys(map(ord, _SEPARATORS)),
}


# What _FOLD_TABLE changes: a text without any is its own fold.
_FOLDED = re.compile(f"[ァ-ヶ{re.escape(''.join(_SEPARATORS))}]")


def _translated(text: str) -> str:
    """``text`` without separators, its katakana as hiragana."""
    return text if _FOLDED.search(text) is None else text.translate(_FOLD_TABLE)


def _folded_text(text: str) -> str:
    """``_fold(text)[0]``, without finding where each character came from."""
    folded = _translated(text)
    for variant, common in _VARIANTS:
        folded = folded.replace(variant, common)
    return folded


def _fold(text: str) -> tuple[str, Sequence[int]]:
    """``text`` folded over spelling variants, and where in ``text`` each folded character is."""
    folded = _translated(text)
    origin: Sequence[int]
    if len(folded) == len(text):  # no separator: every character stays where it is
        origin = range(len(text))
    else:
        origin = [i for i, ch in enumerate(text) if ch not in _SEPARATORS]
    for variant, common in _VARIANTS:
        if variant not in folded:
            continue
        parts: list[str] = []
        kept: list[int] = []
        pos = 0
        while (i := folded.find(variant, pos)) >= 0:
            parts.append(folded[pos:i] + common)
            # The common spelling's characters point at the variant's first, its last at the last.
            j = i + len(variant)
            kept += origin[pos:i]
            kept += [origin[i]] * (len(common) - 1)
            kept.append(origin[j - 1])
            pos = j
        parts.append(folded[pos:])
        kept += origin[pos:]
        folded, origin = "".join(parts), kept
    return folded, origin


@cache
def _folded_names(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(name, folded name) of each official name, longest first."""
    unique = dict.fromkeys(_nfkc(n).strip() for n in names if n.strip())
    return tuple(sorted(((n, _fold(n)[0]) for n in unique), key=lambda p: -len(p[1])))


_OFFICIAL = Term(
    expected="",
    patterns=(),
    anchors=(),
    template="",
    references=False,
    must_empty=None,
    severity=Severity.WARNING,
    kind="official",
    note_ja="",
    note_en="",
    origin="app.yaml: official names",
)


def official_spans(text: str, names: tuple[str, ...]) -> tuple[Spans, list[Hit]]:
    """Where ``text`` (NFKC) writes an official name exactly, and where it writes one differently.

    A variant is the name with separators left out or added, in katakana for hiragana, or with
    作り/づくり or 市立/市 swapped (シティプロモーション課, 長寿ハツラツ課, みどり市博物館).
    """
    folded_names = _folded_names(names)
    if not folded_names:
        return Spans(()), []
    found: list[tuple[int, int]] = []
    for name, _ in folded_names:
        pos = 0
        while (i := text.find(name, pos)) >= 0:
            found.append((i, i + len(name)))
            pos = i + len(name)
    found.sort()
    starts = [s for s, _ in found]
    reach = list(accumulate((e for _, e in found), max))  # the furthest end of names so far
    folded_text = _folded_text(text)
    if not any(key in folded_text for _, key in folded_names):
        return Spans(found), []  # no name written in any way: where characters came from unneeded
    folded, origin = _fold(text)
    candidates: list[tuple[int, int, str]] = []
    for name, key in folded_names:
        pos = 0
        while (i := folded.find(key, pos)) >= 0:
            pos = i + len(key)
            start, end = origin[i], origin[pos - 1] + 1
            inside = bisect.bisect_right(starts, start) - 1  # the last name starting at or before
            if text[start:end] == name or (inside >= 0 and reach[inside] >= end):
                continue
            # The name written exactly, a variant's rest after it: another word (みどり市 +
            # 立図書館 of みどり市立図書館, a facility whose name is not listed).
            if not text.startswith(name, start):
                candidates.append((start, -end, name))
    variants: list[Hit] = []
    last_end = -1
    for start, neg_end, name in sorted(candidates):  # the longest name at each place wins
        if start >= last_end:
            variants.append(Hit(start, -neg_end, _OFFICIAL, name))
            last_end = -neg_end
    return Spans(found), variants


def check(ctx: CheckContext) -> Iterable[Finding]:
    text = ctx.text
    exact, variants = official_spans(text, ctx.settings.official_names)
    hits = dictionary(ctx.settings.terminology).find(text)
    hits = sorted(
        [h for h in hits if not exact.overlaps(h.start, h.end)] + variants,
        key=lambda h: (h.start, h.end),
    )
    if not hits:
        return ()
    guarded = protected_spans(text)
    quoted = quoted_spans(text)
    found: list[Finding] = []
    for hit in hits:
        if overlaps(guarded, hit.start, hit.end):
            continue
        if hit.term.kind in OWN_WRITING and quoted.overlaps(hit.start, hit.end):
            continue
        term = hit.term
        english = ctx.lang is Lang.EN
        note = term.note_en if english else term.note_ja
        found.append(
            ctx.finding(
                "terminology",
                term.severity,
                f"terminology.{term.kind}",
                hit.start,
                hit.end,
                suggestion=hit.fixed,
                expected=hit.fixed,
                note=(" " + note if english else note) if note else "",
            )
        )
    return found


RULE = Rule("terminology", check)
