from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from workflows import japanese_dates
from workflows.japanese_dates import (
    WEEKDAY_CHARS,
    DateExpression,
    DateStyle,
    Era,
    HolidayMark,
    Link,
    Problem,
    ResolvedDate,
    era_of,
    era_span,
    find_dates,
    resolve,
)

TODAY = date(2026, 11, 20)  # a Friday; Monday the 23rd is 勤労感謝の日


def only(text: str, today: date = TODAY) -> ResolvedDate:
    [expr] = find_dates(text)
    [resolved] = resolve(expr, today)
    return resolved


def spans(text: str) -> list[str]:
    return [text[p.start : p.end] for e in find_dates(text) for p in e.parts]


@pytest.mark.parametrize(
    ("text", "day", "weekday", "marks"),
    [
        ("11月23日(月)", date(2026, 11, 23), 0, set()),
        ("11/23（月）", date(2026, 11, 23), 0, set()),
        ("11月23日（月曜日）", date(2026, 11, 23), 0, set()),
        ("11月23日(月曜)", date(2026, 11, 23), 0, set()),
        ("2026年11月23日 月曜日", date(2026, 11, 23), 0, set()),
        ("2026年 11月 23日(月)", date(2026, 11, 23), 0, set()),
        ("2026/11/23(月)", date(2026, 11, 23), 0, set()),
        ("2026/11/23", date(2026, 11, 23), None, set()),
        ("2026-11-23", date(2026, 11, 23), None, set()),
        ("2026.11.23", date(2026, 11, 23), None, set()),
        ("令和8年11月23日(月・祝)", date(2026, 11, 23), 0, {HolidayMark.HOLIDAY}),
        ("令和８年１１月２３日（月・祝）", date(2026, 11, 23), 0, {HolidayMark.HOLIDAY}),
        ("㋿8年11月23日(月祝)", date(2026, 11, 23), 0, {HolidayMark.HOLIDAY}),
        ("11月23日(月)(祝)", date(2026, 11, 23), 0, {HolidayMark.HOLIDAY}),
        ("11月23日(祝)", date(2026, 11, 23), None, {HolidayMark.HOLIDAY}),
        ("11月24日(火・休)", date(2026, 11, 24), 1, {HolidayMark.REST}),
        ("11月24日(振休)", date(2026, 11, 24), None, {HolidayMark.REST}),
        ("R8.11.23", date(2026, 11, 23), None, set()),
        ("Ｒ８．１１．２３（月）", date(2026, 11, 23), 0, set()),
        ("H31.4.30", date(2019, 4, 30), None, set()),
        ("令和元年5月1日", date(2019, 5, 1), None, set()),
        ("平成元年1月8日", date(1989, 1, 8), None, set()),
        ("昭和64年1月7日", date(1989, 1, 7), None, set()),
        ("十一月二十三日", date(2026, 11, 23), None, set()),
        ("二〇二六年十一月二十三日（月）", date(2026, 11, 23), 0, set()),
        ("令和八年十一月三十日", date(2026, 11, 30), None, set()),
        ("１１月２３日", date(2026, 11, 23), None, set()),
        ("11.23(月)", date(2026, 11, 23), 0, set()),
        ("11/23 (Mon)", date(2026, 11, 23), 0, set()),
        ("11月23日㈪", date(2026, 11, 23), 0, set()),
    ],
)
def test_forms_staff_write(text: str, day: date, weekday: int | None, marks: set[str]) -> None:
    r = only(text)
    assert r.date == day
    assert (r.part.start, r.part.end) == (0, len(text))
    assert r.part.weekday == weekday
    assert r.part.marks == marks


@pytest.mark.parametrize(
    "text",
    [
        "1/2",
        "3/4サイズ",
        "計量カップ1/2杯",
        "得点は11/23",
        "048-463-1111",
        "0120-12-3456",
        "11.23",
        "バージョン2.11.23",
        "v1.2.3",
        "192.168.11.23",
        "https://www.city.example.jp/2026/11/23/",
        "https://example.jp/event/2026-11-23",
        "1,100円",
        "11-23",
        "毎月第3月曜日",
        "3か月",
        "2026年",
        "11/23/2026",
        "50%",
        "3/4(よてい)",
        "〇月〇日(〇)",
        "11月〇日",
    ],
)
def test_numbers_that_are_not_dates(text: str) -> None:
    assert find_dates(text) == ()


