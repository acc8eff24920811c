"""Japanese date expressions as city-hall staff write them, found in free text.

Reads ``11月23日(月)``, ``11/23（月）``, ``2026年11月23日 月曜日``, ``令和8年11月23日(月・祝)``,
``R8.11.23``, ``2026/11/23``, ``2026-11-23``, kanji numerals (``十一月二十三日``, ``二〇二六年``),
``令和元年``, full-width digits and brackets, ranges (``11月23日(月)～25日(水)``), lists
(``11月23日(月)・24日(火)``), holiday markers (``(祝)``, ``(休)``, ``(月・祝)``) and a time
after the date (``10時～``). Works on the text as written and on its NFKC form alike; spans
index the text given.

Slash dates without a year or a weekday (``1/2``, ``3/4サイズ``) and ``11.23`` without an era
or a weekday are not dates here: fractions, scores and version numbers look the same.

Pure: no I/O, no clock. :func:`resolve` reads an expression against a reference day.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from datetime import date, timedelta
from enum import StrEnum
from typing import NamedTuple

WEEKDAY_CHARS = "月火水木金土日"
_WEEKDAY_EN = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The window DESIGN.md §4 gives a date written without a year: on or after 30 days before.
YEARLESS_LOOKBACK = timedelta(days=30)
# How far back a yearless date with a weekday of the year before may still be read as past.
RECENT_PAST = timedelta(days=90)


class Era(StrEnum):
    REIWA = "令和"
    HEISEI = "平成"
    SHOWA = "昭和"


# First and last day of each era; the Western year is ``offset + era year``.
_ERA_SPANS: dict[Era, tuple[date, date | None, int]] = {
    Era.REIWA: (date(2019, 5, 1), None, 2018),
    Era.HEISEI: (date(1989, 1, 8), date(2019, 4, 30), 1988),
    Era.SHOWA: (date(1926, 12, 25), date(1989, 1, 7), 1925),
}
_ERA_NAMES = {
    "令和": Era.REIWA,
    "㋿": Era.REIWA,
    "R": Era.REIWA,
    "Ｒ": Era.REIWA,
    "平成": Era.HEISEI,
    "㍻": Era.HEISEI,
    "H": Era.HEISEI,
    "Ｈ": Era.HEISEI,
    "昭和": Era.SHOWA,
    "㍼": Era.SHOWA,
    "S": Era.SHOWA,
    "Ｓ": Era.SHOWA,
}


class DateStyle(StrEnum):
    KANJI = "kanji"  # 11月23日, 2026年11月23日, 令和8年…
    SLASH = "slash"  # 11/23, 2026/11/23
    DOT = "dot"  # R8.11.23, 2026.11.23, 11.23(月)
    ISO = "iso"  # 2026-11-23


class HolidayMark(StrEnum):
    HOLIDAY = "祝"  # (祝), (祝日), (月・祝)
    REST = "休"  # (休), (振休), (月・休): usually a substitute holiday


class Link(StrEnum):
    """How a date joins the one before it in the same expression."""

    RANGE = "range"  # ～, -, から
    LIST = "list"  # ・, 、, と


_NO_MARKS: frozenset[HolidayMark] = frozenset()


class DatePart(NamedTuple):
    """One written date (or an era year / a year and month) with its markers.

    A named tuple rather than a frozen dataclass: every draft builds several, and this is
    several times cheaper to construct.

    ``start``/``end`` cover the date and its weekday marker. ``year`` is the Western year as
    written (an era year converted), or None. ``month``/``day`` are as written, possibly out of
    range (``13月``); a day written alone after another date (``～25日``) takes that date's month.
    """

    start: int
    end: int
    style: DateStyle
    year: int | None
    month: int | None
    day: int | None
    era: Era | None = None
    era_year: int | None = None
    weekdays: tuple[int, ...] = ()  # as written, 0 = Monday; normally none or one
    marks: frozenset[HolidayMark] = _NO_MARKS
    marker_span: tuple[int, int] | None = None  # e.g. "(月・祝)" or " 月曜日"
    weekday_spans: tuple[tuple[int, int], ...] = ()  # each weekday token inside the marker
    time: tuple[int, int] | None = None  # hour, minute written right after the date
    link: Link | None = None
    month_inherited: bool = False
    # False for a bare 「11/31まで」: maybe a fraction, so good only to say the day cannot exist.
    certain: bool = True

    @property
    def is_full(self) -> bool:
        """Whether a month and a day are written (not just an era year or a month)."""
        return self.month is not None and self.day is not None

    @property
    def weekday(self) -> int | None:
        """The one weekday written, or None when none or several are."""
        return self.weekdays[0] if len(self.weekdays) == 1 else None


class DateExpression(NamedTuple):
    """A date, a range or a list of dates written together (a named tuple, as DatePart is: a
    draft of thousands of dates builds thousands)."""

    parts: tuple[DatePart, ...]

    @property
    def start(self) -> int:
        return self.parts[0].start

    @property
    def end(self) -> int:
        return self.parts[-1].end


class Problem(StrEnum):
    MONTH = "month"  # 13月
    DAY = "day"  # 2月30日, 11月31日, 2月29日 in a common year
    ERA_YEAR = "era-year"  # 令和0年, 平成32年
    ERA_DATE = "era-date"  # 平成31年5月1日, 令和元年4月30日


class ResolvedDate(NamedTuple):
    """A part read against a reference day: the calendar date it names, or why it names none."""

    part: DatePart
    year: int | None  # the Western year used (written, carried over or inferred)
    date: date | None
    year_written: bool  # written on this part or on an earlier part of the same expression
    problem: Problem | None = None
    # For ERA_YEAR / ERA_DATE: how the same year or day is written in the right era.
    correct_era: tuple[Era, int] | None = None


# --- grammar --------------------------------------------------------------------------------

_D = "[0-9０-９]"
_K = "[〇一二三四五六七八九十]"
_SP = "[ \u3000]?"
_NUM = f"(?:{_D}{{1,2}}|{_K}{{1,3}})"
_ERA = "(?:令和|平成|昭和|[㋿㍻㍼RHSＲＨＳ])"
_ERA_YEAR = f"(?:{_D}{{1,2}}|{_K}{{1,3}}|元)"
_YEAR4 = f"(?:[12１２]{_D}{{3}}|[一二][〇一二三四五六七八九]{{3}})"
_SLASH = "[/／]"
_DOT = "[.．]"
_DASH = "[-－]"

_CORE = re.compile(
    # 2026年11月23日, 令和8年11月23日, 令和8年(度), 2026年11月
    f"(?P<k>(?:(?P<ky>{_YEAR4})|(?P<kera>{_ERA}){_SP}(?P<key>{_ERA_YEAR})){_SP}年"
    f"(?:{_SP}(?P<km>{_NUM}){_SP}月(?!曜)(?:{_SP}(?P<kd>{_NUM}){_SP}日)?)?)"
    # 11月23日
    f"|(?P<md>(?P<mm>{_NUM}){_SP}月(?!曜){_SP}(?P<mdd>{_NUM}){_SP}日)"
    # 2026/11/23, 11/23
    f"|(?P<s>(?:(?P<sy>[12１２]{_D}{{3}}){_SLASH})?(?P<sm>{_D}{{1,2}}){_SLASH}(?P<sd>{_D}{{1,2}}))"
    # R8.11.23, 2026.11.23
    f"|(?P<o>(?:(?P<oy>[12１２]{_D}{{3}})|(?P<oera>{_ERA}){_SP}(?P<oey>{_D}{{1,2}}|元))"
    f"{_DOT}(?P<om>{_D}{{1,2}}){_DOT}(?P<od>{_D}{{1,2}}))"
    # 2026-11-23
    f"|(?P<i>(?P<iy>[12１２]{_D}{{3}}){_DASH}(?P<im>{_D}{{1,2}}){_DASH}(?P<id>{_D}{{1,2}}))"
    # 11.23(月): only with a weekday marker
    f"|(?P<p>(?P<pm>{_D}{{1,2}}){_DOT}(?P<pd>{_D}{{1,2}}))"
)
# Where a date may start: scanning for these first is far cheaper than trying _CORE everywhere.
_START = re.compile("[0-9０-９〇一二三四五六七八九十令平昭㋿㍻㍼RHSＲＨＳ]")
_RUN = re.compile(f"{_D}+|{_K}+")
# A cheap test before the detailed search: a digit or kanji numeral next to a date separator.
_HINT = re.compile(f"(?:{_D}|{_K}|元){_SP}[年月/／.．\\-－]|[㋿㍻㍼]")
_DAY_ONLY = re.compile(
    f"(?P<d>{_NUM}){_SP}日(?!間|目|以|分|前|後|ぶり|連|程|ほど|付|号|当|中|限|毎|おき|ごと)"
)
_BARE_DAY = re.compile(f"(?P<d>{_D}{{1,2}})(?![0-9０-９/／.．:：])")
_PAREN_MARK = re.compile(r"[ \u3000]?[(（][ \u3000]?([^()（）\n]{1,16}?)[ \u3000]?[)）]")
_BARE_WEEKDAY = re.compile(r"[ \u3000]?([月火水木金土日]曜日?)")
_SYMBOL_MARK = re.compile("[ \u3000]?([㈪㈫㈬㈭㈮㈯㈰㈷㉁])")
_SYMBOLS = {
    "㈪": "月",
    "㈫": "火",
    "㈬": "水",
    "㈭": "木",
    "㈮": "金",
    "㈯": "土",
    "㈰": "日",
    "㈷": "祝",
    "㉁": "休",
}
_TOKEN = re.compile(
    r"(?P<w>[月火水木金土日])(?:曜日?)?"
    r"|(?P<e>(?i:mon|tue|wed|thu|fri|sat|sun))(?i:[a-z]*)\.?"
    r"|(?P<h>祝祭日|祝日|祭日|祝|祭)"
    r"|(?P<r>振替休日|振替|振休|休日|休)"
    r"|(?P<sep>[・･,，、/／ \u3000]+)"
)
_TIME = re.compile(
    r"[ \u3000]?(?:(?P<ampm>午前|午後)[ \u3000]?)?(?P<h>[0-9０-９]{1,2})"
    r"(?:[:：](?P<m>[0-9０-９]{2})|時(?:(?P<m2>[0-9０-９]{1,2})分|(?P<half>半))?)"
)
_SEPARATOR = re.compile(
    r"[ \u3000]?(?:(?P<range>[~〜～\-‐–—−－]|から)|(?P<list>[・･、,，]|と|及び|および))[ \u3000]?"
)
# After a bare M/D: the words that make it read as a date (a deadline, a start, a range).
_UNCERTAIN_SLASH_CONTEXT = re.compile(
    r"[ \u3000]?(?:まで|迄|から|より|締切|締め切り|〆切|必着|開催|予定|ごろ|頃|以降|[~〜～])"
)
_URL = re.compile(r"(?:https?://|www\.)[^\s　<>「」（）()]+", re.IGNORECASE)

_DIGITS = frozenset("0123456789０１２３４５６７８９")
_TIME_FIRST = frozenset(" \u3000午") | _DIGITS
_SEPARATOR_FIRST = frozenset(" \u3000~〜～-‐–—−－か・･、,，と及お")
_KANJI_DIGITS = {k: i for i, k in enumerate("〇一二三四五六七八九")}
_KANJI_NUMERALS = frozenset("〇一二三四五六七八九十")
# Characters that, next to a numeric date, show it is part of something else (a URL, a version).
_NUMERIC_NEIGHBOURS = frozenset("/／.．:：_-－") | _DIGITS
_PERCENT = frozenset("%％")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _number(text: str) -> int | None:
    """An integer written in ASCII, full-width or kanji digits (``二十三``, ``二〇二六``)."""
    if text == "元":
        return 1
    if text[0] not in _KANJI_NUMERALS:
        return int(text)
    if "十" not in text:
        if text.strip("〇") == "":
            return None  # 〇月〇日 is a placeholder, not a date
        value = 0
        for ch in text:
            value = value * 10 + _KANJI_DIGITS[ch]
        return value
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones or tens == "〇" or ones == "〇":
        return None
    return (_KANJI_DIGITS[tens] if tens else 1) * 10 + (_KANJI_DIGITS[ones] if ones else 0)


class _Marker(NamedTuple):
    end: int
    span: tuple[int, int]
    weekdays: tuple[int, ...]
    weekday_spans: tuple[tuple[int, int], ...]
    marks: frozenset[HolidayMark]


_WEEKDAY_SUFFIXES = frozenset({"", "曜", "曜日"})
_MARKER_FIRST = frozenset("(（ \u3000" + WEEKDAY_CHARS) | _SYMBOLS.keys()


def _bracketed(text: str, m: re.Match[str], span: tuple[int, int]) -> _Marker | None:
    """The weekdays and holiday marks inside ``(…)``, or None if it holds anything else."""
    weekdays: list[int] = []
    spans: list[tuple[int, int]] = []
    marks: set[HolidayMark] = set()
    pos, end = m.span(1)
    inner = text[pos:end]
    if inner[0] in WEEKDAY_CHARS and inner[1:] in _WEEKDAY_SUFFIXES:  # (月), (月曜日): most markers
        return _Marker(span[1], span, (WEEKDAY_CHARS.index(inner[0]),), ((pos, end),), _NO_MARKS)
    while pos < end:
        token = _TOKEN.match(text, pos, end)
        if token is None:
            return None
        kind = token.lastgroup
        if kind == "w":
            weekdays.append(WEEKDAY_CHARS.index(text[pos]))
            spans.append(token.span())
        elif kind == "e":
            weekdays.append(_WEEKDAY_EN.index(token.group("e").lower()))
            spans.append(token.span())
        elif kind == "h":
            marks.add(HolidayMark.HOLIDAY)
        elif kind == "r":
            marks.add(HolidayMark.REST)
        pos = token.end()
    if not weekdays and not marks:
        return None
    return _Marker(span[1], span, tuple(weekdays), tuple(spans), frozenset(marks))


def _one_marker(text: str, pos: int) -> _Marker | None:
    if pos >= len(text) or text[pos] not in _MARKER_FIRST:
        return None
    if m := _PAREN_MARK.match(text, pos):
        space = 1 if text[pos] in " \u3000" else 0
        return _bracketed(text, m, (pos + space, m.end()))
    if m := _SYMBOL_MARK.match(text, pos):
        name = _SYMBOLS[m.group(1)]
        span = m.span(1)
        if name in WEEKDAY_CHARS:
            return _Marker(m.end(), span, (WEEKDAY_CHARS.index(name),), (span,), _NO_MARKS)
        mark = HolidayMark.HOLIDAY if name == "祝" else HolidayMark.REST
        return _Marker(m.end(), span, (), (), frozenset({mark}))
    if m := _BARE_WEEKDAY.match(text, pos):
        span = m.span(1)
        return _Marker(m.end(), span, (WEEKDAY_CHARS.index(text[span[0]]),), (span,), _NO_MARKS)
    return None


def _marker(text: str, pos: int) -> _Marker | None:
    """The weekday marker right after a date: ``(月)``, ``（月・祝）``, ``月曜日``, ``(月)(祝)``."""
    first = _one_marker(text, pos)
    if first is None:
        return None
    second = _one_marker(text, first.end)
    if second is None or second.span[0] != first.end:
        return first
    return _Marker(
        second.end,
        (first.span[0], second.end),
        first.weekdays + second.weekdays,
        first.weekday_spans + second.weekday_spans,
        first.marks | second.marks,
    )


def _time(text: str, pos: int) -> tuple[int, int] | None:
    if pos >= len(text) or text[pos] not in _TIME_FIRST:
        return None
    m = _TIME.match(text, pos)
    if m is None:
        return None
    hour = int(m.group("h"))
    minute = int(m.group("m") or m.group("m2") or 0) + (30 if m.group("half") else 0)
    if m.group("ampm") == "午後" and hour < 12:
        hour += 12
    if hour > 24 or minute > 59:
        return None
    return hour, minute


def _era_year(era_text: str, year_text: str) -> tuple[Era, int, int] | None:
    era = _ERA_NAMES[era_text]
    n = _number(year_text)
    if n is None:
        return None
    return era, n, _ERA_SPANS[era][2] + n


def _core(
    m: re.Match[str], text: str, chain: DateStyle | None = None, link: Link | None = None
) -> DatePart | None:
    """The date a core match names, with its marker; None when it is not really a date.

    ``chain`` is the style of the expression this date continues, ``link`` how it joins it
    (both None for a first date).
    """
    start, end = m.span()
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    era: Era | None = None
    era_year: int | None = None
    year: int | None = None
    month_text: str | None
    day_text: str | None
    kind = m.lastgroup
    if kind in {"k", "md"}:
        style = DateStyle.KANJI
        if before in _DIGITS or (before in _KANJI_NUMERALS and text[start] in _KANJI_NUMERALS):
            return None
        if kind == "k":
            if m.group("kera"):
                if before in _ASCII_LETTERS and len(m.group("kera")) == 1:
                    return None
                parsed = _era_year(m.group("kera"), m.group("key"))
                if parsed is None:
                    return None
                era, era_year, year = parsed
            else:
                year = _number(m.group("ky"))
            month_text, day_text = m.group("km"), m.group("kd")
            if month_text is None and era is None:
                return None  # a Western year alone says nothing to check
        else:
            month_text, day_text = m.group("mm"), m.group("mdd")
    else:
        if before in _NUMERIC_NEIGHBOURS or before in _ASCII_LETTERS:
            return None
        if (
            after in _DIGITS
            or after in _PERCENT
            or (after in _NUMERIC_NEIGHBOURS and text[end + 1 : end + 2] in _DIGITS)
        ):
            return None
        if kind == "s":
            style = DateStyle.SLASH
            year = int(m.group("sy")) if m.group("sy") else None
            month_text, day_text = m.group("sm"), m.group("sd")
        elif kind == "o":
            style = DateStyle.DOT
            if m.group("oera"):
                parsed = _era_year(m.group("oera"), m.group("oey"))
                if parsed is None:
                    return None
                era, era_year, year = parsed
            else:
                year = int(m.group("oy"))
            month_text, day_text = m.group("om"), m.group("od")
        elif kind == "i":
            style = DateStyle.ISO
            year = int(m.group("iy"))
            month_text, day_text = m.group("im"), m.group("id")
        else:
            style = DateStyle.DOT
            month_text, day_text = m.group("pm"), m.group("pd")
    month = _number(month_text) if month_text else None
    day = _number(day_text) if day_text else None
    if (month_text and month is None) or (day_text and day is None):
        return None
    marker = _marker(text, end) if day is not None else None
    certain = True
    if marker is None and kind == "p":
        return None  # 11.23: a version or a score
    if marker is None and style is DateStyle.SLASH and year is None and chain is not style:
        # 1/2, 3/4サイズ: fractions look the same. Only 「11/31まで」 and the like may be a date,
        # and even then not a certain one.
        if chain is not None or not (
            _UNCERTAIN_SLASH_CONTEXT.match(text, end)
            and month is not None
            and day is not None
            and 1 <= month <= 12
            and 1 <= day <= 31
        ):
            return None
        certain = False
    return _part(
        text,
        start,
        end,
        marker,
        style=style,
        year=year,
        month=month,
        day=day,
        era=era,
        era_year=era_year,
        link=link,
        certain=certain,
    )


def _part(
    text: str,
    start: int,
    end: int,
    marker: _Marker | None,
    *,
    style: DateStyle,
    year: int | None,
    month: int | None,
    day: int | None,
    era: Era | None = None,
    era_year: int | None = None,
    link: Link | None = None,
    month_inherited: bool = False,
    certain: bool = True,
) -> DatePart:
    if marker is not None:
        end = marker.end
    return DatePart(
        start=start,
        end=end,
        style=style,
        year=year,
        month=month,
        day=day,
        era=era,
        era_year=era_year,
        weekdays=marker.weekdays if marker else (),
        marks=marker.marks if marker else frozenset(),
        marker_span=marker.span if marker else None,
        weekday_spans=marker.weekday_spans if marker else (),
        time=_time(text, end) if day is not None else None,
        link=link,
        month_inherited=month_inherited,
        certain=certain,
    )


def _next_in_chain(text: str, pos: int, head: DatePart, previous: DatePart) -> DatePart | None:
    """The date joined to ``previous`` by a range or list separator at ``pos``, if any."""
    if pos >= len(text) or text[pos] not in _SEPARATOR_FIRST:
        return None
    sep = _SEPARATOR.match(text, pos)
    if sep is None:
        return None
    link = Link.RANGE if sep.group("range") else Link.LIST
    at = sep.end()
    day_match = _DAY_ONLY.match(text, at)  # the common case first: ～25日
    bare = False
    if day_match is None:
        if (m := _CORE.match(text, at)) is not None:
            part = _core(m, text, head.style, link)
            if part is not None and part.is_full:
                return part
        if head.style is DateStyle.KANJI:
            return None
        day_match = _BARE_DAY.match(text, at)
        bare = True
    if day_match is None or previous.month is None or previous.day is None:
        return None
    day = _number(day_match.group("d"))
    marker = _marker(text, day_match.end())
    if day is None or (marker is None and bare):
        return None
    month = previous.month
    if day <= previous.day:
        if marker is None or not marker.weekdays:
            return None  # "11月23日から5日" is not a date; "30日(月)～2日(水)" is
        month = month % 12 + 1
    return _part(
        text,
        day_match.start(),
        day_match.end(),
        marker,
        style=head.style,
        year=None,
        month=month,
        day=day,
        link=link,
        month_inherited=True,
    )


def _share_weekdays(parts: list[DatePart]) -> list[DatePart]:
    """Hand ``11月28日・29日(土・日)``'s weekdays out to the dates they belong to."""
    last = parts[-1]
    if len(parts) < 2 or len(last.weekdays) != len(parts):
        return parts
    if any(p.marker_span for p in parts[:-1]):
        return parts
    return [
        p._replace(weekdays=(w,), weekday_spans=(s,))
        for p, w, s in zip(parts, last.weekdays, last.weekday_spans, strict=True)
    ]


