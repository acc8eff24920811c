"""Style: mixed です・ます / だ・である, half-width kana, mixed character widths, too many ！.

Width is a property of what the drafter typed, so those checks read the original text
(``ctx.draft.text``), not the NFKC form the other checks match against.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cache

from workflows.checks.context import CheckContext, Rule
from workflows.checks.data import RuleDataError, cached_data, load_yaml
from workflows.checks.model import Finding, Severity
from workflows.checks.rules.typo import stray_letter_spans
from workflows.checks.text import Spans, overlaps, protected_spans

DATA_FILE = "style.yaml"
# Enough of a sentence's end for any ending pattern (ませんでした, ではなかった): the patterns are
# anchored at the end, and searching only the tail keeps long sentences cheap.
_TAIL = 12


class Form(Enum):
    """How a sentence ends: です・ます, だ・である, or neither (体言止め, particles, greetings)."""

    POLITE = "polite"
    PLAIN = "plain"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class StyleData:
    """style.yaml, compiled."""

    polite: re.Pattern[str]
    plain_strong: re.Pattern[str]
    neutral: re.Pattern[str]
    plain: re.Pattern[str]
    list_line: re.Pattern[str]
    exclamation_limit: int

    def form(self, sentence: str, *, full_stop: bool = True) -> Form:
        """The form of a sentence's ending; plain endings count only before 。."""
        sentence = sentence[-_TAIL:]
        if self.polite.search(sentence):
            return Form.POLITE
        if not full_stop:
            return Form.NONE
        if self.plain_strong.search(sentence):
            return Form.PLAIN
        if self.neutral.search(sentence):
            return Form.NONE
        return Form.PLAIN if self.plain.search(sentence) else Form.NONE


def _regex(source: object, where: str) -> re.Pattern[str]:
    if not isinstance(source, str) or not source:
        raise RuleDataError(f"{DATA_FILE}: {where}: a pattern must be a non-empty string")
    try:
        return re.compile(source)
    except re.error as exc:
        raise RuleDataError(f"{DATA_FILE}: {where}: invalid pattern: {exc}") from exc


@cache
@cached_data(DATA_FILE)
def data() -> StyleData:
    """style.yaml, compiled, its specs checked."""
    raw = load_yaml(DATA_FILE)
    try:
        endings = raw["endings"]
        loaded = StyleData(
            polite=_regex(endings["polite"], "endings.polite"),
            plain_strong=_regex(endings["plain_strong"], "endings.plain_strong"),
            neutral=_regex(endings["neutral"], "endings.neutral"),
            plain=_regex(endings["plain"], "endings.plain"),
            list_line=re.compile(_regex(raw["list_line"], "list_line").pattern, re.MULTILINE),
            exclamation_limit=int(raw["exclamation_limit"]),
        )
        specs = endings["specs"]
    except (KeyError, TypeError, ValueError) as exc:
        raise RuleDataError(f"{DATA_FILE}: missing or malformed entry: {exc}") from None
    forms = {f.value for f in Form}
    seen = set()
    for spec in specs:
        text, wanted = str(spec.get("text")), spec.get("form")
        if wanted not in forms:
            raise RuleDataError(f"{DATA_FILE}: endings.specs {text!r}: form must be one of {forms}")
        got = loaded.form(unicodedata.normalize("NFKC", text)).value
        if got != wanted:
            raise RuleDataError(f"{DATA_FILE}: endings.specs {text!r}: is {got}, not {wanted}")
        seen.add(wanted)
    if seen != forms:
        raise RuleDataError(f"{DATA_FILE}: endings.specs must have examples of each form")
    return loaded


_OPENING = frozenset('「『(【〔“"')
_CLOSING = frozenset("」』)】〕”")
_MARKS = re.compile('[「『(【〔“"」』)】〕”。!?\n]')
# Trailing marks that don't change a sentence's form: ですー, します♪, しました😊, ね〜.
_TRAILING_KINDS = frozenset({"Zs", "So", "Sk", "Sm", "Cf", "Mn"})
_TRAILING = frozenset(" \t\u3000〜~ー-…‥・♪")
_PREDICATE = re.compile(r"[\u3400-\u9fff々\u30a1-\u30fa\u30fc]*[\u3041-\u3096]+$")


def _trim(text: str, start: int, end: int) -> int:
    """The end of ``text[start:end]`` without trailing spaces, emoji and marks."""
    while end > start and (
        text[end - 1] in _TRAILING or unicodedata.category(text[end - 1]) in _TRAILING_KINDS
    ):
        end -= 1
    return end


def sentences(text: str, list_line: re.Pattern[str]) -> Iterator[tuple[int, int, bool]]:
    """(start, end, ended by 。) of each sentence outside brackets and list lines."""
    depth, start = 0, 0
    listed = list_line.match(text) is not None
    for m in _MARKS.finditer(text + "\n"):
        i, ch = m.start(), m.group()
        if ch == "\n":
            if not listed and depth == 0 and text[start:i].strip():
                yield start, i, False
            depth, start = 0, i + 1
            listed = list_line.match(text, start) is not None
        elif listed:
            continue
        elif ch in _OPENING and not (ch == '"' and depth):
            depth += 1
        elif ch in _CLOSING or ch == '"':
            depth = max(depth - 1, 0)
        elif depth == 0:  # 。 ! ?
            if i > start:
                yield start, i, ch == "。"
            start = i + 1


