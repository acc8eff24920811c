"""Typos: placeholders left in, doubled particles and words, unbalanced brackets, stray letters.

Manual §6 ② asks several people to check 誤字脱字 before a post goes out; these are the slips a
machine can see for certain. Placeholders (○○, 【要確認】, TODO) are errors: a post must never go
out with them. The rest are warnings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from workflows.checks.context import CheckContext, Rule
from workflows.checks.data import RuleDataError, cached_data, load_yaml
from workflows.checks.model import Finding, Severity
from workflows.checks.rules.terminology import Probe
from workflows.checks.text import NormalizedText, Spans, overlaps, protected_spans

DATA_FILE = "typo.yaml"


@dataclass(frozen=True, slots=True)
class Doubled:
    """Doubled particles (pair) and words; the legitimate contexts to ignore."""

    pair: re.Pattern[str]
    always: frozenset[str]
    ignore: re.Pattern[str] | None
    word: re.Pattern[str]
    phrases: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Brackets:
    """The bracket pairs, and the list markers and faces that close without opening."""

    closing: dict[str, str]  # opening -> closing
    opening: dict[str, str]  # closing -> opening
    any: re.Pattern[str]
    marker: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Letters:
    """Letters the input method left behind (おしらせs)."""

    pattern: re.Pattern[str]  # the character before the letters, and the letters
    not_after: frozenset[str]
    allow: frozenset[str]


@dataclass(frozen=True, slots=True)
class TypoData:
    """typo.yaml, compiled."""

    placeholders: tuple[tuple[re.Pattern[str], Probe], ...]
    doubled: Doubled
    punctuation: re.Pattern[str]
    brackets: Brackets
    letters: Letters


# A detector returns (start, end, detail) spans of the normalised text.
Span = tuple[int, int, str]


def _regex(source: Any, where: str) -> re.Pattern[str]:
    if not isinstance(source, str) or not source:
        raise RuleDataError(f"{DATA_FILE}: {where}: a pattern must be a non-empty string")
    try:
        return re.compile(source)
    except re.error as exc:
        raise RuleDataError(f"{DATA_FILE}: {where}: invalid pattern: {exc}") from exc


def _run_specs(specs: Any, where: str, detect: Callable[[str], Iterable[Span]]) -> None:
    """Each ``hit`` text must report exactly the listed words; ``miss`` texts nothing."""
    if (
        not isinstance(specs, dict)
        or not isinstance(specs.get("hit"), dict)
        or not isinstance(specs.get("miss"), list)
        or not specs["hit"]
        or not specs["miss"]
    ):
        raise RuleDataError(
            f"{DATA_FILE}: {where}: needs specs with both hit (text: words) and miss (texts)"
        )
    for text, wanted in specs["hit"].items():
        expected = [wanted] if isinstance(wanted, str) else list(wanted)
        got = _quotes(str(text), detect)
        if got != expected:
            raise RuleDataError(
                f"{DATA_FILE}: {where}: spec {text!r} should report {expected}, got {got}"
            )
    for text in specs["miss"]:
        got = _quotes(str(text), detect)
        if got:
            raise RuleDataError(f"{DATA_FILE}: {where}: spec {text!r} should pass, got {got}")


def _quotes(text: str, detect: Callable[[str], Iterable[Span]]) -> list[str]:
    norm = NormalizedText.of(text)
    out: list[str] = []
    for start, end, _ in sorted(detect(norm.text)):
        s, e = norm.span(start, end)
        out.append(text[s:e])
    return out


def _section(raw: dict[str, Any], name: str) -> dict[str, Any]:
    section = raw.get(name)
    if not isinstance(section, dict):
        raise RuleDataError(f"{DATA_FILE}: section {name!r} is missing or not a mapping")
    return section


def _load_placeholders(entries: list[Any]) -> tuple[tuple[re.Pattern[str], Probe], ...]:
    loaded: list[tuple[re.Pattern[str], Probe]] = []
    for i, entry in enumerate(entries):
        where = f"placeholders[{i}] ({entry.get('name')})"
        pattern = _regex(entry.get("pattern"), where)
        one = ((pattern, Probe.of(pattern)),)
        _run_specs(entry.get("specs"), where, partial(_placeholders, one))
        loaded.extend(one)
    return tuple(loaded)


def _load_doubled(section: dict[str, Any]) -> Doubled:
    ignore = [str(p) for p in section.get("ignore") or []]
    particles = re.escape(str(section.get("particles", "")))
    doubled = Doubled(
        pair=_regex(f"([{particles}])\\1", "doubled.particles"),
        always=frozenset(str(section.get("always", ""))),
        ignore=_regex("|".join(f"(?:{p})" for p in ignore), "doubled.ignore") if ignore else None,
        word=_regex(section.get("word"), "doubled.word"),
        phrases=_regex(section.get("phrases"), "doubled.phrases"),
    )
    _run_specs(section.get("specs"), "doubled", partial(_doubled, doubled))
    return doubled


def _load_punctuation(section: dict[str, Any]) -> re.Pattern[str]:
    punctuation = _regex(section.get("pattern"), "punctuation")
    _run_specs(section.get("specs"), "punctuation", partial(_matches, punctuation))
    return punctuation


def _load_brackets(section: dict[str, Any]) -> Brackets:
    pairs = [str(pair) for pair in section.get("pairs") or []]
    if not pairs or not all(len(pair) == 2 for pair in pairs):
        raise RuleDataError(f"{DATA_FILE}: brackets.pairs: a list of two-character pairs")
    brackets = Brackets(
        closing={pair[0]: pair[1] for pair in pairs},
        opening={pair[1]: pair[0] for pair in pairs},
        any=re.compile(f"[{re.escape(''.join(pairs))}]"),
        marker=_regex(section.get("marker"), "brackets.marker"),
    )
    _run_specs(section.get("specs"), "brackets", partial(_unbalanced, brackets))
    return brackets


def _load_letters(section: dict[str, Any]) -> Letters:
    letters = Letters(
        pattern=_regex(section.get("pattern"), "ime"),
        not_after=frozenset(str(section.get("not_after", ""))),
        allow=frozenset(str(w) for w in section.get("allow") or []),
    )
    _run_specs(section.get("specs"), "ime", partial(_stray_letters, letters))
    return letters


@cache
@cached_data(DATA_FILE)
def data() -> TypoData:
    """typo.yaml, compiled, its specs checked."""
    raw = load_yaml(DATA_FILE)
    if not isinstance(raw, dict) or not isinstance(raw.get("placeholders"), list):
        raise RuleDataError(f"{DATA_FILE}: expected a mapping with a list of placeholders")
    return TypoData(
        placeholders=_load_placeholders(raw["placeholders"]),
        doubled=_load_doubled(_section(raw, "doubled")),
        punctuation=_load_punctuation(_section(raw, "punctuation")),
        brackets=_load_brackets(_section(raw, "brackets")),
        letters=_load_letters(_section(raw, "ime")),
    )


def _matches(pattern: re.Pattern[str], text: str) -> Iterator[Span]:
    for m in pattern.finditer(text):
        if m.end() > m.start():
            yield m.start(), m.end(), m.group()


def _placeholders(checks: Iterable[tuple[re.Pattern[str], Probe]], text: str) -> list[Span]:
    """Placeholder spans of all entries; where two overlap (○月○日 and ○○) the longer wins."""
    spans = sorted(
        (m.start(), -m.end())
        for pattern, probe in checks
        if probe.may_match(text)
        for m in pattern.finditer(text)
        if m.end() > m.start()
    )
    kept: list[Span] = []
    for start, neg_end in spans:
        if not kept or start >= kept[-1][1]:
            kept.append((start, -neg_end, text[start:-neg_end]))
    return kept


def _doubled(d: Doubled, text: str) -> Iterator[Span]:
    """Doubled particles (detail: the particle) and words (detail: the word once)."""
    ignored: Spans | None = None
    for m in d.pair.finditer(text):
        start, end = m.span()
        ch = m.group(1)
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if ch in (before, after):
            continue  # ははは
        if ch not in d.always and "\u3041" <= after <= "\u3096":
            continue  # 市ののぼり旗: the second の starts a word
        if ignored is None:
            ignored = Spans(i.span() for i in d.ignore.finditer(text)) if d.ignore else Spans(())
        if not overlaps(ignored, start, end):
            yield start, end, ch
    for m in d.word.finditer(text):
        yield m.start(), m.end(), m.group(1)
    for m in d.phrases.finditer(text):
        yield m.start(), m.end(), m.group(1)


def _unbalanced(b: Brackets, text: str) -> Iterator[Span]:
    """Unpaired brackets (detail: "open" or "close" and the missing partner, e.g. "open」")."""
    stack: list[int] = []
    # For each opening bracket, the places in ``stack`` where it sits (innermost last), so that
    # finding the partner of a closing bracket never walks the stack.
    where: dict[str, list[int]] = {}
    markers: set[int] | None = None
    for m in b.any.finditer(text):
        i, ch = m.start(), m.group()
        if ch in b.closing:
            where.setdefault(ch, []).append(len(stack))
            stack.append(i)
            continue
        partner = b.opening[ch]
        if stack and text[stack[-1]] == partner:
            stack.pop()
            where[partner].pop()
            continue
        if where.get(partner):
            # 「会場（市民会館」: the （ inside was never closed; the 」 is fine.
            deepest = where[partner][-1]
            for at in stack[deepest + 1 :]:
                yield at, at + 1, "open" + b.closing[text[at]]
                where[text[at]].pop()
            where[partner].pop()
            del stack[deepest:]
            continue
        if i and _is_kaomoji(text[i - 1]):
            continue
        if markers is None:
            markers = {k.end() - 1 for k in b.marker.finditer(text)}
        if i not in markers:
            yield i, i + 1, "close" + partner
    for i in stack:
        yield i, i + 1, "open" + b.closing[text[i]]


def _is_kaomoji(ch: str) -> bool:
    """An ASCII symbol before a closing bracket: the end of a face like :) or ^^)."""
    return ch.isascii() and not ch.isalnum() and not ch.isspace() and ch not in "\"'"


def _stray_letters(d: Letters, text: str) -> Iterator[Span]:
    """Letters left by the input method; the span includes the character before them."""
    for m in d.pattern.finditer(text):
        written = m.group()
        if written[0] not in d.not_after and written[1:] not in d.allow:
            yield m.start(), m.end(), written[0]


def stray_letter_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the normalised ``text`` that the ime check reports (for the style family)."""
    return [(start, end) for start, end, _ in _stray_letters(data().letters, text)]


