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
from workflows.checks.rules import typo

# Only this family runs: its tests must not depend on the data of the others.
ONLY = CheckSettings(enabled_rules=("typo",))


def found(result: CheckResult) -> list[Finding]:
    return [f for f in result.findings if f.rule.startswith("typo")]


def spans(text: str, result: CheckResult) -> list[tuple[str, str]]:
    return [(f.rule, text[f.start : f.end]) for f in found(result)]


# ------------------------------------------------------------------ placeholders


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [
        ("○○課までお問い合わせください。", "○○"),
        ("会場は〇〇公民館です。", "〇〇"),
        ("参加費は●●円です。", "●●"),
        ("××地区の皆さまへ", "××"),
        ("○月○日（○）に開催します。", "○月○日"),
        ("XX月に開催します。", "XX"),
        ("担当はＸＸ課です。", "ＸＸ"),
        ("会場：＊＊＊", "＊＊＊"),
        ("説明会は1月○日（土）に開きます。", "1月○日"),
        ("申し込みは12月x日まで。", "12月x日"),
        ("問い合わせ：＜担当課＞", "＜担当課＞"),
        ("会場：▲▲公民館", "▲▲"),
        ("会場：＿＿＿＿公民館", "＿＿＿＿"),
        ("参加費：〓〓円", "〓〓"),
        ("対象：小学○年生以上", "○"),
        ("電話：0000-00-0000", "0000-00-0000"),
        ("詳しくはこちら（URL）からご覧ください。", "（URL）"),
        ("会場：（　）", "（　）"),
    ],
)
def test_placeholders_are_errors(check: CheckFn, text: str, placeholder: str) -> None:
    result = check(text, settings=ONLY)
    [f] = found(result)
    assert (f.rule, f.severity, text[f.start : f.end]) == (
        "typo.placeholder",
        Severity.ERROR,
        placeholder,
    )
    assert f.message == (
        f"「{placeholder}」が残っています。仮の文字や作業用のメモのまま投稿されないよう、"
        "正しい内容に置き換えるか削除してください。"
    )
    assert not result.ok


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("【要確認】会場は市民会館です。", "【要確認】"),
        ("新体育館（仮）の見学会を開きます。", "（仮）"),
        ("TODO 写真を差し替える", "TODO"),
        ("開始時間：TBD", "TBD"),
        ("表紙の写真は差し替え予定。", "差し替え予定"),
        ("【ここに写真】紅葉が見ごろです。", "【ここに写真】"),
        ("※写真は仮のものです", "写真は仮のものです"),
        ("開始時刻：TBA", "TBA"),
        ("（課内確認用）作品を募集します。", "（課内確認用）"),
        # Judged by what the bracket says, whatever the bracket and the words.
        ("紅葉まつりを開きます。（駐車場の台数、事務所に聞く）", "（駐車場の台数、事務所に聞く）"),
        ("献血にご協力ください。会場：市役所（正面玄関前？）", "（正面玄関前？）"),
        ("〔修正前の文章〕電気を大切に使いましょう。", "〔修正前の文章〕"),
        ("★ここに去年の写真★", "★ここに去年の写真★"),
        ("下書き\n図書館の開館時間が変わります。", "下書き"),
    ],
)
def test_notes_between_writers_are_errors(check: CheckFn, text: str, note: str) -> None:
    result = check(text, settings=ONLY)
    [f] = found(result)
    assert (f.rule, f.severity, text[f.start : f.end]) == ("typo.note", Severity.ERROR, note)
    assert f.message == (
        f"「{note}」は書き手どうしの作業メモのようです。読む人には意味が通じないため、"
        "このままでは投稿できません。メモの作業（確認・差し替えなど）を済ませたうえで、"
        "投稿前に削除してください。"
    )
    assert not result.ok


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [
        ("会場：{{会場名}}\n日時：12月5日", "{{会場名}}"),
        ("{講師名}さんを迎えて講演会を開きます。", "{講師名}"),
        ("申込期限：　月　日（必着）", "　月　日"),
        ("20〇〇年の成人式", "20〇〇"),
        ("説明会は12月N日に開きます。", "12月N日"),
        ("会場：〜〜〜", "〜〜〜"),
    ],
)
def test_template_fields_and_blank_dates_are_placeholders(
    check: CheckFn, text: str, placeholder: str
) -> None:
    [f] = found(check(text, settings=ONLY))
    assert (f.rule, f.severity, text[f.start : f.end]) == (
        "typo.placeholder",
        Severity.ERROR,
        placeholder,
    )
    assert f.message.startswith(f"「{placeholder}」が残っています。")


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("冬の星座観察会を開きます。（要リンク）", "（要リンク）"),
        ("【WIP】図書館の冬休み特別開館", "WIP"),
        ("// 写真はあとで\n紅葉が見ごろです。", "// 写真はあとで"),
        ("ここにテキストが入ります。", "ここにテキストが入ります"),
        ("申込方法はこちら（フォーム用意しておく）", "（フォーム用意しておく）"),
        ("（インスタはここまで）\n詳しい日程は次のとおりです。", "（インスタはここまで）"),
        ("ごみの分別が変わります。※Xは140字以内に削ること", "削ること"),
    ],
)
def test_more_shapes_of_notes_are_errors(check: CheckFn, text: str, note: str) -> None:
    [f] = found(check(text, settings=ONLY))
    assert (f.rule, f.severity, text[f.start : f.end]) == ("typo.note", Severity.ERROR, note)
    assert f.message.startswith(f"「{note}」は書き手どうしの作業メモのようです。")


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("課長、これで出していいですか？\n年末年始の窓口です。", "課長、これで出していいですか？"),
        ("お疲れ様です。広報課の山田です。\n市民まつりです。", "お疲れ様です。広報課の山田です"),
        ("図書館の休館日のお知らせです。確認お願いします！", "確認お願い"),
    ],
)
def test_the_message_that_carried_the_draft_is_a_warning(
    check: CheckFn, text: str, note: str
) -> None:
    [f] = found(check(text, settings=ONLY))
    assert (f.rule, f.severity, text[f.start : f.end]) == ("typo.note", Severity.WARNING, note)


