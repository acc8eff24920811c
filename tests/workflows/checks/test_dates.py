from __future__ import annotations

import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.conftest import DEFAULT_AT, JST, CheckFn
from workflows.calendar import BusinessCalendar
from workflows.catalogue import Lang
from workflows.checks import Checker, CheckResult, CheckSettings, DraftToCheck, Finding, Severity
from workflows.checks.data import RuleDataError
from workflows.checks.rules import dates
from workflows.japanese_dates import WEEKDAY_CHARS

# Default publish time: Friday 2026-11-20 10:00 JST; Monday the 23rd is 勤労感謝の日.
ONLY_DATES = Checker(rules=(dates.RULE,))


def date_findings(result: CheckResult) -> list[Finding]:
    return [f for f in result.findings if f.rule.startswith("date")]


def one(check: CheckFn, text: str, **kwargs: object) -> Finding:
    [finding] = date_findings(check(text, **kwargs))
    return finding


def quoted(text: str, f: Finding) -> str:
    return text[f.start : f.end]


# --- date-weekday -----------------------------------------------------------------------------


def test_wrong_weekday_is_an_error_with_the_right_one(check: CheckFn) -> None:
    text = "市民まつりを11月28日(金)に開催します。"
    f = one(check, text)
    assert f.rule == "date-weekday"
    assert f.severity is Severity.ERROR
    assert quoted(text, f) == "11月28日(金)"
    assert f.suggestion == "11月28日(土)"
    assert "2026年11月28日は土曜日です（「(金)」と書かれています）" in f.message
    assert "金曜日なら2026年11月27日です" in f.message
    assert not check(text).ok


@pytest.mark.parametrize(
    ("text", "span", "suggestion"),
    [
        ("11/28（金）開催", "11/28（金）", "11/28（土）"),
        ("１１月２８日（金）に開催", "１１月２８日（金）", "１１月２８日（土）"),
        ("11月28日（金曜日）に", "11月28日（金曜日）", "11月28日（土曜日）"),
        ("2026年11月28日 金曜日に", "2026年11月28日 金曜日", "2026年11月28日 土曜日"),
        ("2026/11/28(金)", "2026/11/28(金)", "2026/11/28(土)"),
        ("令和8年11月23日(火・祝)", "令和8年11月23日(火・祝)", "令和8年11月23日(月・祝)"),
        (
            "令和８年１１月２３日（火・祝）",
            "令和８年１１月２３日（火・祝）",
            "令和８年１１月２３日（月・祝）",
        ),
        ("R8.11.28(金)", "R8.11.28(金)", "R8.11.28(土)"),
        ("十一月二十八日(金)", "十一月二十八日(金)", "十一月二十八日(土)"),
        (
            "二〇二六年十一月二十八日（金）",
            "二〇二六年十一月二十八日（金）",
            "二〇二六年十一月二十八日（土）",
        ),
        ("11月28日(Fri)", "11月28日(Fri)", "11月28日(Sat)"),
        ("11月28日㈮", "11月28日㈮", "11月28日(土)"),
        ("11月28日(金)10時～", "11月28日(金)", "11月28日(土)"),
    ],
)
def test_wrong_weekday_in_every_form(check: CheckFn, text: str, span: str, suggestion: str) -> None:
    f = one(check, text)
    assert (f.rule, quoted(text, f), f.suggestion) == ("date-weekday", span, suggestion)


@pytest.mark.parametrize(
    ("text", "span", "suggestion"),
    [
        ("11月23日(月・祝)～25日(木)", "25日(木)", "25日(水)"),
        ("11月23日(月・祝)〜12月1日(水)", "12月1日(水)", "12月1日(火)"),
        ("11/23(月・祝)-25(木)", "25(木)", "25(水)"),
        ("11月23日(月・祝)・24日(水)", "24日(水)", "24日(火)"),
        ("11月28日・29日(土・月)", "29日(土・月)", "29日(土・日)"),
        ("12月28日(月)～1月5日(月)", "1月5日(月)", "1月5日(火)"),
    ],
)
def test_ranges_and_lists_point_at_the_wrong_day(
    check: CheckFn, text: str, span: str, suggestion: str
) -> None:
    f = one(check, text)
    assert (f.rule, quoted(text, f), f.suggestion) == ("date-weekday", span, suggestion)


