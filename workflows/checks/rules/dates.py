"""Dates: wrong weekdays and holiday marks, dates that do not exist, dates already past.

Rule ids: ``date-weekday`` (the written weekday is wrong), ``date-weekday.holiday`` ((祝) on a
day that is no national holiday), ``date-weekday.rest-day`` and ``date-weekday.holiday-unmarked``
(information only), ``date-invalid`` (2月30日, 13月, 平成32年) and ``date-past`` (a date before
the publish day, unless the draft reports what already happened). Dates are found by
workflows/japanese_dates.py; the words that show a past date is meant are in dates.yaml.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from workflows.calendar import BusinessCalendar
from workflows.checks.context import OMITTED, CheckContext, Rule
from workflows.checks.data import RULES_DIR, RuleDataError, cached_data, load_yaml
from workflows.checks.lexicon import first_chars, reach
from workflows.checks.model import DraftToCheck, Finding, Severity
from workflows.checks.settings import CheckSettings
from workflows.checks.text import NormalizedText
from workflows.japanese_dates import (
    WEEKDAY_CHARS,
    YEARLESS_LOOKBACK,
    DateExpression,
    DatePart,
    DateStyle,
    Era,
    HolidayMark,
    Problem,
    ResolvedDate,
    era_span,
    find_dates,
    resolve,
)

WEEKDAY = "date-weekday"
HOLIDAY = "date-weekday.holiday"
REST_DAY = "date-weekday.rest-day"
HOLIDAY_UNMARKED = "date-weekday.holiday-unmarked"
INVALID = "date-invalid"
PAST = "date-past"

DATA_FILE = RULES_DIR / "dates.yaml"
# A date written with its year this long ago is history (震災の日, 開館日), not a stale post: a
# reused post of last year's event is less than this old.
_HISTORY = timedelta(days=400)
_EXAMPLE_AT = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
_ERA_LETTERS = {Era.REIWA: "R", Era.HEISEI: "H", Era.SHOWA: "S"}
_ENGLISH_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_ENGLISH_LONG = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_SENTENCE_ENDS = "。!?\n"
# How far around a date its sentence is looked for: real sentences are shorter, and a bound
# keeps a megabyte without punctuation linear.
_REACH = 200
_SENTENCE_END = re.compile(f"[{_SENTENCE_ENDS}]")
# A sentence with none of these is a heading ("11月3日(火) 市民まつり"): read the next one too.
_PREDICATE = re.compile(r"ます|です|ました|でした|ません|ください|しょう|。")
_PERIOD_START = re.compile(r"[ \u3000]*(?:から|より)")
_SPACES = re.compile(r"[ \u3000]*")


@dataclass(frozen=True, slots=True)
class _Cue:
    """A group of cues, asked only whether one occurs (in a stretch of the text around a date).

    A cue is looked for around every date in the past, in up to 400 characters. ``regex`` starts
    with the characters a cue can start with, so that ``re`` skips, in C, the places where none
    can. A draft that asks many times (thousands of dates in the past) has its cues found once
    (``starts``): a stretch then holds one if one starts in it far enough from its end that the
    end changes nothing (``reach``), else the rest of the stretch is searched. And a draft
    without any character a cue can start with (``first``) is not searched at all.
    """

    regex: re.Pattern[str]
    starts: re.Pattern[str]  # an empty match where a cue starts
    reach: int | None  # how far past its start a cue reads (None: not bounded)
    first: re.Pattern[str] | None  # one character a cue can start with (None: any)

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        if not _around(text).may_hold(self):
            return None
        return self.regex.search(text, pos, endpos)

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        if not _around(text).may_hold(self):
            return None
        return self.regex.match(text, pos)

    def within(self, text: str, pos: int, endpos: int) -> bool:
        """Whether a cue occurs in text[pos:endpos] (as ``search(text, pos, endpos)`` finds)."""
        around = _around(text)
        if not around.may_hold(self):
            return False
        found = around.occurrences
        # By identity: the cues are made once, and hashing a compiled expression is not cheap.
        if (mine := found.get(id(self))) is None:
            mine = found[id(self)] = _Occurrences(self, text)
        return mine.within(pos, endpos)


class _Occurrences:
    """Where one group of cues occurs in one draft, found once it has been asked often."""

    __slots__ = ("_asked", "_cue", "_places", "_text")

    def __init__(self, cue: _Cue, text: str) -> None:
        self._cue, self._text = cue, text
        self._asked = 0
        self._places: list[int] | None = None

    def within(self, pos: int, endpos: int) -> bool:
        cue = self._cue
        if cue.reach is not None and self._asked >= _ASKED_BEFORE_FINDING_ALL:
            if self._places is None:
                self._places = [m.start() for m in cue.starts.finditer(self._text)]
            # A cue that starts here reads nothing near the end of the stretch: as it is found
            # in the whole text, so it is in the stretch.
            inner = endpos - cue.reach - 2
            i = bisect_left(self._places, pos)
            if i < len(self._places) and self._places[i] < inner:
                return True
            pos = max(pos, inner)
        else:
            self._asked += 1
        return cue.regex.search(self._text, pos, endpos) is not None


# Searches of one group of cues in a draft before all its places are found at once.
_ASKED_BEFORE_FINDING_ALL = 32


@dataclass(frozen=True, slots=True)
class _Cues:
    past: _Cue
    ongoing: _Cue
    reference: _Cue
    before: _Cue
    label: _Cue
    report: _Cue


# --- where each group of cues is looked for -------------------------------------------------


class _Around:
    """What the looks around the dates of one draft share, found once per draft (each date in
    the past asks): where its sentences end, where each group of cues occurs and whether it can
    occur at all (by its id)."""

    __slots__ = ("ends", "occurrences", "present", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.ends = [m.start() for m in _SENTENCE_END.finditer(text)]
        self.occurrences: dict[int, _Occurrences] = {}
        self.present: dict[int, bool] = {}

    def may_hold(self, cue: _Cue) -> bool:
        """Whether a cue can occur anywhere in the draft, even in a stretch that ends early (as
        ``search(text, pos, endpos)`` reads it): every match consumes the character it starts
        with, so none occurs where none of those is in the draft."""
        if cue.first is None:
            return True
        if (known := self.present.get(id(cue))) is None:
            known = self.present[id(cue)] = cue.first.search(self.text) is not None
        return known


@lru_cache(maxsize=4)
def _around(text: str) -> _Around:
    return _Around(text)


def _end_from(text: str, pos: int, limit: int) -> int | None:
    """Just past the first sentence end in [pos, limit), if any."""
    ends = _around(text).ends
    i = bisect_left(ends, pos)
    return ends[i] + 1 if i < len(ends) and ends[i] < limit else None


def _after_scope(text: str, end: int) -> tuple[int, int]:
    """The rest of the sentence after ``end``; with the next sentence when this one is a heading."""
    limit = end + _REACH
    found = _end_from(text, end, limit)
    stop = found if found is not None else min(len(text), limit)
    if found is not None and not _PREDICATE.search(text, end, stop):
        nxt = _end_from(text, stop, stop + _REACH)
        stop = nxt if nxt is not None else min(len(text), stop + _REACH)
    return end, stop


def _in_sentence(cue: _Cue, text: str, start: int, end: int) -> bool:
    """Whether ``cue`` occurs in the sentence of the date at [start, end), before or after it."""
    around = _around(text)
    if not around.may_hold(cue):
        return False  # decided before any stretch is worked out
    floor = max(0, start - _REACH)
    ends = around.ends
    i = bisect_left(ends, start) - 1  # the last sentence end before the date
    begin = max(floor, ends[i] + 1) if i >= 0 else floor
    # Up to the date's first character, so that "$" in a cue cannot match right before it.
    return cue.within(text, begin, start + 1) or _after(cue, text, start, end)


def _after(cue: _Cue, text: str, start: int, end: int) -> bool:
    """Whether ``cue`` occurs after the date in its sentence (or heading and next sentence)."""
    return _around(text).may_hold(cue) and cue.within(text, *_after_scope(text, end))


def _right_after(cue: _Cue, text: str, start: int, end: int) -> bool:
    if not _around(text).may_hold(cue):
        return False
    pos = _SPACES.match(text, end)
    return cue.match(text, pos.end() if pos else end) is not None


def _right_before(cue: _Cue, text: str, start: int, end: int) -> bool:
    return cue.search(text, max(0, start - 12), start) is not None


def _in_line_before(cue: _Cue, text: str, start: int, end: int) -> bool:
    if not _around(text).may_hold(cue):
        return False
    floor = max(0, start - _REACH)
    return cue.within(text, text.rfind("\n", floor, start) + 1 or floor, start)


def _anywhere(cue: _Cue, text: str, start: int, end: int) -> bool:
    return cue.search(text) is not None


# Where a group of cues is looked for around the date at [start, end).
_Where = Callable[[_Cue, str, int, int], bool]
_GROUPS: dict[str, tuple[_Where, str]] = {
    # group: (where it is looked for, how its patterns are wrapped)
    "past_cues": (_in_sentence, "{}"),
    "ongoing_cues": (_after, "{}"),
    "reference_cues": (_right_after, "{}"),
    "before_cues": (_right_before, "(?:{})[ \u3000、,(（【「]*$"),
    "label_cues": (_in_line_before, "{}"),
    "report_markers": (_anywhere, "{}"),
}


# --- loading and validating the data -------------------------------------------------------


def _compile(patterns: list[str], wrap: str, where: str) -> _Cue:
    """The cues as one expression (see _Cue)."""
    joined = "|".join(f"(?:{unicodedata.normalize('NFKC', p)})" for p in patterns)
    try:
        written = re.compile(wrap.format(joined))
        first = first_chars(written)
        cue, one = written, None
        if first is not None:
            chars = "".join(re.escape(ch) for ch in sorted(first))
            cue = re.compile(f"[{chars}](?<=(?=(?:{written.pattern}))(?s:.))")
            one = re.compile(f"[{chars}]")
        return _Cue(cue, re.compile(f"(?=(?:{cue.pattern}))"), reach(written), one)
    except re.error as exc:
        raise RuleDataError(f"{where}: bad pattern: {exc}") from exc


def _spec_holds(group: str, cue: _Cue, text: str, where: str) -> bool:
    look, _ = _GROUPS[group]
    text = NormalizedText.of(text).text
    if look in {_in_sentence, _after, _anywhere}:
        return cue.search(text) is not None
    found = find_dates(text)
    if not found:
        raise RuleDataError(f"{where}: spec {text!r} has no date to test the cue against")
    return look(cue, text, found[0].start, found[0].end)


def _load_group(path: Path, raw: dict[str, Any], group: str) -> _Cue:
    entries = raw.get(group)
    if not isinstance(entries, list) or not entries:
        raise RuleDataError(f"{path}: '{group}' must be a non-empty list of entries")
    _, wrap = _GROUPS[group]
    patterns: list[str] = []
    for i, entry in enumerate(entries):
        where = f"{path}: {group}[{i}]"
        if not isinstance(entry, dict):
            raise RuleDataError(f"{where}: an entry needs name, patterns and specs")
        where = f"{where} ({entry.get('name', '?')})"
        own = entry.get("patterns")
        specs = entry.get("specs")
        if not isinstance(own, list) or not own or not all(isinstance(p, str) for p in own):
            raise RuleDataError(f"{where}: 'patterns' must be a list of regular expressions")
        if not isinstance(specs, dict) or not specs.get("hit"):
            raise RuleDataError(f"{where}: 'specs' needs at least one 'hit' example")
        cue = _compile(own, wrap, where)
        for text in specs.get("hit") or ():
            if not _spec_holds(group, cue, str(text), where):
                raise RuleDataError(f"{where}: spec hit {text!r} is not matched")
        for text in specs.get("miss") or ():
            if _spec_holds(group, cue, str(text), where):
                raise RuleDataError(f"{where}: spec miss {text!r} is matched")
        patterns.extend(own)
    return _compile(patterns, wrap, f"{path}: {group}")


def load(path: str | Path = DATA_FILE) -> _Cues:
    """Load dates.yaml, check every spec and example, and compile the cues."""
    path = Path(path)
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise RuleDataError(f"{path}: expected a mapping of cue groups")
    cues = _Cues(
        past=_load_group(path, raw, "past_cues"),
        ongoing=_load_group(path, raw, "ongoing_cues"),
        reference=_load_group(path, raw, "reference_cues"),
        before=_load_group(path, raw, "before_cues"),
        label=_load_group(path, raw, "label_cues"),
        report=_load_group(path, raw, "report_markers"),
    )
    _check_examples(path, raw.get("examples"), cues)
    return cues


def _check_examples(path: Path, examples: object, cues: _Cues) -> None:
    if not isinstance(examples, list) or not examples:
        raise RuleDataError(f"{path}: 'examples' must be a non-empty list")
    calendar = BusinessCalendar()
    settings = CheckSettings()
    for i, example in enumerate(examples):
        if not isinstance(example, dict) or not isinstance(example.get("text"), str):
            raise RuleDataError(f"{path}: examples[{i}] needs a text and its findings")
        at = example.get("at", _EXAMPLE_AT)
        if isinstance(at, str):
            at = datetime.fromisoformat(at)
        if not isinstance(at, datetime) or at.tzinfo is None:
            raise RuleDataError(f"{path}: examples[{i}]: 'at' must be a time with its UTC offset")
        draft = DraftToCheck(text=example["text"], at=at)
        got = sorted(f.rule for f in _check(CheckContext(draft, settings, calendar), cues))
        want = sorted(str(r) for r in example.get("findings") or ())
        if got != want:
            raise RuleDataError(
                f"{path}: examples[{i}] {example['text']!r}: expected {want}, found {got}"
            )


@cache
@cached_data("dates.yaml")
def _cues() -> _Cues:
    return load()


# --- the rule ------------------------------------------------------------------------------


def check(ctx: CheckContext) -> Iterable[Finding]:
    """Every date problem in the draft, read against its publish day in the calendar's zone."""
    return _check(ctx, _cues())