def test_a_field_left_undecided_says_what_to_write_instead(check: CheckFn) -> None:
    text = "冬の講演会を開きます。\n講師：未定\n会場：中央公民館"
    [f] = found(check(text, settings=ONLY))
    assert (f.rule, f.severity, text[f.start : f.end]) == (
        "typo.placeholder",
        Severity.WARNING,
        "講師：未定",
    )
    assert f.message == (
        "「講師：未定」は内容が未定のままです。決まっていれば正しい内容を書いてください。"
        "未定のまま載せるなら、「決まり次第、このアカウントでお知らせします」のように、"
        "いつ・どこで分かるかを添えてください。"
    )


@pytest.mark.parametrize(
    "text",
    [
        "日程：未定（決まり次第お知らせします）",
        "【日時】\n12月5日(土)\n【会場】\n市民会館",
        "非常袋の中身（水や食料を入れておく）",
        "要約筆記（要事前予約）があります。",
        "資源ごみはここに入れてください。",
        "「#みどり写真」をつけて投稿をお願いします。",
        "内容のご確認をお願いします。",
        "お疲れ様です！除雪作業にご協力いただいた皆さん、ありがとうございました。",
        "毎月 日曜日に開いています。",
        "12月の市長動静（随時追記）",
    ],
)
def test_look_alikes_of_the_new_shapes_pass(check: CheckFn, text: str) -> None:
    assert spans(text, check(text, settings=ONLY)) == []


def test_a_sentence_to_a_colleague_is_a_warning(check: CheckFn) -> None:
    text = "山田さんここ直して。市民プールは7月1日から営業します。"
    [f] = found(check(text, settings=ONLY))
    assert (f.rule, f.severity, text[f.start : f.end]) == (
        "typo.note",
        Severity.WARNING,
        "山田さんここ",
    )