@pytest.mark.parametrize("text", ["11/31まで", "2/30から", "11/13締切", "12/4必着"])
def test_bare_slash_dates_before_deadline_words_are_uncertain(text: str) -> None:
    [expr] = find_dates(text)
    assert not expr.parts[0].certain
    assert find_dates("11/23(月)")[0].parts[0].certain


@pytest.mark.parametrize("text", ["1/32まで", "15/20まで", "3/4サイズ", "11/31", "11/31名"])
def test_bare_slash_numbers_that_stay_fractions(text: str) -> None:
    assert find_dates(text) == ()


def test_range_takes_the_month_and_year_of_its_start() -> None:
    text = "11月23日(月)～25日(水)"
    [expr] = find_dates(text)
    start, end = resolve(expr, TODAY)
    assert spans(text) == ["11月23日(月)", "25日(水)"]
    assert end.part.link is Link.RANGE
    assert end.part.month_inherited
    assert (start.date, end.date) == (date(2026, 11, 23), date(2026, 11, 25))


@pytest.mark.parametrize(
    ("text", "parts", "link"),
    [
        ("11月23日(月)〜12月1日(火)", ["11月23日(月)", "12月1日(火)"], Link.RANGE),
        ("11/23(月)-25(水)", ["11/23(月)", "25(水)"], Link.RANGE),
        ("11/23(月)～11/25", ["11/23(月)", "11/25"], Link.RANGE),
        ("11月23日(月)から25日(水)まで", ["11月23日(月)", "25日(水)"], Link.RANGE),
        ("11月23日(月)・24日(火)", ["11月23日(月)", "24日(火)"], Link.LIST),
        ("12月5日・12日・19日", ["12月5日", "12日", "19日"], Link.LIST),
        ("11月21日（土）、22日（日）", ["11月21日（土）", "22日（日）"], Link.LIST),
        ("十一月二十三日～二十五日", ["十一月二十三日", "二十五日"], Link.RANGE),
    ],
)
def test_ranges_and_lists(text: str, parts: list[str], link: Link) -> None:
    assert spans(text) == parts
    [expr] = find_dates(text)
    assert expr.parts[-1].link is link
    assert expr.start == 0


@pytest.mark.parametrize(
    "text",
    ["11月1日から10日間", "11月23日から5日以内", "11月23日～3日目", "11/23(月)-1/2"],
)
def test_numbers_after_a_date_that_are_no_second_date(text: str) -> None:
    [expr] = find_dates(text)
    assert len(expr.parts) == 1


def test_range_over_the_new_year_moves_to_the_next_year() -> None:
    [expr] = find_dates("12月28日(月)～1月5日(火)")
    assert [r.date for r in resolve(expr, TODAY)] == [date(2026, 12, 28), date(2027, 1, 5)]
    [expr] = find_dates("2026年12月28日～1月5日")
    resolved = resolve(expr, TODAY)
    assert [r.date for r in resolved] == [date(2026, 12, 28), date(2027, 1, 5)]
    assert all(r.year_written for r in resolved)


def test_a_day_alone_after_the_month_end_belongs_to_the_next_month() -> None:
    [expr] = find_dates("11月30日(月)～2日(水)")
    assert [r.date for r in resolve(expr, TODAY)] == [date(2026, 11, 30), date(2026, 12, 2)]


def test_weekdays_written_once_for_a_list_are_shared_out() -> None:
    [expr] = find_dates("11月28日・29日(土・日)")
    assert [p.weekday for p in expr.parts] == [5, 6]


def test_time_after_the_date() -> None:
    assert only("11月23日(月)10時～").part.time == (10, 0)
    assert only("11月23日(月) 13:30～").part.time == (13, 30)
    assert only("11月23日(月)午後2時半から").part.time == (14, 30)
    assert only("11月23日(月)10時～").part.end == len("11月23日(月)")