RULE = Rule("date", check)


def _check(ctx: CheckContext, cues: _Cues) -> list[Finding]:
    text = ctx.text
    expressions = find_dates(text)
    if not expressions:
        return []
    today = ctx.draft.at.astimezone(ctx.calendar.tz).date()
    found: list[Finding] = []
    noted_holidays: set[date] = set()
    # Whether the whole draft reports an event: looked up once, and only for a date in the past.
    # Likewise whether any cue around a date can occur in it at all (see _Around.may_hold).
    report = cache(lambda: cues.report.search(text) is not None)
    around = (cues.past, cues.reference, cues.before, cues.label, cues.ongoing)
    any_cue = cache(lambda: any(_around(text).may_hold(cue) for cue in around))
    for expr in expressions:
        resolved = resolve(expr, today)
        if not expr.parts[0].certain:
            # 「11/31まで」 may be a fraction: say only that such a day cannot exist.
            found.extend(_invalid(ctx, r) for r in resolved if r.problem is Problem.DAY)
            continue
        for r in resolved:
            if r.problem is not None:
                found.append(_invalid(ctx, r))
            elif r.date is not None and (
                weekday := _weekday(ctx, r, r.date, today, noted_holidays)
            ):
                found.append(weekday)
        past = _past(ctx, expr, resolved, today=today, cues=cues, report=report, any_cue=any_cue)
        if past is not None:
            found.append(past)
    return found


