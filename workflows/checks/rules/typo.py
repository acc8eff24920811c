"""Typos: placeholders and notes left in, doubled particles and words, brackets, stray letters.

Manual §6 ② asks several people to check 誤字脱字 before a post goes out; these are the slips a
machine can see. Placeholders (○○課, xx日) and notes between the writers (【要確認】, ここに写真,
TODO) are errors: a post must never go out with them. Notes are judged by what they say, not
listed one by one: a bracket, a ※ remark, a short line or what follows a colon is a note when it
holds note vocabulary (確認中, 差し替え, 仮, 下書き…) and is not a sentence to residents. A sentence
addressed to a colleague (山田さんここ直して) is a warning, as is the rest.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

from workflows.catalogue import keys as message_keys
from workflows.checks import note_model
from workflows.checks.context import CheckContext, Rule
from workflows.checks.data import LazyPattern as Lazy
from workflows.checks.data import RuleDataError, cached_data, load_yaml
from workflows.checks.lexicon import consumes_one_of, first_chars, widths
from workflows.checks.model import Finding, Severity
from workflows.checks.rules.terminology import Probe
from workflows.checks.text import NormalizedText, Spans, overlaps, protected_spans, quoted_spans

DATA_FILE = "typo.yaml"
# Where the surnames a pattern names with SURNAME come from (see _with_surnames).
SURNAMES_FILE = "pii.yaml"
SURNAME = "(?&surname)"


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
class Leftover:
    """One placeholder or note entry: its pattern, what it is and how sure."""

    pattern: Lazy
    probe: Probe
    kind: str  # "placeholder" (fill it in) or "note" (do what it says, then delete it)
    severity: Severity
    message: str  # the message key: the kind's own (typo.note) unless the entry names another
    # Whether it reports inside a hashtag or a mention (#〇〇〇〇, @here), which other entries leave
    # alone as links.
    in_links: bool = False
    # Characters every match consumes one of (a class) and the widest match, when both are known
    # (see _scan): where those characters are rare, only the places just before them are tried.
    near: tuple[Lazy, int] | None = None

    @property
    def detail(self) -> str:
        detail = f"{self.kind}:{self.severity.value}:{self.message}"
        return detail + IN_LINKS if self.in_links else detail


@dataclass(frozen=True, slots=True)
class Segments:
    """Brackets, framed text, ※ remarks, colon values and short lines, judged by their content."""

    closing: dict[str, str]  # opening -> closing (a frame closes with its own mark)
    # An opening bracket or frame mark closed within ``longest`` characters on its line: the
    # regex skips, in C, the openings that hold no segment (a run of 【【【… costs no Python).
    opening: re.Pattern[str]
    longest: int
    note: Lazy
    bracketed: Lazy
    unless: Lazy
    polite: re.Pattern[str]
    slot: re.Pattern[str]
    slot_after: re.Pattern[str]
    to_fill: re.Pattern[str]  # 【氏名】【住所】を書いて: fields a resident fills in
    quoted: re.Pattern[str]
    quiz: re.Pattern[str]
    media: re.Pattern[str]  # slots no text can fill: a picture, a map
    link_slot: re.Pattern[str]  # a link named by what it leads to
    asks_residents: re.Pattern[str]  # a question to residents, not to a colleague
    slot_brackets: str  # openers whose content starts with a slot name: a slot
    # A warning about scams and the messages they send: the marks of a message it quotes
    # (「〇〇銀行です。〇月〇日までに…」といった) are the scammers' own, not blanks of the post.
    warns_of_scams: re.Pattern[str]
    quoted_message: re.Pattern[str]
    # An example of what residents write (記入例：申込日「令和9年○月○日」, 「〇〇（お子さんの
    # 名前）も一緒に参加」のようにご記入ください): the marks in its quotes are theirs to fill.
    fills_in: re.Pattern[str]
    questions: str  # openers in which a question mark makes a note


@dataclass(frozen=True, slots=True)
class TypoData:
    """typo.yaml, compiled."""

    placeholders: tuple[Leftover, ...]
    segments: Segments
    doubled: Doubled
    punctuation: re.Pattern[str]
    brackets: Brackets
    letters: Letters


# A detector returns (start, end, detail) spans of the normalised text.
Span = tuple[int, int, str]

# Answers of _is_note for one draft: (content, bracketed) -> note or not.
Memo = dict[tuple[str, bool], bool]
# A bracket kind that depends on where the bracket stands.
STANDING = "standing"
_UNKNOWN = "unknown"


@dataclass(slots=True)
class _Draft:
    """What the bracket judgements of one draft share: whether it is a quiz, the answers so far
    (its brackets often repeat: （土）, （日）)."""

    quiz: bool
    kinds: dict[tuple[str, str], str | None] = field(default_factory=dict)
    notes: Memo = field(default_factory=dict)


KINDS = ("placeholder", "note")
# The end of the detail of a span that may lie inside a hashtag or a mention.
IN_LINKS = ":links"
# Characters around a line or a remark that are decoration, not content (---ここまで---).
DECORATION = " \t-ー=~〜_・*※:"
# Mark runs that are decoration when they fill a line, frame a heading or point at what follows.
MARKS = frozenset(chr(c) for c in range(0x25A0, 0x2600)) | frozenset("〇×✕★☆*")
POINTERS = frozenset("▼▽▶▷►▸▹◀◁")
# Lines longer than this are prose, never a divider or a framed heading.
SHORT_LINE = 40


def _regex(source: Any, where: str) -> re.Pattern[str]:
    """A pattern, or a list of alternatives (one per line of the data, for reading).

    The alternatives are joined as they are (a|b then c is a|b|c): wrapped in groups, they would
    hide from ``re`` the characters every alternative starts with, which it skips to in C.
    """
    if isinstance(source, list) and source and all(isinstance(p, str) and p for p in source):
        source = "|".join(source)
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


def _probe(entry: dict[str, Any], pattern: re.Pattern[str], where: str) -> Probe:
    """The entry's ``needs`` (an expression that finds something in every match), else its
    anchors.

    ``needs`` is for patterns whose anchors are missing (a class, a part that ignores case) or
    too common (a 0): a draft without what it finds is not scanned at every position. Each hit
    spec must hold it. ``needs_any`` lists plain strings instead, one of which every match holds:
    looking for a string costs less than trying an expression at every position.
    """
    needs, strings = entry.get("needs"), entry.get("needs_any")
    if strings is not None:
        if needs is not None or not (
            isinstance(strings, list) and strings and all(isinstance(x, str) and x for x in strings)
        ):
            raise RuleDataError(
                f"{DATA_FILE}: {where}: needs_any is a list of strings, instead of needs"
            )
        probe = Probe(tuple(strings))
    elif needs is None:
        return Probe.of(pattern)
    else:
        probe = Probe((), needs=_regex(needs, f"{where}: needs").pattern)
    for text in (entry.get("specs") or {}).get("hit") or {}:
        spec = NormalizedText.of(str(text)).text
        if not probe.may_match(spec, set(spec)):
            raise RuleDataError(f"{DATA_FILE}: {where}: hit spec {text!r} lacks what it needs")
    return probe


def _near(pattern: re.Pattern[str], probe: Probe) -> tuple[Lazy, int] | None:
    """What a match always consumes one of, and how wide it is at most (see Leftover.near).

    The characters are what the probe looks for (its ``needs``, or the first characters of its
    anchors); they are used only when the expression shows that every match consumes one.
    """
    if probe.needs is not None:
        chars = first_chars(re.compile(probe.needs))
    else:
        chars = frozenset(s[0] for s in probe.strings) or None
    fewest, width = widths(pattern)
    # An empty match consumes nothing (and finditer goes on from it differently).
    if chars is None or width is None or fewest < 1 or not consumes_one_of(pattern, chars):
        return None
    return Lazy("[" + "".join(re.escape(ch) for ch in sorted(chars)) + "]"), width


def _with_surnames(source: Any, surnames: Callable[[], str]) -> Any:
    """``source`` with each SURNAME replaced by the alternation of pii's common surnames.

    An editor's stamp (（15:42 山田）) is told from a schedule (（9:00 受付）) by its name alone;
    the names are pii's list (pii.yaml, address.surnames), kept in one place. Python's re has no
    (?&name), so a pattern that names the list and is not expanded fails to compile.
    """
    if isinstance(source, list):
        return [_with_surnames(part, surnames) for part in source]
    if isinstance(source, str) and SURNAME in source:
        return source.replace(SURNAME, surnames())
    return source


@cache
def _surname_alternation() -> str:
    from workflows.checks.rules import pii  # noqa: PLC0415 - only when the data is built

    # Longest first, so that 佐々木 is not read as a shorter name; the class of first characters
    # before them turns most places away with one test instead of one per name.
    names = sorted(pii.data().address.surnames, key=lambda n: (-len(n), n))
    first = "".join(sorted({re.escape(n[0]) for n in names}))
    return f"(?=[{first}])(?:" + "|".join(re.escape(n) for n in names) + ")"


def _load_placeholders(entries: list[Any]) -> tuple[Leftover, ...]:
    loaded: list[Leftover] = []
    for i, entry in enumerate(entries):
        where = f"placeholders[{i}] ({entry.get('name')})"
        pattern = _regex(_with_surnames(entry.get("pattern"), _surname_alternation), where)
        kind = entry.get("kind", "placeholder")
        if kind not in KINDS:
            raise RuleDataError(f"{DATA_FILE}: {where}: kind must be one of {KINDS}")
        try:
            severity = Severity(entry.get("severity", "error"))
        except ValueError:
            raise RuleDataError(f"{DATA_FILE}: {where}: unknown severity") from None
        message = str(entry.get("message", f"typo.{kind}"))
        if message not in message_keys():
            raise RuleDataError(f"{DATA_FILE}: {where}: unknown message {message!r}")
        in_links = entry.get("in_links", False)
        if not isinstance(in_links, bool):
            raise RuleDataError(f"{DATA_FILE}: {where}: in_links must be true or false")
        probe = _probe(entry, pattern, where)
        leftover = Leftover(
            Lazy(pattern.pattern),
            probe,
            kind,
            severity,
            message,
            in_links,
            near=_near(pattern, probe),
        )
        one = (leftover,)
        _run_specs(entry.get("specs"), where, partial(_first_placeholders, one))
        loaded.extend(one)
    return tuple(loaded)


def _closed_within(opening: str, closing: str, longest: int) -> str:
    """``opening`` where ``closing`` follows within ``longest`` characters on the same line."""
    o, c = re.escape(opening), re.escape(closing)
    return f"{o}(?=[^{c}\\n]{{0,{longest}}}+{c})"


def _load_segments(section: dict[str, Any]) -> Segments:
    pairs = [str(pair) for pair in section.get("pairs") or []]
    if not pairs or not all(len(pair) == 2 for pair in pairs):
        raise RuleDataError(f"{DATA_FILE}: segments.pairs: a list of two-character pairs")
    longest = section.get("longest")
    if not isinstance(longest, int) or longest < 1:
        raise RuleDataError(f"{DATA_FILE}: segments.longest: a positive number of characters")

    def regex(name: str) -> re.Pattern[str]:
        return _regex(section.get(name), f"segments.{name}")

    def lazy(name: str) -> Lazy:
        return Lazy(regex(name).pattern)  # compiled once here to check it

    segments = Segments(
        closing={pair[0]: pair[1] for pair in pairs},
        opening=re.compile("|".join(_closed_within(pair[0], pair[1], longest) for pair in pairs)),
        longest=longest,
        note=lazy("note"),
        bracketed=lazy("bracketed"),
        unless=lazy("unless"),
        polite=regex("polite"),
        slot=regex("slot"),
        slot_after=regex("slot_after"),
        to_fill=regex("to_fill"),
        quoted=regex("quoted"),
        quiz=regex("quiz"),
        media=regex("media"),
        link_slot=regex("link_slot"),
        asks_residents=regex("asks_residents"),
        slot_brackets=str(section.get("slot_brackets", "")),
        warns_of_scams=regex("warns_of_scams"),
        quoted_message=regex("quoted_message"),
        fills_in=regex("fills_in"),
        questions=str(section.get("questions", "")),
    )
    _run_specs(section.get("specs"), "segments", partial(_segment_spans, segments))
    return segments


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
@cached_data(DATA_FILE, SURNAMES_FILE)
def data() -> TypoData:
    """typo.yaml, compiled, its specs checked."""
    raw = load_yaml(DATA_FILE)
    if not isinstance(raw, dict) or not isinstance(raw.get("placeholders"), list):
        raise RuleDataError(f"{DATA_FILE}: expected a mapping with a list of placeholders")
    return TypoData(
        placeholders=_load_placeholders(raw["placeholders"]),
        segments=_load_segments(_section(raw, "segments")),
        doubled=_load_doubled(_section(raw, "doubled")),
        punctuation=_load_punctuation(_section(raw, "punctuation")),
        brackets=_load_brackets(_section(raw, "brackets")),
        letters=_load_letters(_section(raw, "ime")),
    )


def _matches(pattern: re.Pattern[str], text: str) -> Iterator[Span]:
    for m in pattern.finditer(text):
        if m.end() > m.start():
            yield m.start(), m.end(), m.group()


def _placeholders(checks: Iterable[Leftover], text: str) -> list[Span]:
    """Spans of all entries (detail: the entry's kind, severity and message, see Leftover)."""
    found: list[Span] = []
    chars = set(text)
    for entry in checks:
        if not entry.probe.may_match(text, chars):
            continue
        detail = entry.detail
        for m in _scan(entry, text):
            start, end = m.span()
            if end > start and not (end - start > 1 and _decoration(text, start, end)):
                found.append((start, end, detail))
    return found


def _scan(entry: Leftover, text: str) -> Iterator[re.Match[str]]:
    """``entry.pattern.finditer(text)``: the same matches, found with fewer tries where the
    characters every match consumes one of (``entry.near``) are rare in the text.

    A match consumes one of them and is at most ``width`` long, so it starts at most ``width - 1``
    characters before one: only those places can start one. Tried left to right, each from the
    end of the last match, as finditer tries them (no match is empty, see _near), the first that
    matches is the match finditer finds next.
    """
    if entry.near is None:
        return entry.pattern.finditer(text)
    needed, width = entry.near
    # Past this many of them, one pass of the expression over the text costs less.
    most = len(text) // (width * _TRIES_PER_CHARACTER)
    places: list[int] = []
    for m in needed.finditer(text):
        if len(places) >= most:
            return entry.pattern.finditer(text)
        places.append(m.start())
    return _scan_near(entry.pattern, text, places, width)


# A try at one place costs about this many characters of a pass of the expression.
_TRIES_PER_CHARACTER = 16


def _scan_near(pattern: Lazy, text: str, places: list[int], width: int) -> Iterator[re.Match[str]]:
    untried = 0  # the first place not tried yet, and not inside the last match
    for place in places:
        at = max(untried, place - width + 1)
        while at <= place:
            m = pattern.match(text, at)
            if m is None:
                at += 1
            else:
                yield m
                at = m.end()
        untried = max(untried, at)


def _first_placeholders(checks: Iterable[Leftover], text: str) -> list[Span]:
    return _first_longest(_placeholders(checks, text))


def _first_longest(spans: Iterable[Span]) -> list[Span]:
    """Where two spans overlap (○月○日 and ○○, 【要確認】 and 要確認) the earlier, longer wins."""
    kept: list[Span] = []
    for start, end, detail in sorted(spans, key=lambda s: (s[0], -s[1])):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end, detail))
    return kept