@pytest.mark.parametrize(
    "text",
    [
        "二〇〇〇年に開館しました。",
        "○×クイズに挑戦しよう",
        "○日時　11月23日(月・祝)\n○会場　市民会館",
        "（仮称）みどり中央図書館の建設について",
        "Tシャツ（XXLサイズ）",
        "ToDoリストの作り方講座",
        "X（旧Twitter）で発信しています。",
        "※先着順",
        "仮設住宅の入居説明会を開きます。",
        "仮庁舎での業務は12月28日までです。",
        "申し込み用紙の差し替え版を窓口に置きました。",
        "応募作品の差し替えはできません。",
        "ここに写真スポットがあります。",
        "【日時】12月5日(土)",
        "後ほど確認のご連絡をいたします。",
        "ダミー人形を使った救命講習を開きます。",
        "駅→市役所→公民館の順に回ります。",
        "現在、原因を確認中です。",
        "雨天時の開催は未定です。前日の正午にお知らせします。",
        "申請状況が「確認中」と表示されたら、しばらくお待ちください。",
        "みどり市総合計画（案）へのご意見を募集します。",
        "【追記】12時に受付を終了しました。",
        "◆◆◆ イベント情報 ◆◆◆\n冬の星空観察会を開きます。",
        "クイズ：みどり市の木は○○です。○○に入る言葉はなんでしょう？",
    ],
)
def test_look_alikes_of_placeholders_pass(check: CheckFn, text: str) -> None:
    assert found(check(text, settings=ONLY)) == []


# ------------------------------------------------------------------ doubled particles and words


@pytest.mark.parametrize(
    ("text", "doubled", "single"),
    [
        ("市のの会場で開催します。", "のの", "の"),
        ("申込書ををご提出ください。", "をを", "を"),
        ("会場にに集合してください。", "にに", "に"),
        ("受付がが混雑します。", "がが", "が"),
        ("今日はは休館日です。", "はは", "は"),
        ("ご参加参加ください。", "参加参加", "参加"),
        ("開催しますします。", "しますします", "します"),
        ("教室を開催します開催します。", "開催します開催します", "開催します"),
    ],
)
def test_doubled(check: CheckFn, text: str, doubled: str, single: str) -> None:
    [f] = found(check(text, settings=ONLY))
    assert (f.rule, f.severity, text[f.start : f.end], f.suggestion) == (
        "typo.doubled",
        Severity.WARNING,
        doubled,
        single,
    )
    assert f"「{doubled}」" in f.message
    assert f"「{single}」の誤りではありませんか" in f.message


@pytest.mark.parametrize(
    "text",
    [
        "人をののしるのはやめましょう。",
        "雨の予報もあったものの、両日とも天気に恵まれました。",
        "本当に本当にありがとうございました。何度も何度も練習しました。毎日毎日暑いですね。",
        "市ののぼり旗を新しくしました。",
        "今日ははじめての体験教室です。",
        "会場ででき上がった作品を展示します。",
        "あははは、わはは。",
        "ここに集合。いろいろな催し。それぞれの地区。",
        "一人一人に合わせた支援。一歩一歩進みます。",
        "ますます楽しみです。",
        "おとといの雨。身なりをととのえる。",
        "部分々々の修正。いすゞの車。",
        "#ののちゃん",
    ],
)
def test_legitimate_repetitions_pass(check: CheckFn, text: str) -> None:
    assert found(check(text, settings=ONLY)) == []


# ------------------------------------------------------------------ punctuation and brackets


def test_doubled_punctuation(check: CheckFn) -> None:
    text = "本日、、開催します。。"
    assert [
        (f.rule, text[f.start : f.end], f.suggestion) for f in found(check(text, settings=ONLY))
    ] == [
        ("typo.punctuation", "、、", "、"),
        ("typo.punctuation", "。。", "。"),
    ]


def test_an_ellipsis_of_full_stops_passes(check: CheckFn) -> None:
    assert found(check("残念。。。また来年", settings=ONLY)) == []


