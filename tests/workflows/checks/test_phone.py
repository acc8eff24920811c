from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DEFAULT_AT, CheckFn
from workflows.catalogue import Lang
from workflows.checks import CheckResult, CheckSettings, DraftToCheck, Finding, Severity
from workflows.checks.data import RULES_DIR, RuleDataError
from workflows.checks.engine import Checker
from workflows.checks.rules import phone

# The example city, みどり市 (fictional): its published numbers and domains.
CITY = CheckSettings(
    official_phone_numbers=("0277-12-3400", "0277-12-3411", "0277-12-3499"),
    official_domains=("city.midori.lg.jp",),
)

# Ordinary drafts a city hall really posts; none of them may raise a warning in these families.
MUNICIPAL_DRAFTS = (
    "【市民まつり開催のお知らせ】11月23日(月・祝)10:00～15:00、みどり市民会館（みどり市大間々町"
    "大間々1234）で第20回みどり市民まつりを開催します。詳しくは市ホームページをご覧ください。"
    "https://www.city.midori.lg.jp/event/matsuri2026.html #みどり市 #市民まつり",
    "【健康診断のお知らせ】令和8年度の特定健康診査を実施しています。対象：40～74歳の国民健康保険"
    "加入者。受診期限：12月25日(金)。問い合わせ：健康増進課 0277-12-3411",
    "燃やすごみの収集日が変わります。12月1日(火)から、笠懸地区は月・木曜日になります。"
    "問い合わせ：環境課（電話0277-12-3400 内線235）",
    "【パブリックコメント募集】「第3次みどり市環境基本計画（案）」への意見を募集します。"
    "期間：11月20日(金)～12月21日(月)。資料は市役所1階市民ホール、各公民館で閲覧できます。",
    "11月29日(日)9:00から、市内全域で総合防災訓練を実施します。防災行政無線で訓練放送を行います。",
    "【図書館だより】12月の休館日は7日(月)、14日(月)、21日(月)、28日(月)～1月4日(月)です。",
    "大間々博物館で企画展「渡良瀬川と人々の暮らし」を開催中です。会期：10月3日(土)～12月13日(日)、"
    "開館時間9:00-16:30。入館料：一般300円、高校・大学生200円、中学生以下無料。",
    "市県民税第3期の納期限は11月30日(月)です。口座振替をご利用の方は前日までに残高をご確認ください。",
    "【講座のご案内】スマホ教室（全3回）12月2日・9日・16日(水)13:30-15:30 会場：笠懸公民館 "
    "定員：15人（先着順）申込：11月24日(火)8:30から電話で生涯学習課（0277-12-3400）へ",
    "みどり市の人口は11月1日現在、48,123人（前月比-35人）です。",
    "【求人】会計年度任用職員を募集します。勤務時間8:30-17:15、時給1,050円。締切：12月4日(金)必着。",
    "【防犯情報】市職員を名乗り「還付金がある」とATMへ誘導する詐欺にご注意ください。"
    "不審に思ったら警察相談専用電話 #9110 へ。",
    "第12回みどり市美術展の入賞者が決まりました。市長賞：山田太郎さん（大間々町）、教育長賞："
    "佐藤花子さん（笠懸町）。展示は11月28日(土)～12月6日(日)、市民体育館2階ギャラリーで。",
    "【マイナンバーカード】休日窓口を開設します。12月13日(日)9:00-12:00 市民課（本庁舎1階）。"
    "予約：0277-12-3411",
    "総合防災マップを全戸配布しました。ハザードマップはhttps://www.city.midori.lg.jp/bousai/map.pdf"
    "（PDF：12.3MB）からもご覧いただけます。",
    "【令和7-8年度 入札参加資格審査】申請受付期間は1月5日(火)～1月29日(金)です。",
    "ver.2.0 にアップデートした「みどり市防災アプリ」をぜひご利用ください。",
    "〒376-0101 みどり市大間々町大間々1234-5 みどり市役所 企画課 広報係 あて",
    "本日の放射線量測定結果：0.05μSv/h（大間々中学校）、0.06μSv/h（笠懸小学校）",
    "成人式は令和9年1月10日(日)、みどり市文化会館で。対象：平成18年4月2日～平成19年4月1日生まれの方",
    "お問い合わせ：市民課 市民係 電話：0277-12-3400（代表） FAX：0277-12-3499 "
    "メール：shimin@city.midori.lg.jp",
    "道路工事のお知らせ：市道1-234号線（大間々町桐原地内）で11月24日～12月18日、片側交互通行です。",
    "市内の小中学生を対象に「読書感想文コンクール」の作品を募集します。締切12月11日(金)。",
    "水道料金はコンビニ・スマホ決済でも支払えます。お客様番号（10桁）をご用意ください。",
)