def test_last_years_date_hints_at_the_year(check: CheckFn) -> None:
    text = "2025年11月23日(月)に開催します"
    weekday, past = date_findings(check(text))
    assert weekday.rule == "date-weekday"
    assert "2026年11月23日なら月曜日です" in weekday.message
    assert past.rule == "date-past"


@pytest.mark.parametrize(
    "text",
    [
        "11月23日(月・祝)に開催します",
        "11月23日（月祝）",
        "11月23日(祝)",
        "11月23日(月)(祝)",
        "11月23日(月・休)",
        "11月28日(土)・29日(日)",
        "11月28日・29日(土・日)",
        "12月28日(月)～1月5日(火)",
        "11月21日（土）、22日（日）の2日間",
        "11/28(Sat)",
        "12月5日(土)午前10時から",
    ],
)
def test_right_weekdays_are_quiet(check: CheckFn, text: str) -> None:
    assert date_findings(check(text)) == []


# --- holiday marks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("11月24日(火・祝)は休館します", "11月24日(火)"),
        ("11月24日（祝）は休館します", "11月24日（火）"),
        ("11月24日(火)(祝)", "11月24日(火)"),
    ],
)
def test_holiday_mark_on_a_working_day_is_an_error(
    check: CheckFn, text: str, suggestion: str
) -> None:
    f = one(check, text)
    assert f.rule == "date-weekday.holiday"
    assert f.severity is Severity.ERROR
    assert quoted(text, f) == text.removesuffix("は休館します")
    assert f.suggestion == suggestion
    assert "2026年11月24日は祝日ではありません" in f.message


def test_wrong_weekday_and_wrong_holiday_mark_are_one_error(check: CheckFn) -> None:
    f = one(check, "11月24日(月・祝)")
    assert f.rule == "date-weekday"
    assert f.suggestion == "11月24日(火)"
    assert "月曜日なら2026年11月23日です" in f.message


def test_substitute_and_citizens_holidays_take_either_mark(check: CheckFn) -> None:
    april = datetime(2026, 4, 20, 10, tzinfo=JST)  # 2026-05-06 is a substitute holiday
    assert date_findings(check("5月6日(水・休)", at=april)) == []
    assert date_findings(check("5月6日(水・祝)", at=april)) == []
    september = datetime(2026, 9, 1, 10, tzinfo=JST)  # 2026-09-22 is a citizens' holiday
    assert date_findings(check("9月22日(火・休)", at=september)) == []


def test_rest_mark_on_a_working_day_is_only_a_note(check: CheckFn) -> None:
    text = "11月24日(火・休)は休館です"
    f = one(check, text)
    assert f.rule == "date-weekday.rest-day"
    assert f.severity is Severity.INFO
    assert quoted(text, f) == "11月24日(火・休)"
    assert "休館日" in f.message
    # (休) alone means "closed" as often as "substitute holiday": say nothing.
    assert date_findings(check("11月24日(休)")) == []


def test_holiday_without_its_mark_is_only_a_note_once(check: CheckFn) -> None:
    text = "11月23日(月)は臨時開館します。11月23日(月)は駐車場も使えます。"
    f = one(check, text)
    assert f.rule == "date-weekday.holiday-unmarked"
    assert f.severity is Severity.INFO
    assert f.suggestion == "11月23日(月・祝)"
    assert "勤労感謝の日" in f.message
    assert check(text).ok


def test_substitute_holiday_without_its_mark_suggests_rest(check: CheckFn) -> None:
    f = one(check, "3月22日(月)に開催")  # 2027-03-22: 春分の日 振替休日
    assert f.rule == "date-weekday.holiday-unmarked"
    assert f.suggestion == "3月22日(月・休)"


def test_past_holiday_without_its_mark_is_not_noted(check: CheckFn) -> None:
    assert date_findings(check("11月3日(火)に開催しました")) == []