def _as_written(ctx: CheckContext, start: int, end: int, bracket: str) -> str:
    """``bracket`` in the width the drafter used for the bracket at [start, end)."""
    ostart, oend = ctx.norm.span(start, end)
    written = ctx.draft.text[ostart:oend]
    if written != ctx.text[start:end] and bracket.isascii():
        return chr(ord(bracket) + 0xFEE0)
    return bracket


def check(ctx: CheckContext) -> Iterable[Finding]:
    d = data()
    text = ctx.text
    guarded = protected_spans(text)
    found: list[Finding] = []
    for start, end, _ in _placeholders(d.placeholders, text):
        if not overlaps(guarded, start, end):
            found.append(
                ctx.finding("typo.placeholder", Severity.ERROR, "typo.placeholder", start, end)
            )
    for start, end, unit in _doubled(d.doubled, text):
        if not overlaps(guarded, start, end):
            key = "typo.doubled_particle" if len(unit) == 1 else "typo.doubled_word"
            found.append(
                ctx.finding(
                    "typo.doubled", Severity.WARNING, key, start, end, suggestion=unit, single=unit
                )
            )
    for start, end, written in _matches(d.punctuation, text):
        fixed = "。" if "。" in written else "、"
        found.append(
            ctx.finding(
                "typo.punctuation",
                Severity.WARNING,
                "typo.punctuation",
                start,
                end,
                suggestion=fixed,
            )
        )
    if d.brackets.any.search(text):
        for start, end, detail in _unbalanced(d.brackets, text):
            if overlaps(guarded, start, end):
                continue
            if ctx.full("typo.bracket"):
                ctx.over_limit("typo.bracket")  # counted, not spelled out
            else:
                kind, other = detail[:-1], detail[-1]
                found.append(
                    ctx.finding(
                        "typo.bracket",
                        Severity.WARNING,
                        f"typo.bracket_{kind}",
                        start,
                        end,
                        other=_as_written(ctx, start, end, other),
                    )
                )
    for start, end, kana in _stray_letters(d.letters, text):
        if overlaps(guarded, start, end):
            continue
        lstart, lend = ctx.norm.span(start + 1, end)
        found.append(
            ctx.finding(
                "typo.ime",
                Severity.WARNING,
                "typo.ime",
                start,
                end,
                suggestion=kana,
                letters=ctx.draft.text[lstart:lend],
            )
        )
    return found


RULE = Rule("typo", check)