def test_unclosed_bracket(check: CheckFn) -> None:
    text = "テーマは「未来へつなぐ。ぜひご参加ください。"
    [f] = found(check(text, settings=ONLY))
    assert (f.rule, f.severity, text[f.start : f.end]) == ("typo.bracket", Severity.WARNING, "「")
    assert (
        f.message
        == "開き括弧 「 に対応する閉じ括弧 」 がありません。括弧の範囲を確認してください。"
    )


def test_unopened_full_width_bracket_names_the_full_width_partner(check: CheckFn) -> None:
    text = "会場は市民会館）です。"
    [f] = found(check(text, settings=ONLY))
    assert text[f.start : f.end] == "）"
    assert "開き括弧 （ がありません" in f.message


@pytest.mark.parametrize(
    ("text", "bracket"),
    [
        ("【お知らせ 本日開催", "【"),
        ("『みどり市史」", "『"),
        ("(詳しくはこちら", "("),
    ],
)
def test_other_unbalanced_brackets(check: CheckFn, text: str, bracket: str) -> None:
    assert bracket in [s for _, s in spans(text, check(text, settings=ONLY))]


@pytest.mark.parametrize(
    "text",
    [
        "「市民まつり」を開催します（雨天中止）。",
        "1) 日時：11月23日\n2) 会場：市民会館",
        "ア）申込書\nイ）本人確認書類",
        "ありがとうございました(^^)",
        "ぜひ来てね :)",
        "『みどり市史』（第2版）",
        "詳しくは https://ja.wikipedia.org/wiki/Foo_(bar) をご覧ください。",
    ],
)
def test_balanced_brackets_lists_and_faces_pass(check: CheckFn, text: str) -> None:
    assert found(check(text, settings=ONLY)) == []


# ------------------------------------------------------------------ stray letters from the IME


@pytest.mark.parametrize(
    ("text", "quote", "fix"),
    [
        ("市民まつりのおしらせs", "せs", "せ"),
        ("開催しますk。", "すk", "す"),
        ("ご参加kください。", "加k", "加"),
        ("ｵｼﾗｾs", "ｾs", "セ"),
        ("Wi-Fiに接続できますｋ。", "すｋ", "す"),
    ],
)
def test_stray_letters(check: CheckFn, text: str, quote: str, fix: str) -> None:
    result = check(text, settings=ONLY)
    assert [f.rule for f in result.findings if f.rule == "style.mixed-width"] == []
    [f] = found(result)
    assert (f.rule, text[f.start : f.end], f.suggestion) == ("typo.ime", quote, fix)
    assert f"「{quote[1:]}」は、変換のときに残った英字" in f.message


@pytest.mark.parametrize(
    "text",
    [
        "LINEで友だち登録をお願いします。",
        "eスポーツ大会、dポイント、iPhone、Wi-Fiが使えます。",
        "数kmのコース、5kmの部。",
        "ドコモやauの店舗で受け付けます。",
        "Xで発信中。Aさん、Bさん。",
        "#みどりのおしらせs",
        "詳しくは https://example.jp/おしらせs",
    ],
)
def test_letters_on_purpose_pass(check: CheckFn, text: str) -> None:
    assert found(check(text, settings=ONLY)) == []


# ------------------------------------------------------------ realistic drafts, data, robustness


@pytest.mark.parametrize("text", CLEAN_DRAFTS)
def test_clean_municipal_drafts_have_no_typo_finding(check: CheckFn, text: str) -> None:
    assert spans(text, check(text, settings=ONLY)) == []


def test_english_message() -> None:
    result = Checker(ONLY, lang=Lang.EN).check(DraftToCheck("会場は○○です。", DEFAULT_AT))
    [f] = found(result)
    assert f.message.startswith('"○○" is still in the text.')