def find_dates(text: str) -> tuple[DateExpression, ...]:
    """Every date expression in ``text``, in order."""
    if not _HINT.search(text):
        return ()
    urls = [m.span() for m in _URL.finditer(text)] if ("://" in text or "www." in text) else []
    url_starts = [a for a, _ in urls]
    found: list[DateExpression] = []
    # Every pattern here reads a bounded stretch of text, so what is found at a start depends on
    # the text from the character before it to a little past the last date found (or the run
    # skipped): a draft that repeats a date reads it once and shifts it to each place it recurs.
    known: dict[str, tuple[DatePart, ...] | int] = {}
    # The same for each date that continues one (11月28日・29日, 12月5日(土)、12月5日(土)、…).
    steps: dict[tuple[str, DateStyle, int | None, int | None], DatePart | None] = {}
    pos = 0
    while (start := _START.search(text, pos)) is not None:
        at = start.start()
        # The last link starting at or before ``at`` (links do not overlap): a draft of
        # thousands of links costs a bisection per number, not a walk over the links.
        i = bisect_right(url_starts, at) - 1
        inside_url = i >= 0 and at < urls[i][1]
        window = text[at - 1 : at + _WINDOW] if at and not inside_url else None
        if window is not None and (seen := known.get(window)) is not None:
            if isinstance(seen, int):
                pos = at + seen
                continue
            shifted = tuple([_shifted(p, at) for p in seen])
            found.append(DateExpression(shifted))
            pos = shifted[-1].end
            continue
        m = _CORE.match(text, at)
        head = _core(m, text) if m is not None and not inside_url else None
        if head is None:
            # No date starts inside a run of digits: skip the run, not just one character.
            run = _RUN.match(text, at)
            pos = run.end() if run else at + 1
            if window is not None and pos < at + _WINDOW - _READ_AFTER:
                known[window] = pos - at
            continue
        parts = [head]
        if head.is_full and head.certain:
            while (nxt := _next_kept(text, head, parts[-1], steps)) is not None:
                parts.append(nxt)
        expression = DateExpression(tuple(_share_weekdays(parts)))
        found.append(expression)
        pos = expression.end
        if window is not None and pos < at + _WINDOW - _READ_AFTER:
            known[window] = tuple(_shifted(p, -at) for p in expression.parts)
    return tuple(found)