def _around(text: str, start: int, end: int) -> tuple[str, str] | None:
    """The rest of the line before and after [start, end); None for a long line.

    Only a short window is read, so that a line of many runs costs no more than a short one.
    """
    low, high = max(0, start - SHORT_LINE), end + SHORT_LINE
    before, after = text[low:start], text[end:high]
    cut_before, cut_after = before.rfind("\n"), after.find("\n")
    if (cut_before < 0 < low) or (cut_after < 0 and high < len(text)):
        return None
    return before[cut_before + 1 :], after if cut_after < 0 else after[:cut_after]


def _decoration(text: str, start: int, end: int) -> bool:
    """A run of marks that fills its line, frames a heading (◆◆◆ 催し ◆◆◆) or points (▼▼▼)."""
    if not set(text[start:end]) <= MARKS:
        return False
    if text[start] in POINTERS:
        return True  # こちら▼▼▼, ▶▶詳しくは: arrows, never a value
    around = _around(text, start, end)
    if around is None:
        return False
    before, after = around
    line = (before + text[start:end] + after).strip()
    framed = line[0] == line[-1] and line[0] in MARKS and len(line) > 2 * (end - start)
    return set(line) <= MARKS | {" "} or framed


def _segment_spans(s: Segments, text: str) -> list[Span]:
    """Notes and slots found by what a segment holds (detail as for _placeholders)."""
    return _layered(
        _brackets(s, text), _notes(s, text, _remarks(s, text)), _notes(s, text, _lines(s, text))
    )