@pytest.fixture
def broken_data(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("POSTGATE_CACHE_DIR", "")  # load (and run the specs of) this data
    """typo.yaml as loaded, for a test to break; the real data is restored afterwards."""
    raw = load_yaml(typo.DATA_FILE)
    monkeypatch.setattr(typo, "load_yaml", lambda _name: raw)
    typo.data.cache_clear()
    yield raw
    typo.data.cache_clear()


def test_a_failing_hit_spec_stops_loading(broken_data: dict[str, Any]) -> None:
    broken_data["placeholders"][0]["specs"]["hit"]["○○が残っていない"] = "○○"
    broken_data["placeholders"][0]["pattern"] = "△△"
    with pytest.raises(RuleDataError, match=r"typo\.yaml: placeholders\[0\] \(marks\): spec"):
        typo.data()


def test_a_failing_miss_spec_stops_loading(broken_data: dict[str, Any]) -> None:
    broken_data["doubled"]["specs"]["miss"].append("市のの会場")
    with pytest.raises(RuleDataError, match="doubled: spec '市のの会場' should pass"):
        typo.data()


def test_an_entry_naming_an_unknown_message_is_refused(broken_data: dict[str, Any]) -> None:
    broken_data["placeholders"][0]["message"] = "typo.no_such_message"
    with pytest.raises(RuleDataError, match=r"placeholders\[0\] \(marks\): unknown message"):
        typo.data()


def test_needs_that_miss_an_example_of_their_entry_are_refused(broken_data: dict[str, Any]) -> None:
    # A draft without any character of ``needs`` skips the entry: a class that misses one of the
    # entry's own examples (○○課) would hide its findings.
    broken_data["placeholders"][0]["needs"] = "[△]"
    with pytest.raises(RuleDataError, match=r"placeholders\[0\] \(marks\): hit spec .* lacks"):
        typo.data()


def test_entries_without_misses_are_refused(broken_data: dict[str, Any]) -> None:
    broken_data["ime"]["specs"]["miss"] = []
    with pytest.raises(RuleDataError, match="ime: needs specs with both hit"):
        typo.data()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_spans_stay_inside_any_text(text: str) -> None:
    for f in found(Checker(ONLY).check(DraftToCheck(text, DEFAULT_AT))):
        assert 0 <= f.start < f.end <= len(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="「」『』()（）【】〔〕あ\n1)ア:^", max_size=30))
def test_brackets_never_crash_and_point_at_brackets(text: str) -> None:
    for f in found(Checker(ONLY).check(DraftToCheck(text, DEFAULT_AT))):
        if f.rule == "typo.bracket":
            assert text[f.start : f.end] in "「」『』()（）【】〔〕"


# Pieces of the placeholders and notes, and what stands around them, so that matches are likely.
_LEFTOVER_PIECES = (
    *"○〇●×△?xXN*_/:：月日時分年第回円1209 \n→課長未定確認",
    "令和○年",
    "12月○日",
    "午後○時",
    "10時△分",
    "20〇〇年",
    "12/x",
    "XX月XX日",
    "YYYY/MM/DD",
    "00",
    "${",
    "%s",
    "//",
    "/*",
    "*/",
    "ここに写真",
    "QRコード",
    "山田さん",
    "お願いします",
    "以下原稿",
    "掲載お願い",
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_LEFTOVER_PIECES), max_size=40), st.integers(0, 400))
def test_placeholders_found_near_what_they_need_are_those_finditer_finds(
    pieces: list[str], padding: int
) -> None:
    # Padding makes the needed characters rare, so that only the places near them are tried.
    text = "あ" * padding + "".join(pieces) + "い" * padding
    for entry in typo.data().placeholders:
        wanted = [(m.span(), m.group()) for m in entry.pattern.finditer(text)]
        assert [(m.span(), m.group()) for m in typo._scan(entry, text)] == wanted
        if entry.near is not None:  # tried near every needed character, however many
            needed, width = entry.near
            places = [m.start() for m in needed.finditer(text)]
            near = typo._scan_near(entry.pattern, text, places, width)
            assert [(m.span(), m.group()) for m in near] == wanted