@pytest.mark.parametrize(
    "text", ["11月23日（月）の勤労感謝の日は休館日です", "11月23日(月)は祝日のため休館"]
)
def test_holiday_named_in_words_is_not_noted(check: CheckFn, text: str) -> None:
    assert date_findings(check(text)) == []


# --- date-invalid -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span", "words", "suggestion"),
    [
        ("受付は2月30日まで", "2月30日", "2027年2月は28日まで", None),
        ("11月31日(火)開催", "11月31日(火)", "（11月は30日までです）", None),
        ("13月5日", "13月5日", "13月という月はありません", None),
        ("R8.11.31", "R8.11.31", "2026年11月は30日まで", None),
        ("令和0年4月1日", "令和0年4月1日", "令和0年はありません", None),
        ("平成32年度の事業", "平成32年", "西暦2020年は令和2年です", "令和2年"),
        ("平成32年4月1日から", "平成32年4月1日", "令和2年", "令和2年4月1日"),
        ("H32.4.1", "H32.4.1", "令和2年", "R2.4.1"),
        ("平成31年5月1日", "平成31年5月1日", "令和元年", "令和元年5月1日"),
        ("令和元年4月30日", "令和元年4月30日", "平成31年", "平成31年4月30日"),
        ("受付：11月1日(日)～11月31日(火)", "11月31日(火)", "11月は30日まで", None),
    ],
)
def test_dates_that_do_not_exist(
    check: CheckFn, text: str, span: str, words: str, suggestion: str | None
) -> None:
    f = one(check, text)
    assert f.rule == "date-invalid"
    assert f.severity is Severity.ERROR
    assert quoted(text, f) == span
    assert words in f.message
    assert f.suggestion == suggestion


def test_bare_slash_deadline_that_cannot_exist(check: CheckFn) -> None:
    text = "作品展は11/31まで開催しています。"
    f = one(check, text)
    assert (f.rule, quoted(text, f)) == ("date-invalid", "11/31")
    # Maybe a fraction: nothing but an impossible day is said about it.
    assert (
        date_findings(check("ごみを1/3まで減らしましょう。", at=datetime(2027, 1, 20, tzinfo=JST)))
        == []
    )
    assert date_findings(check("申込は11/13まで")) == []


def test_february_29th_follows_the_inferred_year(check: CheckFn) -> None:
    f = one(check, "2月29日(月)")
    assert f.rule == "date-invalid"
    assert "2027年の日付として確認しました" in f.message
    leap = datetime(2027, 11, 20, 10, tzinfo=JST)
    assert date_findings(check("2月29日(火)", at=leap)) == []


# --- date-past --------------------------------------------------------------------------------


def test_deadline_already_past_is_a_warning(check: CheckFn) -> None:
    text = "講座の受講者を募集します。申込締切：11月13日(金)"
    f = one(check, text)
    assert f.rule == "date-past"
    assert f.severity is Severity.WARNING
    assert quoted(text, f) == "11月13日(金)"
    assert "2026年11月13日は公開日（2026年11月20日）より前の日付です" in f.message
    assert "2026年の日付として確認しました" in f.message
    assert check(text).ok


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("令和7年11月13日(木)に開催します", "令和7年11月13日(木)"),
        ("11月13日(金)から受付を開始します", "11月13日(金)"),
        ("11月13日 市民まつり\n会場は市民会館です。", "11月13日"),
        ("受付期間：11月1日(日)～11月13日(金)", "11月1日(日)～11月13日(金)"),
        ("10月15日(木)に開催します", "10月15日(木)"),
    ],
)
def test_past_dates_of_announcements(check: CheckFn, text: str, span: str) -> None:
    f = one(check, text)
    assert (f.rule, quoted(text, f)) == ("date-past", span)


def test_past_is_measured_in_tokyo(check: CheckFn) -> None:
    utc_evening = datetime(2026, 11, 19, 20, 0, tzinfo=ZoneInfo("UTC"))  # 11-20 05:00 in Tokyo
    f = one(check, "11月19日(木)開催", at=utc_evening)
    assert f.rule == "date-past"
    assert date_findings(check("11月20日(金)開催", at=utc_evening)) == []


