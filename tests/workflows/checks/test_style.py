from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DEFAULT_AT, CheckFn
from tests.workflows.checks.test_terminology import CLEAN_DRAFTS
from workflows.catalogue import Lang
from workflows.checks import Checker, CheckResult, CheckSettings, DraftToCheck, Finding, Severity
from workflows.checks.data import RuleDataError, load_yaml
from workflows.checks.rules import style

# Only this family runs: its tests must not depend on the data of the others.
ONLY = CheckSettings(enabled_rules=("style",))


def found(result: CheckResult, rule: str = "style") -> list[Finding]:
    return [f for f in result.findings if f.rule == rule or f.rule.startswith(rule + ".")]


def quoted(text: str, findings: list[Finding]) -> list[str]:
    return [text[f.start : f.end] for f in findings]


# ------------------------------------------------------------------ です・ます and だ・である


def test_a_plain_sentence_among_polite_ones(check: CheckFn) -> None:
    text = (
        "本事業は市民の健康増進を目的とする。参加費は無料です。"
        "ぜひご参加ください。多数のご応募をお待ちしています。"
    )
    [f] = found(check(text, settings=ONLY))
    assert (f.rule, f.severity, text[f.start : f.end]) == (
        "style.mixed-endings",
        Severity.WARNING,
        "目的とする",
    )
    assert f.message == (
        "「です・ます」の文の中に「だ・である」の文末「目的とする」があります"
        "（です・ます 3文、だ・である 1文）。文末をどちらかにそろえてください。"
    )


def test_a_polite_sentence_among_plain_ones(check: CheckFn) -> None:
    text = (
        "本日、防災訓練を実施した。約300人が参加した。会場は市民会館である。"
        "ご協力ありがとうございました。"
    )
    [f] = found(check(text, settings=ONLY))
    assert text[f.start : f.end] == "協力ありがとうございました"
    assert "「だ・である」の文の中に「です・ます」の文末" in f.message


def test_with_as_many_of_each_the_plain_ones_are_reported(check: CheckFn) -> None:
    text = "市民まつりを開催します。会場は市民会館だ。"
    assert quoted(text, found(check(text, settings=ONLY))) == ["市民会館だ"]


@pytest.mark.parametrize(
    "text",
    [
        # quotes, headlines, exclamations and list items are not sentences of the body
        "市長は「市民の安全を守ることが市の責務である。」と述べました。",
        "秋の味覚を楽しむ\n市内の直売所では新米が並んでいます。",
        "みんなで楽しもう！\n市民まつりを開催します。",
        "熱中症に注意しましょう。\n・こまめに水分を補給する。\n・暑い日は無理をしない。",
        "申し込み方法\n1. 申込書に記入する。\n2. 窓口に提出する。\nお待ちしています。",
        "注意：雨天の場合は中止とする。\nご理解をお願いします。",
        "ご参加いただいた皆さん、ありがとう。来年もよろしく。お待ちしています。",
        "会場は市民会館。参加費は無料。ぜひお越しください。",
        "本日、防災訓練を実施した。約300人が参加した。",
        "防災クイズです。\nQ. 地震のときは、まず外へ飛び出すのがよい。〇か×か？\n答えは×です。",
        # a set phrase of polite writing cut short
        "期日前投票は市役所で行っています。投票所入場券をお忘れなく。お待ちしています。",
        # a noun in kana ending a sentence (体言止め)
        "朝市に行ってきました。おばあちゃん手作りのこんにゃく。どれもおいしそうでした。",
    ],
)
def test_one_style_per_body_passes(check: CheckFn, text: str) -> None:
    assert found(check(text, settings=ONLY), "style.mixed-endings") == []


# ------------------------------------------------------------------ widths


def test_half_width_kana_is_always_reported(check: CheckFn) -> None:
    text = "ｲﾍﾞﾝﾄのお知らせです。"
    [f] = found(check(text, settings=ONLY))
    assert (f.rule, f.severity, text[f.start : f.end], f.suggestion) == (
        "style.halfwidth-kana",
        Severity.WARNING,
        "ｲﾍﾞﾝﾄ",
        "イベント",
    )
    assert "半角カナ「ｲﾍﾞﾝﾄ」" in f.message


def test_mixed_digits_report_the_minority(check: CheckFn) -> None:
    text = "日時は１２月５日、会場は市民会館2階、定員は20名、受付は10時からです。"
    findings = found(check(text, settings=ONLY))
    assert [(f.rule, text[f.start : f.end], f.suggestion) for f in findings] == [
        ("style.mixed-width", "１２", "12"),
        ("style.mixed-width", "５", "5"),
    ]
    assert findings[0].message == (
        "全角と半角の数字が混在しています。全角の「１２」を、多く使われている半角の「12」に"
        "そろえてください。"
    )