def _next_kept(
    text: str,
    head: DatePart,
    previous: DatePart,
    steps: dict[tuple[str, DateStyle, int | None, int | None], DatePart | None],
) -> DatePart | None:
    """``_next_in_chain`` after ``previous``: what it reads of the text lies within
    ``_READ_AFTER`` characters of where ``previous`` ends (no pattern looks behind), and of the
    dates only the style of the first and the month and day of the one before count."""
    pos = previous.end
    key = (text[pos : pos + _READ_AFTER], head.style, previous.month, previous.day)
    if key in steps:
        step = steps[key]
        return None if step is None else _shifted(step, pos)
    nxt = _next_in_chain(text, pos, head, previous)
    steps[key] = None if nxt is None else _shifted(nxt, -pos)
    return nxt


# How far a date's patterns (a core, two markers, a time, a separator and the next date's core
# tried after it) can read past where the last date found ends: well under this.
_READ_AFTER = 120
_WINDOW = 256


def _shifted(part: DatePart, by: int) -> DatePart:
    """``part`` moved ``by`` characters along the text."""
    marker = part.marker_span
    spans = part.weekday_spans
    return tuple.__new__(
        DatePart,
        (
            part.start + by,
            part.end + by,
            *part[2:10],
            None if marker is None else (marker[0] + by, marker[1] + by),
            tuple([(a + by, b + by) for a, b in spans]) if spans else spans,
            *part[12:],
        ),
    )