@pytest.mark.parametrize(
    "text",
    [
        "11月13日(金)に市民まつりを開催しました。",
        "【実施報告】11月14日(土)に開催した「親子ふれあい教室」には32組が参加しました！",
        "【開催報告】11月14日(土) 子ども将棋教室\n22人が参加しました。",
        "先日の市民まつり（11月8日）にご来場いただいた皆さま、ありがとうございました。",
        "11月7日(土)の防災訓練の様子をお伝えします",
        "去る11月3日、表彰式が行われた",
        "10月15日(木)に開催しました",
        "11月1日(日)から受付中です",
        "ワクチン接種の予約受付を11月16日(月)から開始しています。",
        "10月1日からマイナ保険証への移行が始まっています。",
        "企画展 開催中！会期：10月24日(土)～12月13日(日)",
        "令和7年1月1日現在で市内に住所がある方",
        "平成30年4月2日から平成31年4月1日までに生まれた方",
        "令和7年4月2日～令和8年4月1日生まれのお子さん",
        "令和7年1月1日～12月31日の所得に対する課税",
        "広報あさか11月15日号を発行しました",
        "令和8年11月1日付で組織改正を行いました",
        "最終更新：2026年11月1日",
        "2020年4月1日に開館した図書館",
        "市制施行は昭和42年3月15日です",
        "阪神・淡路大震災から31年。1995年1月17日(火)午前5時46分。あの日を忘れない。",
        "先週開催した市民まつり（11月13日）の写真です",
        "昨日、11月19日(木)に市民まつりがありました",
        "職員採用試験の申込は11月13日(金)で締め切りました。",
        "11月1日以降に届いた申請書は",
    ],
)
def test_reports_and_reference_days_are_not_past_warnings(check: CheckFn, text: str) -> None:
    assert date_findings(check(text)) == []


def test_cues_are_read_around_each_of_many_dates_in_the_past(check: CheckFn) -> None:
    # Past a few dozen dates in the past, where a draft's cues are is found once for all of
    # them: a date whose sentence says it is over keeps no finding, with its cue far before it,
    # right before it or right after it; every other date keeps its own.
    sentences = [f"11月{day % 19 + 1}日の集い。" for day in range(40)]
    sentences[33] = "講座の全日程が終わりました、11月2日。"
    sentences[35] = "昨年の11月3日の集い。"
    sentences[37] = "11月4日の集いは終わりました。"
    text = "".join(sentences)
    found = date_findings(check(text))
    assert [f.rule for f in found] == ["date-past"] * 37
    starts = [sum(map(len, sentences[:i])) + s.index("11月") for i, s in enumerate(sentences)]
    assert [f.start for f in found] == [at for i, at in enumerate(starts) if i not in (33, 35, 37)]


# --- precision --------------------------------------------------------------------------------

ORDINARY_DRAFTS = [
    "【市民まつり】11月28日(土)10時～15時、中央公園で開催します。雨天中止。詳しくは市HPへ "
    "https://www.city.example.lg.jp/site/event/2026/11/28/",
    "【講座】パソコン初心者講座（全3回）12月3日(木)・10日(木)・17日(木)14:00～16:00 定員20人 "
    "申込：11月25日(水)から電話で",
    "【パブリックコメント】「第5次総合計画（案）」への意見を募集します。期間：11月24日(火)～12月23日(水)",
    "ごみ収集のお知らせ：年末年始は12月29日(火)から1月3日(日)まで収集を休みます。"
    "1月4日(月)から通常どおり収集します。",
    "【特定健診】令和8年度の特定健診は12月26日(土)までです。"
    "対象：昭和27年4月1日から昭和62年3月31日までに生まれた方",
    "【防災訓練】12月6日(日)午前9時から市内全域で総合防災訓練を行います。防災行政無線でサイレンが鳴ります。",
    "【図書館】12月のおはなし会 毎週土曜日 11時～ 12月5日・12日・19日・26日 対象：3歳～小学2年生",
    "【博物館】企画展「みどり市の近代」開催中！会期：10月24日(土)～12月13日(日) 休館日：月曜日"
    "（11月23日は開館し、24日(火)休館）",
    "【税】固定資産税・都市計画税の第3期の納期限は12月28日(月)です。口座振替の方は残高をご確認ください。",
    "成人式（二十歳を祝う会）は令和9年1月10日(日)に開催します。"
    "対象は平成18年4月2日～平成19年4月1日生まれの方です。",
    "マイナンバーカードの休日交付窓口を11月23日(月・祝)に開設します。",
    "投票日は12月13日(日)です。期日前投票は12月8日(火)から12日(土)まで",
    "11月20日(金)から12月4日(金)まで申請を受け付けます。",
    "受付開始は12月1日(火)、締め切りは12月25日(金)必着。",
    "12/5(土)・6(日)は 市民文化祭！",
    "ウォーキング大会 3/4コース、1/2コースを用意しています。計量カップ1/2杯",
    "バージョン2.11.23にアップデート。電話048-463-1111（代表）まで。得点は11-23。1,100円（税込）",
    "第2・第4土曜日は休館。第3月曜日は図書整理日です。",
    "令和8年度第2回審議会を12月1日(火)午後2時から開催します",
]