def phone_findings(result: CheckResult) -> list[Finding]:
    return [f for f in result.findings if f.rule.split(".")[0] == "phone"]


def quoted(text: str, f: Finding) -> str:
    return text[f.start : f.end]


@pytest.mark.parametrize(
    ("text", "number", "expected", "actual"),
    [
        ("問い合わせ：市民課 0277-12-340", "0277-12-340", "10桁", "9桁"),
        ("電話 0277-12-34000（代表）", "0277-12-34000", "10桁", "11桁"),
        ("TEL.03-1234-567", "03-1234-567", "10桁", "9桁"),
        ("℡ 0277-1-3400", "0277-1-3400", "10桁", "9桁"),
        ("フリーダイヤル 0120-12-345", "0120-12-345", "10桁", "9桁"),
        ("IP電話 050-1234-567", "050-1234-567", "11桁", "10桁"),
        ("お問い合わせは0277-12-34001まで", "0277-12-34001", "10桁", "11桁"),
        ("電話：0277123", "0277123", "10桁", "7桁"),
        # Nine digits in groups after an area code: a fixed line that lost a digit, label or not.
        ("会場：みどり市民会館（0277-12-340）", "0277-12-340", "10桁", "9桁"),
        ("申し込み先 みどり市役所 0277‐12‐340", "0277‐12‐340", "10桁", "9桁"),
        ("みどり市民会館 (0277)12-340", "(0277)12-340", "10桁", "9桁"),
    ],
)
def test_a_number_with_the_wrong_digit_count_is_an_error(
    check: CheckFn, text: str, number: str, expected: str, actual: str
) -> None:
    [f] = phone_findings(check(text))
    assert (f.rule, f.severity) == ("phone.malformed", Severity.ERROR)
    assert quoted(text, f) == number
    assert f"「{number}」" in f.message
    assert expected in f.message
    assert actual in f.message


@pytest.mark.parametrize(
    ("text", "number", "fixed"),
    [
        ("電話：0277-123-400（代表）", "0277-123-400", "0277-12-3400"),
        ("電話 03-123-45678", "03-123-45678", "03-1234-5678"),
        ("TEL 0277(123)400", "0277(123)400", "0277-12-3400"),
    ],
)
def test_a_fixed_line_grouped_against_the_6_plus_4_shape_is_an_error(
    check: CheckFn, text: str, number: str, fixed: str
) -> None:
    [f] = phone_findings(check(text))
    assert (f.rule, f.severity) == ("phone.malformed", Severity.ERROR)
    assert quoted(text, f) == number
    assert f.suggestion == fixed
    assert "6桁" in f.message


def test_full_width_digits_are_checked_and_the_span_points_at_what_was_written(
    check: CheckFn,
) -> None:
    text = "電話：０２７７－１２－３４０（代表）"
    [f] = phone_findings(check(text))
    assert f.rule == "phone.malformed"
    assert quoted(text, f) == "０２７７－１２－３４０"
    assert "「０２７７－１２－３４０」" in f.message