def _brackets(s: Segments, text: str) -> list[Span]:
    found: list[Span] = []
    draft = _Draft(quiz=bool(s.quiz.search(text)))
    for m in s.opening.finditer(text):
        start = m.start()
        close = text.find(s.closing[m.group()], start + 1)
        if kind := _bracket(s, text, start, close, draft):
            found.append((start, close + 1, f"{kind}:error"))
    return found


def _notes(s: Segments, text: str, segments: Iterable[tuple[int, int]]) -> list[Span]:
    memo: Memo = {}
    return [
        (start, end, "note:error")
        for start, end in segments
        if _is_note(s, text[start:end], bracketed=False, memo=memo)
    ]


def _bracket(s: Segments, text: str, start: int, close: int, draft: _Draft) -> str | None:
    """What the segment text[start:close+1] is: "note", "placeholder" or None."""
    opener = text[start]
    if opener in "「『" and s.quoted.match(text, close + 1):
        return None  # 「確認中」と表示されたら: a term being quoted
    key = (opener, text[start + 1 : close])
    if (kind := draft.kinds.get(key, _UNKNOWN)) is _UNKNOWN:
        kind = draft.kinds[key] = _bracket_kind(s, opener, key[1], draft)
    if kind != STANDING:
        return kind
    colon = text[max(0, start - 3) : start].rstrip(" ").endswith(":")
    if colon:
        return "placeholder"
    if _on_its_own_line(text, start, close):
        return None  # 【日時】 over its value on the next line: a heading
    if text[start - 1 : start] == text[close] or text[close + 1 : close + 2] == opener:
        return None  # 【作品】【氏名】【住所】: a list of the fields of a form
    if s.to_fill.match(text, close + 1):
        return None  # はがきに【電話番号】を書いて: what a resident writes
    return "placeholder" if s.slot_after.match(text, close + 1) else None