@pytest.mark.parametrize("text", ORDINARY_DRAFTS)
def test_ordinary_drafts_have_no_date_finding(check: CheckFn, text: str) -> None:
    assert date_findings(check(text)) == []


# --- settings, language, data -----------------------------------------------------------------


def test_rule_ids_can_be_disabled_one_by_one(check: CheckFn) -> None:
    text = "11月13日(金)に開催します。11月28日(金)にも開催します。"
    assert [f.rule for f in date_findings(check(text))] == ["date-past", "date-weekday"]
    no_weekday = CheckSettings(disabled_rules=("date-weekday",))
    assert [f.rule for f in date_findings(check(text, settings=no_weekday))] == ["date-past"]
    as_info = CheckSettings(severities={"date-past": Severity.INFO})
    past = date_findings(check(text, settings=as_info))[0]
    assert past.severity is Severity.INFO


def test_enabling_one_date_rule_runs_the_date_module(check: CheckFn) -> None:
    only_weekday = CheckSettings(enabled_rules=("date-weekday",))
    result = check("11月13日(金)に開催します。11月28日(金)にも。", settings=only_weekday)
    assert [f.rule for f in result.findings] == ["date-weekday"]


def test_english_messages() -> None:
    checker = Checker(rules=(dates.RULE,), lang=Lang.EN)
    [f] = checker.check(DraftToCheck("11月28日(金)に開催", DEFAULT_AT)).findings
    assert f.message.startswith("2026-11-28 is a Saturday (the draft says “(金)”).")


def copy_data(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    path = tmp_path / "dates.yaml"
    shutil.copy(dates.DATA_FILE, path)
    return path, yaml.safe_load(path.read_text(encoding="utf-8"))


def test_shipped_data_loads() -> None:
    dates.load()


def test_a_failing_spec_stops_loading(tmp_path: Path) -> None:
    path, data = copy_data(tmp_path)
    past = data["past_cues"]
    assert isinstance(past, list)
    past[0]["specs"]["hit"].append("11月28日(土)に開催します")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RuleDataError, match=r"dates\.yaml: past_cues\[0\] \(polite past tense\)"):
        dates.load(path)


def test_a_failing_example_stops_loading(tmp_path: Path) -> None:
    path, data = copy_data(tmp_path)
    examples = data["examples"]
    assert isinstance(examples, list)
    examples.append({"text": "11月28日(金)に開催", "findings": []})
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RuleDataError, match=r"11月28日\(金\)に開催.*found \['date-weekday'\]"):
        dates.load(path)


def test_a_broken_pattern_stops_loading(tmp_path: Path) -> None:
    path, data = copy_data(tmp_path)
    reference = data["reference_cues"]
    assert isinstance(reference, list)
    reference[0]["patterns"].append("(unclosed")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RuleDataError, match=r"reference_cues\[0\].*bad pattern"):
        dates.load(path)


# --- properties -------------------------------------------------------------------------------