# --- reading against a reference day --------------------------------------------------------


def _inferred_year(month: int, day: int, today: date) -> int:
    """The year of the next ``month``/``day`` on or after 30 days before ``today``."""
    since = today - YEARLESS_LOOKBACK
    return since.year if (month, day) >= (since.month, since.day) else since.year + 1


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def era_span(era: Era) -> tuple[date, date | None]:
    """The first and last day of ``era`` (None for the last day of the current era)."""
    first, last, _ = _ERA_SPANS[era]
    return first, last


def era_of(day: date) -> tuple[Era, int] | None:
    """The era and era year ``day`` falls in (昭和 and later)."""
    for era, (first, last, offset) in _ERA_SPANS.items():
        if first <= day and (last is None or day <= last):
            return era, day.year - offset
    return None


def _era_problem(part: DatePart, year: int) -> tuple[Problem, tuple[Era, int] | None] | None:
    """Whether an era year or era date is outside its era (令和0年, 平成32年, 平成31年5月1日)."""
    assert part.era is not None
    assert part.era_year is not None
    first, last, _ = _ERA_SPANS[part.era]
    if part.era_year < 1:
        return Problem.ERA_YEAR, None
    if year < first.year or (last is not None and year > last.year):
        return Problem.ERA_YEAR, era_of(date(year, 7, 1)) if year <= 9999 else None
    month_first = (part.month or 12, part.day or 31)
    month_last = (part.month or 1, part.day or 1)
    if year == first.year and month_first < (first.month, first.day):
        day = _valid(year, part.month or 1, part.day or 1)
        return Problem.ERA_DATE, era_of(day) if day else None
    if last is not None and year == last.year and month_last > (last.month, last.day):
        day = _valid(year, part.month or 12, part.day or 28)
        return Problem.ERA_DATE, era_of(day) if day else None
    return None