def _on_its_own_line(text: str, start: int, close: int) -> bool:
    """Whether the segment text[start:close+1] is all its line holds (spaces and marks aside)."""
    around = _around(text, start, close + 1)
    return around is not None and not around[0].strip(DECORATION) and not around[1].strip()


def _bracket_kind(s: Segments, opener: str, inside: str, draft: _Draft) -> str | None:
    """What a bracket holding ``inside`` is wherever it stands, or STANDING: a slot name that is a
    placeholder where it stands for a value (after a colon, inside a sentence)."""
    frame = s.closing[opener] == opener
    if not inside.strip():  # 会場：（　）, unless it is a blank of a quiz
        return None if frame or draft.quiz else "placeholder"
    if not frame and inside.rstrip().endswith(":"):
        return "placeholder"  # （担当：　）: a label with its value still to come
    content = inside.strip(DECORATION)
    if not content:
        return None
    # Quotation marks hold speech, where plain forms (「増やしてほしい」) are natural.
    bracketed = not frame and opener not in "「『"
    if _is_note(s, content, bracketed=bracketed, memo=draft.notes):
        return "note"
    if frame:  # ★写真★: a picture still to come
        return "placeholder" if s.media.fullmatch(content) else None
    if (
        opener in s.questions
        and "?" in content
        and not (draft.quiz or s.asks_residents.search(content))
    ):
        return "note"  # （正面玄関前？）: a doubt left for a colleague
    if opener in s.slot_brackets:
        # ＜写真＞ and [画像: 外観] anywhere, ＜担当課＞ where it stands for a value;
        # ＜提出期限＞６月３０日 is a label.
        if s.media.match(content):
            return "placeholder"
        return STANDING if s.slot.search(content) else None
    # A picture named after a description (講座の様子（写真）) is a caption, not a slot.
    slot = s.slot.fullmatch(content) and not s.media.fullmatch(content)
    # 会場：【会場名】, （URL）から
    return STANDING if slot or s.link_slot.search(content) else None