class _Say:
    """Dates and weekdays in the language of the check."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.weekdays = ctx.t("date.weekdays").split(",")

    def day(self, d: date) -> str:
        return self.ctx.t("date.format", y=d.year, m=d.month, d=d.day)

    def weekday(self, index: int) -> str:
        return self.weekdays[index]


def _then(ctx: CheckContext, key: str, **params: Any) -> str:
    """A sentence to append to a message (with the space English needs before it)."""
    return ctx.t("date.then") + ctx.t(key, **params)


def _original(ctx: CheckContext, start: int, end: int) -> str:
    ostart, oend = ctx.norm.span(start, end)
    return ctx.draft.text[ostart:oend]


def _written_marker(ctx: CheckContext, part: DatePart) -> str:
    assert part.marker_span is not None
    return _original(ctx, *part.marker_span).strip()


def _weekday_token(token: str, weekday: int) -> str:
    """``token`` (月, 月曜日, Mon, MONDAY) naming ``weekday`` instead, in the same style."""
    if token[0] in WEEKDAY_CHARS:
        return WEEKDAY_CHARS[weekday] + token[1:]
    name = _ENGLISH_WEEKDAYS[weekday]
    word = name if len(token.rstrip(".")) <= 3 else _ENGLISH_LONG[weekday]
    word = word.upper() if token.isupper() else word
    return word + ("." if token.endswith(".") else "")


def _with_marker(ctx: CheckContext, part: DatePart, weekday: int, mark: str | None) -> str:
    """The date as written with its marker naming ``weekday`` (and ``mark``: 祝 or 休)."""
    assert part.marker_span is not None
    m_start, m_end = part.marker_span
    token = ctx.text[slice(*part.weekday_spans[0])] if part.weekday_spans else "月"
    if part.weekday_spans and mark is None and not part.marks:
        # Only the weekday changes: keep everything else exactly as written.
        w_start, w_end = part.weekday_spans[0]
        if _original(ctx, w_start, w_end) == token:
            return (
                _original(ctx, part.start, w_start)
                + _weekday_token(token, weekday)
                + _original(ctx, w_end, part.end)
            )
    opening, closing = ("（", "）") if _original(ctx, m_start, m_end)[:1] == "（" else ("(", ")")
    inner = _weekday_token(token, weekday) + (f"・{mark}" if mark else "")
    return _original(ctx, part.start, m_start) + opening + inner + closing


def _weekday(
    ctx: CheckContext, r: ResolvedDate, day: date, today: date, noted: set[date]
) -> Finding | None:
    """A wrong weekday, a wrong holiday mark, or a note about a holiday left unmarked."""
    part = r.part
    if part.marker_span is None or len(part.weekdays) > 1:
        return None
    holiday = ctx.calendar.holiday_name(day)
    actual = day.weekday()
    wrote = part.weekday
    if wrote is not None and wrote != actual:
        if _counted(ctx, WEEKDAY):
            return OMITTED
        say = _Say(ctx)
        keep = next(iter(part.marks)).value if part.marks and holiday else None
        return ctx.finding(
            WEEKDAY,
            Severity.ERROR,
            "date-weekday.wrong",
            part.start,
            part.end,
            suggestion=_with_marker(ctx, part, actual, keep),
            date=say.day(day),
            actual=say.weekday(actual),
            written=_written_marker(ctx, part),
            hint=_weekday_hint(ctx, say, r, wrote=wrote, today=today),
        )
    if holiday is None and HolidayMark.HOLIDAY in part.marks:
        if _counted(ctx, HOLIDAY):
            return OMITTED
        return ctx.finding(
            HOLIDAY,
            Severity.ERROR,
            "date-weekday.holiday",
            part.start,
            part.end,
            suggestion=_with_marker(ctx, part, actual, None),
            date=_Say(ctx).day(day),
            written=_written_marker(ctx, part),
        )
    if holiday is None and wrote is not None and part.marks == {HolidayMark.REST}:
        # (休) alone usually means the facility is closed: only with a weekday does it read as
        # the calendar's substitute-holiday mark, and even then it is only worth a note.
        if _counted(ctx, REST_DAY):
            return OMITTED
        return ctx.finding(
            REST_DAY,
            Severity.INFO,
            "date-weekday.rest-day",
            part.start,
            part.end,
            date=_Say(ctx).day(day),
            written=_written_marker(ctx, part),
        )
    if (
        holiday
        and wrote is not None
        and not part.marks
        and day >= today
        and day not in noted
        and not _names_holiday(ctx.text, part.end, holiday)
    ):
        noted.add(day)
        if _counted(ctx, HOLIDAY_UNMARKED):
            return OMITTED
        substitute = "振替休日" in holiday or holiday == "国民の休日"
        marked = (
            _with_marker(ctx, part, actual, "休" if substitute else "祝")
            if ctx.text[part.marker_span[0]] == "("
            else None
        )
        return ctx.finding(
            HOLIDAY_UNMARKED,
            Severity.INFO,
            "date-weekday.holiday-unmarked",
            part.start,
            part.end,
            suggestion=marked,
            date=_Say(ctx).day(day),
            holiday=holiday,
            hint=_then(ctx, "date-weekday.holiday-unmarked-hint", marked=marked) if marked else "",
        )
    return None


def _names_holiday(text: str, end: int, holiday: str) -> bool:
    """Whether the words right after a date already say it is a holiday (…(月)の勤労感謝の日)."""
    after = text[end : end + 24]
    return "祝" in after or "休日" in after or holiday.split(maxsplit=1)[0] in after


def _weekday_hint(ctx: CheckContext, say: _Say, r: ResolvedDate, *, wrote: int, today: date) -> str:
    """Where the written weekday would be right: the same day in a later year when the date is
    past (last year's post reused), else the nearest day with that weekday."""
    assert r.date is not None
    day = r.date
    if r.year_written and day < today:
        for year in (today.year, today.year + 1):
            try:
                other = day.replace(year=year)
            except ValueError:
                continue
            if other >= today and other.weekday() == wrote:
                return _then(
                    ctx, "date-weekday.hint-year", date=say.day(other), weekday=say.weekday(wrote)
                )
    nearby = day + timedelta(days=(wrote - day.weekday() + 3) % 7 - 3)
    return _then(
        ctx, "date-weekday.hint-nearby", weekday=say.weekday(wrote), nearby=say.day(nearby)
    )


def _era_span(ctx: CheckContext, say: _Say, era: Era) -> str:
    first, last = era_span(era)
    if last is None:
        return ctx.t("date-invalid.era-from", first=say.day(first))
    return ctx.t("date-invalid.era-from-to", first=say.day(first), last=say.day(last))


def _era_suggestion(ctx: CheckContext, part: DatePart, era: Era, year: int) -> str:
    """The expression with its era and era year replaced: 平成32年4月1日 -> 令和2年4月1日."""
    written = ctx.text[part.start : part.end]
    if part.style is DateStyle.KANJI:
        cut = written.index("年") + 1
        return f"{era.value}{'元' if year == 1 else year}年{written[cut:]}"
    cut = written.index(".")  # the normalised text: R8.11.23, 令和8.11.23
    prefix = _ERA_LETTERS[era] if written[0].isascii() else era.value
    return f"{prefix}{year}{written[cut:]}"


def _counted(ctx: CheckContext, rule: str) -> bool:
    """Whether ``rule`` has all the findings it may show: the next one is only counted, and its
    message, suggestion and hint (a draft of thousands of wrong weekdays) are not made."""
    if not ctx.full(rule):
        return False
    ctx.over_limit(rule)
    return True


def _invalid(ctx: CheckContext, r: ResolvedDate) -> Finding:
    if _counted(ctx, INVALID):
        return OMITTED
    part = r.part
    say = _Say(ctx)
    if r.problem is Problem.MONTH:
        return ctx.finding(
            INVALID, Severity.ERROR, "date-invalid.month", part.start, part.end, month=part.month
        )
    if r.problem is Problem.DAY:
        assert r.year is not None
        assert part.month is not None
        last = (date(r.year + (part.month == 12), part.month % 12 + 1, 1) - timedelta(days=1)).day
        leap_day = part.month == 2 and part.day == 29
        note = _then(ctx, "date.inferred-note", y=r.year) if leap_day and not r.year_written else ""
        month_of = (
            ctx.t("date.month-of-year", y=r.year, m=part.month)
            if part.month == 2 or r.year_written
            else ctx.t("date.month", m=part.month)
        )
        return ctx.finding(
            INVALID,
            Severity.ERROR,
            "date-invalid.day",
            part.start,
            part.end,
            month_of=month_of,
            last=last,
            note=note,
        )
    assert part.era is not None
    assert r.year is not None
    fix = ""
    suggestion = None
    if r.correct_era is not None:
        era, year = r.correct_era
        correct = f"{era.value}{'元' if year == 1 else year}"
        fix = _then(ctx, "date-invalid.era-fix", y=r.year, correct=correct)
        suggestion = _era_suggestion(ctx, part, era, year)
    return ctx.finding(
        INVALID,
        Severity.ERROR,
        "date-invalid.era-year" if r.problem is Problem.ERA_YEAR else "date-invalid.era-date",
        part.start,
        part.end,
        suggestion=suggestion,
        era=part.era.value,
        era_year=part.era_year,
        era_span=_era_span(ctx, say, part.era),
        fix=fix,
    )


def _past(
    ctx: CheckContext,
    expr: DateExpression,
    resolved: tuple[ResolvedDate, ...],
    *,
    today: date,
    cues: _Cues,
    report: Callable[[], bool],
    any_cue: Callable[[], bool],
) -> Finding | None:
    """A date before the publish day, unless its words show the past is meant."""
    if not resolved or any(r.date is None for r in resolved):
        return None  # a part that names no day (11月1日～11月31日) already has its finding
    latest = resolved[0] if len(resolved) == 1 else max(resolved, key=lambda r: r.date or today)
    assert latest.date is not None
    if latest.date >= today:
        return None
    if latest.year_written and today - latest.date > _HISTORY:
        return None
    text = ctx.text
    start, end = expr.start, expr.end
    if report() or (
        any_cue()  # else none is looked for: a draft of thousands of past dates and no cue
        and (
            _in_sentence(cues.past, text, start, end)
            or _right_after(cues.reference, text, start, end)
            or _right_before(cues.before, text, start, end)
            or _in_line_before(cues.label, text, start, end)
            or (_PERIOD_START.match(text, end) and _after(cues.ongoing, text, start, end))
        )
    ):
        return None
    if _counted(ctx, PAST):
        return OMITTED
    say = _Say(ctx)
    note = ""
    if not latest.year_written:
        in_window = latest.date >= today - YEARLESS_LOOKBACK
        key = "date.inferred-note" if in_window else "date.earlier-year-note"
        note = _then(ctx, key, y=latest.date.year)
    return ctx.finding(
        PAST,
        Severity.WARNING,
        "date-past.past",
        expr.start,
        expr.end,
        date=say.day(latest.date),
        today=say.day(today),
        note=note,
    )