def _resolve_parts(expr: DateExpression, today: date, base: int | None) -> list[ResolvedDate]:
    out: list[ResolvedDate] = []
    prev: tuple[int, int, int] | None = None
    written = False
    for part in expr.parts:
        if part.year is not None:
            year: int | None = part.year
            written = True
        elif part.month is None or part.day is None:
            year = None
        elif prev is not None:
            year = prev[0] + (1 if (part.month, part.day) < (prev[1], prev[2]) else 0)
        elif base is not None:
            year = base
        else:
            year = _inferred_year(part.month, part.day, today)
        out.append(_resolved(part, year, written))
        if year is not None and part.month is not None and part.day is not None:
            prev = (year, part.month, part.day)
    return out


def _resolved(part: DatePart, year: int | None, written: bool) -> ResolvedDate:
    if part.era is not None and year is not None and (problem := _era_problem(part, year)):
        return ResolvedDate(part, year, None, written, problem[0], problem[1])
    if part.month is not None and not 1 <= part.month <= 12:
        return ResolvedDate(part, year, None, written, Problem.MONTH)
    if part.month is None or part.day is None or year is None:
        return ResolvedDate(part, year, None, written)
    day = _valid(year, part.month, part.day) if 1 <= year <= 9999 else None
    if day is None:
        return ResolvedDate(part, year, None, written, Problem.DAY)
    return ResolvedDate(part, year, day, written)