def _remarks(s: Segments, text: str) -> Iterator[tuple[int, int]]:
    """※ remarks and colon values up to the end of their clause: (start, end) of the content."""
    for m in _REMARK.finditer(text):
        start = m.end()
        stop = _CLAUSE_END.search(text, start, start + s.longest + 1)
        end = min(len(text), start + s.longest + 1) if stop is None else stop.start()
        if 0 < end - start <= s.longest and not (m.group() == ":" and _after_digit(text, m)):
            yield _trimmed(text, start, end)


def _lines(s: Segments, text: str) -> Iterator[tuple[int, int]]:
    """Short lines: (start, end) of their content."""
    line_start = 0
    for line in text.split("\n"):
        end = line_start + len(line)
        if len(line) <= s.longest * 2:
            start, stop = _trimmed(text, line_start, end)
            if 0 < stop - start <= s.longest:
                yield start, stop
        line_start = end + 1


_REMARK = re.compile("[※:]")
_CLAUSE_END = re.compile("[。\n※]")


def _after_digit(text: str, m: re.Match[str]) -> bool:
    return m.start() > 0 and text[m.start() - 1].isdigit()  # 10:00 is a time


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) without the decoration around it."""
    while start < end and text[start] in DECORATION:
        start += 1
    while end > start and text[end - 1] in DECORATION:
        end -= 1
    return start, end


def _is_note(s: Segments, content: str, *, bracketed: bool, memo: Memo | None = None) -> bool:
    """Whether a segment's content is a note: note vocabulary, and not information or a sentence.

    ``memo`` keeps the answers for one draft, whose brackets often repeat (（土）, （日）).
    """
    if memo is None:
        return _judge(s, content, bracketed=bracketed)
    key = (content, bracketed)
    if (known := memo.get(key)) is None:
        known = memo[key] = _judge(s, content, bracketed=bracketed)
    return known


def _judge(s: Segments, content: str, *, bracketed: bool) -> bool:
    content = content.strip(DECORATION).rstrip("!")  # （日付確認！）
    if not content or s.polite.search(content):
        return False
    # Vocabulary inside a word of information (仮 in 仮設, 確認 in 本人確認) does not count.
    shared = [m.span() for m in s.unless.finditer(content)]
    patterns = (s.note, s.bracketed) if bracketed else (s.note,)
    return any(
        not overlaps(shared, *m.span()) for pattern in patterns for m in pattern.finditer(content)
    )


def _leftovers(d: TypoData, text: str) -> list[Span]:
    """Placeholders and notes of the entries and the segments; in a quiz, its ○○ are blanks.

    The most precise span wins: a bracket over the remark or line that holds it, which would
    quote more than the note itself.
    """
    s = d.segments
    precise = _placeholders(d.placeholders, text) + _brackets(s, text)
    if s.quiz.search(text):
        precise = [span for span in precise if not set(text[span[0] : span[1]]) <= MARKS]
    quoted: list[tuple[int, int]] = []
    if s.warns_of_scams.search(text):
        quoted += Spans(m.span() for m in s.quoted_message.finditer(text))
    if s.fills_in.search(text):
        quoted += quoted_spans(text)
    if quoted:
        quoted = list(Spans(quoted))
        precise = [
            span
            for span in precise
            if not (span[2].startswith("placeholder:") and _inside(quoted, span[0], span[1]))
        ]
    return _layered(precise, _notes(s, text, _remarks(s, text)), _notes(s, text, _lines(s, text)))


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) lies within one of ``spans`` (sorted, merged)."""
    i = bisect.bisect_right(spans, start, key=lambda span: span[0]) - 1
    return i >= 0 and spans[i][0] <= start and end <= spans[i][1]