@pytest.mark.parametrize(
    ("text", "problem", "correct"),
    [
        ("2月30日", Problem.DAY, None),
        ("11月31日", Problem.DAY, None),
        ("13月5日", Problem.MONTH, None),
        ("2026年13月", Problem.MONTH, None),
        ("令和0年4月1日", Problem.ERA_YEAR, None),
        ("平成32年度", Problem.ERA_YEAR, (Era.REIWA, 2)),
        ("H32.4.1", Problem.ERA_YEAR, (Era.REIWA, 2)),
        ("平成31年5月1日", Problem.ERA_DATE, (Era.REIWA, 1)),
        ("令和元年4月30日", Problem.ERA_DATE, (Era.HEISEI, 31)),
        ("昭和64年1月8日", Problem.ERA_DATE, (Era.HEISEI, 1)),
        ("昭和65年", Problem.ERA_YEAR, (Era.HEISEI, 2)),
    ],
)
def test_dates_that_do_not_exist(text: str, problem: Problem, correct: object) -> None:
    r = only(text)
    assert r.date is None
    assert r.problem is problem
    assert r.correct_era == correct


def test_february_29th_depends_on_the_inferred_year() -> None:
    assert only("2月29日").problem is Problem.DAY  # read as 2027
    assert only("2月29日", date(2027, 11, 20)).date == date(2028, 2, 29)
    assert only("2028年2月29日").date == date(2028, 2, 29)


def test_yearless_dates_are_the_next_on_or_after_thirty_days_before() -> None:
    assert only("10月21日").date == date(2026, 10, 21)
    assert only("10月20日").date == date(2027, 10, 20)
    assert only("1月5日").date == date(2027, 1, 5)


def test_a_weekday_of_the_recent_past_reads_as_last_year() -> None:
    # 2027-10-15 is a Friday, 2026-10-15 (36 days earlier) a Thursday.
    assert only("10月15日(木)").date == date(2026, 10, 15)
    assert only("10月15日(金)").date == date(2027, 10, 15)
    # A year back is too far: the weekday is simply wrong (2025-11-28 was a Friday).
    assert only("11月28日(金)").date == date(2026, 11, 28)


def test_era_of_and_era_span() -> None:
    assert era_span(Era.HEISEI) == (date(1989, 1, 8), date(2019, 4, 30))
    assert era_span(Era.REIWA) == (date(2019, 5, 1), None)
    assert era_of(date(2019, 5, 1)) == (Era.REIWA, 1)
    assert era_of(date(2019, 4, 30)) == (Era.HEISEI, 31)
    assert era_of(date(1900, 1, 1)) is None


def test_several_expressions_in_one_text() -> None:
    text = "申込は11月13日(金)まで。講座は12月3日(木)・10日(木)、会場は2階。"
    assert spans(text) == ["11月13日(金)", "12月3日(木)", "10日(木)"]


def test_urls_hide_their_dates() -> None:
    text = "詳しくは https://example.jp/news/2026年11月23日 と11月23日(月)の案内を"
    assert spans(text) == ["11月23日(月)"]


# --- properties -----------------------------------------------------------------------------

_KANJI = "〇一二三四五六七八九"


def _kanji(n: int) -> str:
    tens, ones = divmod(n, 10)
    return ("" if tens == 0 else ("十" if tens == 1 else _KANJI[tens] + "十")) + (
        _KANJI[ones] if ones else ""
    )


def _kanji_year(n: int) -> str:
    return "".join(_KANJI[int(c)] for c in str(n))


def _era(day: date) -> str:
    found = era_of(day)
    assert found is not None
    era, year = found
    return f"{era.value}{'元' if year == 1 else year}年"


def _era_letter(day: date) -> str:
    found = era_of(day)
    assert found is not None
    return {"令和": "R", "平成": "H", "昭和": "S"}[found[0].value] + str(found[1])


Form = Callable[[date, str], str]