def _weekdays_agree(resolved: list[ResolvedDate]) -> bool:
    checked = [r for r in resolved if r.date is not None and r.part.weekday is not None]
    return bool(checked) and all(
        r.date is not None and r.date.weekday() == r.part.weekday for r in checked
    )


def resolve(expr: DateExpression, today: date) -> tuple[ResolvedDate, ...]:
    """Read each part of ``expr`` against ``today`` (the publish day, local time).

    A year that is written is used as written; a later part without one takes the year of the
    part before it (the next year when it goes back in the calendar: ``12月28日～1月5日``). A
    yearless expression is the next occurrence on or after 30 days before ``today`` — unless its
    weekdays are wrong for that year and right for the year before, and that day lies within
    the 90 days before ``today``: then it is a day written about the recent past
    (``10月15日(木)に開催しました`` on 20 November).
    """
    resolved = _resolve_parts(expr, today, None)
    head = expr.parts[0]
    first = resolved[0]
    if (
        head.year is None
        and first.year is not None
        and any(r.part.weekday is not None for r in resolved)
        and not _weekdays_agree(resolved)
    ):
        earlier = _resolve_parts(expr, today, first.year - 1)
        recent = earlier[0].date is not None and earlier[0].date >= today - RECENT_PAST
        if recent and _weekdays_agree(earlier):
            return tuple(earlier)
    return tuple(resolved)