def _mixed_forms(ctx: CheckContext, d: StyleData) -> Iterator[Finding]:
    text = ctx.text
    if "。" not in text:
        return  # plain endings count only before 。, so there is nothing to mix
    found: dict[Form, list[tuple[int, int]]] = {Form.POLITE: [], Form.PLAIN: []}
    for start, stop, full_stop in sentences(text, d.list_line):
        end = _trim(text, start, stop)
        if end <= start:
            continue
        form = d.form(text[max(start, end - _TAIL) : end], full_stop=full_stop)
        if form is Form.NONE:
            continue
        m = _PREDICATE.search(text, max(start, end - 16), end)
        found[form].append((m.start() if m else end - 1, end))
    polite, plain = found[Form.POLITE], found[Form.PLAIN]
    if not polite or not plain:
        return
    # The minority is the slip; with as many of each, the plain ones (SNS posts are polite).
    if len(plain) <= len(polite):
        minority, key = plain, "style.mixed_plain"
    else:
        minority, key = polite, "style.mixed_polite"
    for start, end in minority:
        yield ctx.finding(
            "style.mixed-endings",
            Severity.WARNING,
            key,
            start,
            end,
            polite=len(polite),
            plain=len(plain),
        )


_HALF_KANA = re.compile(r"[\uff61-\uff9f]+")
# Any full-width digit or letter, or half-width kana: without one, no width check can fire.
_ODD_WIDTH = re.compile(r"[０-９Ａ-Ｚａ-ｚ\uff61-\uff9f]")
_CLASSES = (
    ("digits", re.compile(r"[0-9]+"), re.compile(r"[０-９]+")),
    ("letters", re.compile(r"[A-Za-z]+"), re.compile(r"[Ａ-Ｚａ-ｚ]+")),
)


def _to_full(run: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in run)


def _original_guarded(ctx: CheckContext) -> Spans:
    return Spans(ctx.norm.span(s, e) for s, e in protected_spans(ctx.text))


def _widths(ctx: CheckContext) -> Iterator[Finding]:
    original = ctx.draft.text
    if original.isascii() or not _ODD_WIDTH.search(original):
        return
    guarded = _original_guarded(ctx)
    for m in _HALF_KANA.finditer(original):
        if overlaps(guarded, m.start(), m.end()) or ctx.over_limit("style.halfwidth-kana"):
            continue
        fixed = unicodedata.normalize("NFKC", m.group())
        yield Finding(
            "style.halfwidth-kana",
            Severity.WARNING,
            ctx.t("style.halfwidth_kana", quote=m.group(), expected=fixed),
            m.start(),
            m.end(),
            fixed,
        )
    for name, half_re, full_re in _CLASSES:
        full = [m for m in full_re.finditer(original) if not overlaps(guarded, *m.span())]
        if full and name == "letters":
            # A full-width letter left by the input method (ですｋ) is the typo family's finding.
            strays = Spans(ctx.norm.span(s, e) for s, e in stray_letter_spans(ctx.text))
            full = [m for m in full if not overlaps(strays, *m.span())]
        if not full:
            continue
        half = [m for m in half_re.finditer(original) if not overlaps(guarded, *m.span())]
        if not half:
            continue
        if (
            name == "digits"
            and all(len(m.group()) == 1 for m in full)
            and all(len(m.group()) > 1 for m in half)
        ):
            continue  # the common rule "one digit full-width, two or more half-width"
        # The minority is the slip; with as many of each, full-width (X counts it double).
        minority, side = (full, "full") if len(full) <= len(half) else (half, "half")
        for m in minority:
            if ctx.over_limit("style.mixed-width"):
                break
            written = m.group()
            fixed = unicodedata.normalize("NFKC", written) if side == "full" else _to_full(written)
            yield Finding(
                "style.mixed-width",
                Severity.WARNING,
                ctx.t(f"style.width_{name}_{side}", quote=written, expected=fixed),
                m.start(),
                m.end(),
                fixed,
            )


def _exclamations(ctx: CheckContext, limit: int) -> Iterator[Finding]:
    text = ctx.text
    if text.count("!") <= limit:
        return
    guarded = protected_spans(text)
    marks = [i for i, ch in enumerate(text) if ch == "!" and not overlaps(guarded, i, i + 1)]
    if len(marks) > limit:
        at = marks[limit]
        yield ctx.finding(
            "style.exclamation",
            Severity.INFO,
            "style.exclamation",
            at,
            at + 1,
            count=len(marks),
            limit=limit,
        )


def check(ctx: CheckContext) -> Iterable[Finding]:
    d = data()
    return [*_mixed_forms(ctx, d), *_widths(ctx), *_exclamations(ctx, d.exclamation_limit)]


RULE = Rule("style", check)