# Every supported way of writing a date with its weekday marker ``w`` ("(月)", "(月・祝)" …).
FORMS: dict[str, tuple[Form, bool]] = {
    # name: (how it is written, whether the year is written)
    "md": (lambda d, w: f"{d.month}月{d.day}日{w}", False),
    "slash": (lambda d, w: f"{d.month}/{d.day}{w}", False),
    "md-long": (lambda d, w: f"{d.month}月{d.day}日{w.replace(')', '曜日)')}", False),
    "ymd-space": (lambda d, w: f"{d.year}年{d.month}月{d.day}日 {w[1]}曜日", True),
    "ymd": (lambda d, w: f"{d.year}年{d.month}月{d.day}日{w}", True),
    "yslash": (lambda d, w: f"{d.year}/{d.month}/{d.day}{w}", True),
    "iso": (lambda d, w: f"{d:%Y-%m-%d}{w}", True),
    "era": (lambda d, w: f"{_era(d)}{d.month}月{d.day}日{w}", True),
    "era-dot": (lambda d, w: f"{_era_letter(d)}.{d.month}.{d.day}{w}", True),
    "kanji": (lambda d, w: f"{_kanji(d.month)}月{_kanji(d.day)}日{w}", False),
    "kanji-year": (
        lambda d, w: f"{_kanji_year(d.year)}年{_kanji(d.month)}月{_kanji(d.day)}日{w}",
        True,
    ),
}
FULL_WIDTH = str.maketrans("0123456789()/.-", "０１２３４５６７８９（）／．－")


def marker(day: date, weekday: int | None = None) -> str:
    return f"({WEEKDAY_CHARS[day.weekday() if weekday is None else weekday]})"


dates_written = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))


@given(
    day=dates_written,
    form=st.sampled_from(sorted(FORMS)),
    full_width=st.booleans(),
    back=st.integers(min_value=-30, max_value=300),
)
def test_round_trip_of_every_form(day: date, form: str, full_width: bool, back: int) -> None:
    write, _ = FORMS[form]
    text = write(day, marker(day))
    if full_width:
        text = text.translate(FULL_WIDTH)
    for variant in (text, unicodedata.normalize("NFKC", text)):
        framed = f"講座は{variant}に開きます"
        [expr] = find_dates(framed)
        [r] = resolve(expr, day - timedelta(days=back))
        assert framed[expr.start : expr.end] == variant
        assert r.date == day
        assert r.part.weekday == day.weekday()


@given(st.text())
def test_any_text_parses_without_error_and_spans_stay_inside(text: str) -> None:
    _check_expressions(text, find_dates(text))


DATE_LIKE = (
    "0123456789０１２３４５６７８９年月日/.-~・、()（）月火水木金土日祝休令和平成元十一二三 "
)


@given(st.text(alphabet=DATE_LIKE))
def test_date_like_noise_parses_without_error(text: str) -> None:
    _check_expressions(text, find_dates(text))


def _check_expressions(text: str, found: tuple[DateExpression, ...]) -> None:
    last_end = 0
    for expr in found:
        assert last_end <= expr.start < expr.end <= len(text)
        last_end = expr.end
        for part in expr.parts:
            assert expr.start <= part.start < part.end <= expr.end
            assert part.style in DateStyle
        for r in resolve(expr, TODAY):
            assert r.date is None or r.problem is None


# Dates joined into chains by lists and ranges, written again and again in other surroundings.
_CHAINED = st.lists(
    st.sampled_from(
        [
            *("12月5日(土)", "12月5日", "11月5日(木)", "5日(土)", "6日", "6日(日)", "11月28日"),
            *("1/2(金)", "1/3", "、", "・", "～", "から", " ", "\n", "x"),
        ]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300)
@given(_CHAINED, _CHAINED)
# The same words after another month; the same date before other words.
@example("11月5日(木)、6日" + "x" * 130, "12月5日(土)、6日" + "x" * 130)
@example("12月5日(土)、6日(日)", "12月5日(土)、6日x")
def test_a_chain_read_again_where_it_recurs_is_read_the_same(first: str, second: str) -> None:
    text = first + second + first + second
    for expr in find_dates(text):
        head = expr.parts[0]
        parts = [head]
        if head.is_full and head.certain:  # each next date looked for afresh, nothing kept
            while nxt := japanese_dates._next_in_chain(text, parts[-1].end, head, parts[-1]):
                parts.append(nxt)
        assert expr.parts == tuple(japanese_dates._share_weekdays(parts))