def test_an_area_code_split_in_the_wrong_place_is_a_warning_with_the_plan_s_grouping(
    check: CheckFn,
) -> None:
    text = "お問い合わせ：TEL 027-712-3400"
    [f] = phone_findings(check(text))
    assert (f.rule, f.severity) == ("phone.area-code", Severity.WARNING)
    assert quoted(text, f) == "027-712-3400"
    assert f.suggestion == "0277-12-3400"
    assert "0277-12-3400" in f.message


@pytest.mark.parametrize(
    "text",
    [
        "電話 0277-12-3400（代表）",
        "電話 0277(12)3411",
        "電話 (0277)12-3400",
        "TEL：０２７７－１２－３４００",
        "TEL +81-277-12-3400",
        "TEL +81 (0)277-12-3411",
        "電話 0277 12 3400",
        "0277ー12ー3400",
        "電話 0277123400",
        "電話：0277-12-3400、FAX：0277-12-3499",
    ],
)
def test_official_numbers_in_any_written_form_pass(check: CheckFn, text: str) -> None:
    assert phone_findings(check(text, settings=CITY)) == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("電話 0277-12-3488", "0277-12-3488"),
        ("問い合わせ：03-1234-5678（平日9時～17時）", "03-1234-5678"),
        ("予約専用ダイヤル 0570-064-556", "0570-064-556"),
        ("フリーダイヤル0120-444-444", "0120-444-444"),
        ("0276-47-1111までご連絡ください", "0276-47-1111"),
        ("電話 0312345678", "0312345678"),
        ("TEL +81-3-1234-5678", "+81-3-1234-5678"),
    ],
)
def test_a_well_formed_number_missing_from_the_official_list_is_a_warning_to_verify(
    check: CheckFn, text: str, number: str
) -> None:
    [f] = phone_findings(check(text, settings=CITY))
    assert (f.rule, f.severity) == ("phone.unlisted", Severity.WARNING)
    assert quoted(text, f) == number
    assert "公式電話番号の一覧にありません" in f.message
    assert "確認" in f.message


def test_without_an_official_list_only_malformed_numbers_are_reported(check: CheckFn) -> None:
    assert phone_findings(check("電話 0277-12-3488")) == []
    assert [f.rule for f in phone_findings(check("電話 0277-12-348"))] == ["phone.malformed"]


def test_the_official_list_compares_digits_only(check: CheckFn) -> None:
    written_oddly = CheckSettings(official_phone_numbers=("(0277) 12-3400", "+81-277-12-3411"))
    assert phone_findings(check("電話 0277-12-3400", settings=written_oddly)) == []
    assert phone_findings(check("電話 0277(12)3411", settings=written_oddly)) == []
    [f] = phone_findings(check("電話 0277-12-3401", settings=written_oddly))
    assert f.rule == "phone.unlisted"


def test_a_number_a_digit_away_from_an_official_one_names_that_number(check: CheckFn) -> None:
    text = "予約は電話 0277-12-341 で受け付けます。"
    [f] = phone_findings(check(text, settings=CITY))
    assert (f.rule, f.severity) == ("phone.malformed", Severity.ERROR)
    assert quoted(text, f) == "0277-12-341"
    assert "9桁" in f.message
    assert "「0277-12-3411」ではありませんか" in f.message
    assert f.suggestion == "0277-12-3411"


def test_an_official_number_with_its_zero_typed_twice_is_no_international_call(
    check: CheckFn,
) -> None:
    text = "申込み：ボランティアセンター（00277-12-3400）"
    [f] = phone_findings(check(text, settings=CITY))
    assert (f.rule, quoted(text, f)) == ("phone.malformed", "00277-12-3400")
    assert "11桁" in f.message
    assert f.suggestion == "0277-12-3400"
    # An international prefix before a number of another city or country stays unread.
    assert phone_findings(check("国際電話は010-1-212-555-1234へ", settings=CITY)) == []
    assert phone_findings(check("0033-03-1234-5678", settings=CITY)) == []