def _layered(*layers: list[Span]) -> list[Span]:
    """The spans of each layer that overlap none of the layers before it."""
    kept: list[Span] = []
    for layer in layers:
        if not layer:
            continue
        if kept:
            taken = Spans((start, end) for start, end, _ in kept)
            free = [span for span in layer if not overlaps(taken, span[0], span[1])]
            kept = sorted(kept + _first_longest(free))
        else:
            kept = _first_longest(layer)
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
    where: dict[str, list[int]] = {ch: [] for ch in b.closing}
    unclosed = {ch: "open" + closing for ch, closing in b.closing.items()}
    markers: set[int] | None = None
    for m in b.any.finditer(text):
        i = m.start()
        ch = text[i]
        if ch in where:  # an opening bracket
            where[ch].append(len(stack))
            stack.append(i)
            continue
        partner = b.opening[ch]
        if stack and text[stack[-1]] == partner:
            stack.pop()
            where[partner].pop()
            continue
        if where[partner]:
            # 「会場（市民会館」: the （ inside was never closed; the 」 is fine.
            deepest = where[partner][-1]
            for at in stack[deepest + 1 :]:
                yield at, at + 1, unclosed[text[at]]
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
        yield i, i + 1, unclosed[text[i]]


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


def _finding_of(detail: str) -> tuple[str, Severity, str]:
    """A leftover span's detail ("note:error", "placeholder:warning:typo.undecided",
    "placeholder:error:typo.hashtag_slot:links") -> the rule, the severity and the message key of
    its finding (the rule's own unless the detail names one)."""
    kind, level, *message = detail.split(":")
    rule = f"typo.{kind}"
    return rule, Severity(level), message[0] if message else rule


def check(ctx: CheckContext) -> Iterable[Finding]:
    d = data()
    text = ctx.text
    guarded = protected_spans(text)
    found: list[Finding] = []
    for start, end, detail in _leftovers(d, text):
        if overlaps(guarded, start, end) and not detail.endswith(IN_LINKS):
            continue
        rule, severity, message = _finding_of(detail)
        if ctx.full(rule):
            ctx.over_limit(rule)  # counted, not spelled out
        else:
            found.append(ctx.finding(rule, severity, message, start, end))
    # The note model's second opinion on the lines the rules above left alone.
    found.extend(note_model.findings(ctx, found))
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
            if guarded and overlaps(guarded, start, end):
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