FORMS = [
    "{m}月{d}日{w}",
    "{m}/{d}{w}",
    "{m}月{d}日{wl}",
    "{y}年{m}月{d}日 {wd}曜日",
    "{y}年{m}月{d}日{w}",
    "{y}/{m}/{d}{w}",
    "{y}-{m:02d}-{d:02d}{w}",
    "{era}{m}月{d}日{w}",
    "{era_letter}.{m}.{d}{w}",
    "{km}月{kd}日{w}",
    "{fy}年{fm}月{fd}日{fw}",
]
_KANJI = "〇一二三四五六七八九"
_FULL = str.maketrans("0123456789()", "０１２３４５６７８９（）")


def _kanji(n: int) -> str:
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _KANJI[tens] + "十")
    return head + (_KANJI[ones] if ones else "")


def written(day: date, form: str, weekday: int) -> str:
    holiday = BusinessCalendar.holiday_name(day)
    mark = "" if holiday is None else "・休" if "振替休日" in holiday else "・祝"
    wd = WEEKDAY_CHARS[weekday]
    reiwa = day.year - 2018
    era = f"令和{'元' if reiwa == 1 else reiwa}年"
    return form.format(
        y=day.year,
        m=day.month,
        d=day.day,
        w=f"({wd}{mark})",
        wl=f"({wd}曜日{mark})",
        wd=wd,
        era=era,
        era_letter=f"R{reiwa}",
        km=_kanji(day.month),
        kd=_kanji(day.day),
        fy=str(day.year).translate(_FULL),
        fm=str(day.month).translate(_FULL),
        fd=str(day.day).translate(_FULL),
        fw=f"（{wd}{mark}）",
    )


@settings(max_examples=300)
@given(
    day=st.dates(min_value=date(2019, 6, 1), max_value=date(2060, 12, 31)),
    form=st.sampled_from(FORMS),
    # Up to 250 days ahead: further, a wrong weekday that fits the same day a year earlier
    # (then within 90 days before publishing) is read as that past day.
    ahead=st.integers(min_value=0, max_value=250),
    shift=st.integers(min_value=1, max_value=6),
)
def test_generated_dates_round_trip(day: date, form: str, ahead: int, shift: int) -> None:
    at = datetime.combine(day - timedelta(days=ahead), time(10), tzinfo=JST)
    right = written(day, form, day.weekday())
    # A holiday mark needs brackets: "2026年11月23日 月曜日" rightly gets a note.
    assume(not (form.endswith("曜日") and BusinessCalendar.holiday_name(day)))
    assert ONLY_DATES.check(DraftToCheck(f"講座は{right}に開きます。", at)).findings == ()
    wrong = written(day, form, (day.weekday() + shift) % 7)
    text = f"講座は{wrong}に開きます。"
    [f] = ONLY_DATES.check(DraftToCheck(text, at)).findings
    assert (f.rule, f.severity) == ("date-weekday", Severity.ERROR)
    assert text[f.start : f.end] == wrong
    assert f.suggestion == right


@given(st.text())
def test_any_text_checks_without_error_and_spans_stay_inside(text: str) -> None:
    for f in ONLY_DATES.check(DraftToCheck(text, DEFAULT_AT)).findings:
        assert 0 <= f.start <= f.end <= len(text)
        assert f.rule.startswith("date")


@given(
    st.text(
        alphabet="0123456789０１２３４５６７８９年月日/.-~・、()（）"
        "月火水木金土日祝休令和平成元十一二 ましたからのに現在"
    )
)
def test_date_like_noise_checks_without_error(text: str) -> None:
    for f in ONLY_DATES.check(DraftToCheck(text, DEFAULT_AT)).findings:
        assert 0 <= f.start < f.end <= len(text)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="11月日前に開催しましたの予定は終了。\n 、", max_size=60),
    st.integers(0, 60),
    st.integers(0, 60),
)
def test_a_cue_ruled_out_for_a_whole_draft_occurs_in_no_stretch_of_it(
    text: str, pos: int, endpos: int
) -> None:
    cues = dates._cues()
    for cue in (cues.past, cues.ongoing, cues.reference, cues.before, cues.label, cues.report):
        if not dates._around(text).may_hold(cue):
            assert cue.regex.search(text, pos, endpos) is None
            assert cue.regex.match(text, pos) is None