def test_a_broken_number_far_from_the_official_ones_gets_an_example_of_its_kind(
    check: CheckFn,
) -> None:
    [f] = phone_findings(check("東京事務所 03-1234-567", settings=CITY))
    assert "「0277-12-3400」のように10桁で書いてください" in f.message
    [f] = phone_findings(check("IP電話 050-1234-567", settings=CITY))
    assert "「050-1234-5678」のように11桁で書いてください" in f.message


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("TEL0277-12-340", "0277-12-340"),
        ("お問い合わせ 0277 12 340", "0277 12 340"),
        ("生涯学習課 0277-12-34-00", "0277-12-34-00"),
        ("保健センター(0277)12-343へ", "(0277)12-343"),
        ("0277-12-3400（代表）／0277-12-341（直通）", "0277-12-341"),
    ],
)
def test_broken_numbers_in_other_shapes_are_caught_on_the_number(
    check: CheckFn, text: str, number: str
) -> None:
    [f] = phone_findings(check(text, settings=CITY))
    assert f.rule == "phone.malformed"
    assert quoted(text, f) == number


def test_a_fixed_line_that_lost_its_leading_zero_is_told_to_start_from_it(check: CheckFn) -> None:
    text = "電話 277-12-3400"
    [f] = phone_findings(check(text, settings=CITY))
    assert (f.rule, quoted(text, f)) == ("phone.malformed", "277-12-3400")
    assert "「0277-12-3400」のように0から書いてください" in f.message
    assert f.suggestion == "0277-12-3400"


@pytest.mark.parametrize(
    "text", ["注文番号 0123-456-789", "お客様番号 0123-4567-89", "No.0277-12", "2026-12-15"]
)
def test_other_numbers_are_not_broken_phone_numbers(check: CheckFn, text: str) -> None:
    assert phone_findings(check(text, settings=CITY)) == []


def test_the_closest_official_number_comes_in_english_too() -> None:
    draft = DraftToCheck("Tel. 0277-12-341", DEFAULT_AT)
    [f] = [
        f for f in Checker(CITY, lang=Lang.EN).check(draft).findings if f.rule == "phone.malformed"
    ]
    assert 'city\'s number "0277-12-3411"' in f.message


def test_the_official_form_wins_over_the_numbering_plan_s_grouping(check: CheckFn) -> None:
    # A city that writes its number its own way is not told to change it.
    own = CheckSettings(official_phone_numbers=("027-712-3400",))
    assert phone_findings(check("電話 027-712-3400", settings=own)) == []


@pytest.mark.parametrize(
    "text",
    [
        "担当 山田 090-1234-5678",
        "携帯 080-1234-567",
        "070-1234-5678",
        "+81-90-1234-5678",
    ],
)
def test_mobile_numbers_are_left_to_pii(check: CheckFn, text: str) -> None:
    assert phone_findings(check(text, settings=CITY)) == []


def test_a_mobile_number_is_reported_once_by_pii(check: CheckFn) -> None:
    rules = [f.rule for f in check("担当 090-1234-5678", settings=CITY).findings]
    assert "pii.mobile" in rules
    assert not any(r.startswith("phone") for r in rules)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23（月・祝）に開催します",
        "〒376-0101 みどり市大間々町大間々1234",
        "〒060-0001 札幌市中央区北1条西2丁目",
        "受付時間 09:00-12:00、13:00-17:15",
        "参加費 1,000-2,000円",
        "対象：0-5歳のお子さん",
        "ver.0.12.3 に更新しました",
        "整理番号 012345678901",
        "管理番号0123456789012",
        "2025-2026シーズン",
        "令和7-8年度の計画",
        "https://www.city.midori.lg.jp/0277123400.html",
        "口座番号 0123456",
        "ISBN978-4-12-345678-9",
        "第01-234-5678号",
        "整理番号 0-12-345678",
        "作品番号 01-2-345",
        "0.5-1.0mmの雨",
        "12/01-12/05 休館",
        "10月1日～12月31日 0時-24時",
    ],
)
def test_numbers_that_are_not_phone_numbers_are_left_alone(check: CheckFn, text: str) -> None:
    assert phone_findings(check(text, settings=CITY)) == []