def test_mixed_digits_with_half_width_the_minority(check: CheckFn) -> None:
    text = "１２月５日（土）１０時から、市民会館2階で。"
    assert [(text[f.start : f.end], f.suggestion) for f in found(check(text, settings=ONLY))] == [
        ("2", "２")
    ]


def test_with_as_many_of_each_full_width_digits_are_reported(check: CheckFn) -> None:
    text = "１２月に2回開催します。"
    assert quoted(text, found(check(text, settings=ONLY))) == ["１２"]


def test_mixed_letters(check: CheckFn) -> None:
    text = "ＬＩＮＥとInstagramとXで発信中です。"
    [f] = found(check(text, settings=ONLY))
    assert (text[f.start : f.end], f.suggestion) == ("ＬＩＮＥ", "LINE")
    assert "英字" in f.message


@pytest.mark.parametrize(
    "text",
    [
        "第１回みどり市民マラソンを12月20日に開催します。",  # one digit full-width, more half-width
        "サイズはＳ・Ｍ・Ｌの３種類です。",
        "１２月５日、詳しくは https://www.city.midori.lg.jp/2026/event をご覧ください。",
        "ＱＲコードを読み取ってください。",
        "12月5日、LINEで配信します。",
    ],
)
def test_consistent_widths_pass(check: CheckFn, text: str) -> None:
    assert found(check(text, settings=ONLY)) == []


# ------------------------------------------------------------------ exclamation marks


def test_three_exclamation_marks_are_fine(check: CheckFn) -> None:
    assert found(check("開催します！お楽しみに！ぜひ来てください！", settings=ONLY)) == []


def test_more_than_three_is_info_at_the_fourth(check: CheckFn) -> None:
    text = "楽しい！嬉しい！最高！ぜひ来てね!!"
    [f] = found(check(text, settings=ONLY))
    assert (f.rule, f.severity, f.start) == ("style.exclamation", Severity.INFO, text.index("!"))
    assert f.message.startswith("「！」が5個使われています。")


def test_exclamation_marks_in_links_are_not_counted(check: CheckFn) -> None:
    assert found(check("開催！ https://example.jp/#!/a!b!c! を見てね！", settings=ONLY)) == []


# ------------------------------------------------------------ realistic drafts, data, robustness


@pytest.mark.parametrize("text", CLEAN_DRAFTS)
def test_clean_municipal_drafts_have_no_style_finding(check: CheckFn, text: str) -> None:
    assert quoted(text, found(check(text, settings=ONLY))) == []


def test_english_message() -> None:
    result = Checker(ONLY, lang=Lang.EN).check(DraftToCheck("ｲﾍﾞﾝﾄです。", DEFAULT_AT))
    [f] = found(result)
    assert f.message == (
        'Half-width kana "ｲﾍﾞﾝﾄ" may not display correctly on every device. '
        'Please use full-width "イベント".'
    )


@pytest.fixture
def broken_data(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("POSTGATE_CACHE_DIR", "")  # load (and run the specs of) this data
    raw = load_yaml(style.DATA_FILE)
    monkeypatch.setattr(style, "load_yaml", lambda _name: raw)
    style.data.cache_clear()
    yield raw
    style.data.cache_clear()


def test_a_failing_ending_spec_stops_loading(broken_data: dict[str, Any]) -> None:
    broken_data["endings"]["specs"].append({"text": "会場は市民会館である", "form": "polite"})
    with pytest.raises(
        RuleDataError, match=r"style\.yaml: endings\.specs '会場は市民会館である': is plain"
    ):
        style.data()


def test_a_broken_pattern_stops_loading(broken_data: dict[str, Any]) -> None:
    broken_data["endings"]["plain"] = "(unclosed"
    with pytest.raises(RuleDataError, match=r"endings\.plain: invalid pattern"):
        style.data()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=160))
def test_spans_stay_inside_any_text(text: str) -> None:
    for f in found(Checker(ONLY).check(DraftToCheck(text, DEFAULT_AT))):
        assert 0 <= f.start < f.end <= len(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="です。ますだ。である「」・\n！!１2ＡBｱ", max_size=40))
def test_findings_point_at_what_they_name(text: str) -> None:
    for f in found(Checker(ONLY).check(DraftToCheck(text, DEFAULT_AT))):
        written = text[f.start : f.end]
        if f.rule in {"style.halfwidth-kana", "style.mixed-width"}:
            assert f.suggestion is not None
            assert f"「{written}」" in f.message
        if f.rule == "style.exclamation":
            assert written in {"!", "！"}