@pytest.mark.parametrize("text", MUNICIPAL_DRAFTS)
def test_ordinary_municipal_drafts_pass(check: CheckFn, text: str) -> None:
    assert phone_findings(check(text, settings=CITY)) == []


def test_several_numbers_each_get_their_own_finding(check: CheckFn) -> None:
    text = "電話 0277-12-340、FAX 0277-12-3488"
    found = phone_findings(check(text, settings=CITY))
    assert [(f.rule, quoted(text, f)) for f in found] == [
        ("phone.malformed", "0277-12-340"),
        ("phone.unlisted", "0277-12-3488"),
    ]


def test_messages_come_in_english_too() -> None:
    draft = DraftToCheck("TEL 0277-12-340", DEFAULT_AT)
    [f] = [f for f in Checker(lang=Lang.EN).check(draft).findings if f.rule == "phone.malformed"]
    assert f.message.startswith('The phone number "0277-12-340" has the wrong number of digits')
    assert "fixed-line" in f.message


def test_every_number_kind_has_its_digit_count() -> None:
    kinds = {k.name: k for k in phone.data().kinds}
    assert kinds["geographic"].digits == 10
    assert kinds["toll-free"].prefixes == ("0120",)
    assert kinds["ip-phone"].digits == 11
    assert kinds["not-ours"].ignore


def _broken_copy(tmp_path: Path, section: str, mutate: Callable[[Any], object]) -> Path:
    target = tmp_path / "phone.yaml"
    shutil.copy(RULES_DIR / "phone.yaml", target)
    raw = yaml.safe_load(target.read_text(encoding="utf-8"))
    mutate(raw[section])
    target.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return target


def test_the_shipped_data_loads_with_all_its_specs() -> None:
    assert phone.load(str(RULES_DIR / "phone.yaml")).kinds


def test_a_miss_spec_that_hits_makes_loading_fail(tmp_path: Path) -> None:
    path = _broken_copy(
        tmp_path, "not_phone_numbers", lambda e: e["specs"]["miss"].append("電話 0277-12-340")
    )
    with pytest.raises(
        RuleDataError, match=r"phone\.yaml: not_phone_numbers: spec '電話 0277-12-340'"
    ):
        phone.load(str(path))


def test_a_hit_spec_that_misses_makes_loading_fail(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "labels", lambda e: e["specs"]["hit"].append("電話 0277-12-3400"))
    with pytest.raises(RuleDataError, match=r"labels: spec '電話 0277-12-3400' should report"):
        phone.load(str(path))


def test_a_digit_count_changed_in_the_data_is_caught_by_its_own_specs(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "kinds", lambda kinds: kinds[1].update(digits=11))
    with pytest.raises(RuleDataError, match=r"kinds\[toll-free\]"):
        phone.load(str(path))


def test_data_without_a_catch_all_kind_is_rejected(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, "kinds", lambda kinds: kinds.pop(0))
    with pytest.raises(RuleDataError, match="catch-all"):
        phone.load(str(path))


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("0123456789０１２３４５６７８９-－ー‐()（） +電話TEL:：、。\n")
        | st.characters(),
        max_size=60,
    )
)
def test_any_text_gives_spans_inside_it_that_quote_digits(text: str) -> None:
    draft = DraftToCheck(text, DEFAULT_AT)
    for f in Checker(CITY, rules=(phone.RULE,)).check(draft).findings:
        assert 0 <= f.start < f.end <= len(text)
        assert any(ch.isdigit() for ch in text[f.start : f.end])
        assert f.rule in {"phone.malformed", "phone.area-code", "phone.unlisted"}
