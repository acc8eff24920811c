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
from workflows.checks.rules import pii, typo

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


# ------------------------------------------------------------------ notes of the newer shapes

# What each message says, after the quote: which note it is, and that it goes before posting.
SAYS = {
    "mention": "は、チャットで同僚に呼びかけたとき（メンション）の書き方のようです。",
    "char_count": "は本文の文字数を数えたメモのようです。",
    "stage_direction": "は、ここに入れる内容（セリフ・ひとことなど）の指示のようです。",
    "post_note": "は、投稿の一部をいつ出すか・どう扱うかについての作業メモのようです。",
    "staff_instruction": "は、担当者への作業の指示（写真の選び方や保存場所など）のようです。",
    "mail_header": "は、転送されたメールの見出し（差出人・件名など）のようです。",
    "layout": "は、ルビ（ふりがな）や改行・太字など、文字の体裁についての指示のようです。",
    "pasted": "は、原稿をやりとりしたメールやチャットの一部（引用の「>」、発言の時刻や名前、"
    "既読・返信の表示など）のようです。",
    "comment": "は、同僚のコメントや修正の跡（イニシャルや名前の署名、追記した人、"
    "変更履歴の印など）のようです。",
    "note": "は書き手どうしの作業メモのようです。",
    "generated": "は、文章作成ツール（生成AIなど）が書いた文章の前後に添える言葉のようです。",
    "markup": "は、文書やウェブページの書式の記号（打ち消し線の「~~」、太字の「**」、"
    "HTMLのタグ「<br>」や「&nbsp;」、絵文字の「:calendar:」など）のようです。",
    "alternatives": "は、二つの書き方（文や日時など）が候補のまま並んでいるようです。",
    "style_rule": "は、表記のそろえ方（言葉の書き方、数字の全角・半角、文体など）"
    "についての書き手への指示のようです。",
}


@pytest.mark.parametrize(
    ("text", "note", "severity", "says"),
    [
        # A chat mention of a colleague: X and Instagram handles are ASCII.
        (
            "紅葉が見ごろです。\n\n@広報 佐藤さん タグってこの4つで足りますか？\n#みどり市",
            "@広報 佐藤さん",
            "error",
            "mention",
        ),
        ("@channel 明日の朝に投稿します", "@channel", "warning", "mention"),
        ("@観光課担当 日程あってますか\n冬の高原ツアー", "@観光課担当", "error", "mention"),
        ("@広報課　OKなら投稿します\n市民まつりを開きます。", "@広報課", "warning", "mention"),
        # A count of the post's own characters.
        ("口座振替もご利用ください。（本文118字／OK）", "本文118字／OK", "error", "char_count"),
        ("冬の星空観察会を開きます。（118/140字）", "118/140字", "error", "char_count"),
        ("市民プールの休業のお知らせ\n字数：120", "字数：120", "error", "char_count"),
        ("図書館の休館日です。120字でギリ", "120字でギリ", "error", "char_count"),
        # Directions for what goes here.
        (
            "ツリーを飾ったよ✨（ここでみどりんの決めゼリフ）\n#みどりん",
            "（ここでみどりんの決めゼリフ）",
            "error",
            "stage_direction",
        ),
        (
            "成人式を開きました。（ここに市長のひとこと）",
            "（ここに市長のひとこと）",
            "error",
            "stage_direction",
        ),
        ("また来てね（決めゼリフ入れる）", "（決めゼリフ入れる）", "error", "stage_direction"),
        ("寒い日が続くね【ここでスタンプ】", "【ここでスタンプ】", "error", "stage_direction"),
        # Notes about a part of the post.
        (
            "新しい制度が始まります。\n※この段落は議会の議決後（12/15以降）に公開。それまで伏せる\n詳しくは後日お知らせします。",
            "この段落は議会の議決後（12/15以降）に公開",
            "error",
            "post_note",
        ),
        (
            "助成の対象を広げます。この投稿は予算が決まったら公開",
            "この投稿は予算が決まったら公開",
            "error",
            "post_note",
        ),
        ("駅前の再開発について（公開まで伏せておく）", "公開まで伏せておく", "error", "post_note"),
        ("【報道解禁】新しい図書館の名前が決まりました。", "報道解禁", "error", "post_note"),
        # Instructions to staff, and the office's own files.
        (
            "もちつき大会を行いました🎍\n"
            "→ 写真は共有フォルダ「2026冬_保育園」から顔が写っていないものを3枚選ぶ",
            "写真は共有フォルダ「2026冬_保育園」から顔が写っていないものを3枚選ぶ",
            "warning",
            "staff_instruction",
        ),
        ("運動会の様子です。（子どもの顔はぼかす）", "顔はぼかす", "warning", "staff_instruction"),
        ("菜の花が見ごろです。\n写真：IMG_0423.jpg", "IMG_0423.jpg", "error", "staff_instruction"),
        # The forwarded e-mail the draft came in.
        (
            "----- Forwarded message -----\n冬のツアーの参加者を募集します。",
            "----- Forwarded message -----",
            "error",
            "mail_header",
        ),
        (
            "From: 観光課 山下\n冬のツアーの参加者を募集します。",
            "From: 観光課 山下",
            "error",
            "mail_header",
        ),
        (
            "件名：FBにこのまま載せてください\n冬のツアーの参加者を募集します。",
            "件名：FBにこのまま載せてください",
            "error",
            "mail_header",
        ),
        (
            "差出人：観光課 山下\n冬のツアーの参加者を募集します。",
            "差出人：観光課 山下",
            "error",
            "mail_header",
        ),
        ("Fwd: 冬のツアー\n参加者を募集します。", "Fwd:", "error", "mail_header"),
        # Furigana and layout instructions.
        ("語り部が、鬼越峠（ルビ振る）に伝わるお話をします。", "（ルビ振る）", "error", "layout"),
        ("鬼越峠（ルビ）のむかし話", "（ルビ）", "error", "layout"),
        ("年末年始の窓口（改行）\n12月29日から休みます。", "（改行）", "error", "layout"),
        ("【太字】ごみの収集日が変わります。", "【太字】", "error", "layout"),
        ("大字（ふりがな振る）の皆さんへ", "（ふりがな振る）", "error", "layout"),
        # What the office's tools and hands leave: a file's version label, a cut mark, an
        # internal memo, when to post where, a colleague's chat reply, a note in a bracket.
        ("成人式案内_v3\n【二十歳のつどい】", "_v3", "error", "note"),
        (
            "反射材は貸し出します。\nーーここまで使用ーー\n問い合わせ",
            "ここまで使用",
            "error",
            "note",
        ),
        ("定員16名\n※以下内部メモ：少なければ再告知", "内部メモ", "error", "note"),
        ("保護しましょう。\n了解です！午後イチで上げときます〜", "上げときます", "error", "note"),
        (
            "大間々町・塩原＜ふりがな要＞地区は、10日に収集します。",
            "＜ふりがな要＞",
            "error",
            "note",
        ),
        ("相談無料です。（英語版は別途作成）", "（英語版は別途作成）", "error", "note"),
        ("【〆切：広報確認12/7】\n【支援金のお知らせ】", "【〆切：広報確認12/7】", "error", "note"),
    ],
)
def test_newer_shapes_of_notes_say_which_note_they_are(
    check: CheckFn, text: str, note: str, severity: str, says: str
) -> None:
    f = the_note(check, text, note, severity, says)
    assert f.message.endswith("投稿前に削除してください。") or says in ("post_note", "layout")


def the_note(check: CheckFn, text: str, note: str, severity: str, says: str) -> Finding:
    """The one typo.note finding quoting ``note``, at ``severity``, saying what ``says`` names."""
    found_here = [f for f in found(check(text, settings=ONLY)) if text[f.start : f.end] == note]
    assert [(f.rule, f.severity.value) for f in found_here] == [("typo.note", severity)], spans(
        text, check(text, settings=ONLY)
    )
    assert found_here[0].message.startswith(f"「{note}」{SAYS[says]}")
    return found_here[0]


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("きらきらの霜柱ができていました❄️\n#みどり市 #大原高原 #霜柱 #〇〇〇〇", "#〇〇〇〇"),
        ("#みどり市 #○○まつり", "#○○まつり"),
        ("冬の高原です。\n#みどり市　＃ｘｘｘ", "＃ｘｘｘ"),
        ("#みどり市 #タグ未定", "#タグ未定"),
        ("#ハッシュタグ #みどり市", "#ハッシュタグ"),
    ],
)
def test_a_hashtag_left_as_a_placeholder_is_reported_inside_the_hashtag(
    check: CheckFn, text: str, tag: str
) -> None:
    # Hashtags are guarded from the other entries (a link is no typo); this one reads them.
    [f] = found(check(text, settings=ONLY))
    assert (f.rule, f.severity, text[f.start : f.end]) == ("typo.placeholder", Severity.ERROR, tag)
    assert f.message == (
        f"ハッシュタグ「{tag}」は仮のままです。付けるタグを決めて書き換えるか、不要なら削除してください。"
    )


@pytest.mark.parametrize(
    "text",
    [
        # @ before a place, a price, an ASCII handle or in an address
        "クリスマスコンサート＠みどり市民会館",
        "コンサート @みどり市民会館 12月5日",
        "ドリンク＠100円",
        "みどりん@市役所ロビーで待ってるよ",
        "お問い合わせは kouhou@city.midori.lg.jp へ",
        "公式Instagram（@midori_city）をフォローしてね",
        # limits told to residents, and counts of other things
        "作文（400字以内）を募集します。",
        "字数：800字以内",
        "感想文（200字程度）を添えてください。",
        "本文800字程度でまとめてください。",
        "1行20字で書きましょう。",
        "現在の参加者は120人です。",
        # hashtags with marks or words of their own, and links
        "#防災○×クイズ に挑戦しよう",
        "#二〇二六 #みどり市",
        "#タグ付けキャンペーン 実施中",
        "詳しくは https://www.city.midori.lg.jp/page#xx をご覧ください",
        "#XXLサイズ",
        # brackets telling residents where something happens
        "正面玄関（ここで受付）にお越しください。",
        "第2部（ここから入場無料）",
        "【みどりんのひとこと】きょうは寒いね！",
        "駅前広場（ここに集合）",
        "（ここで記念撮影をします）",
        "みどりんの決めゼリフ（「みどりっ！」）をみんなで言おう",
        # sentences to residents about an article or a place
        "この記事は広報みどり12月号にも掲載しています。",
        "この部分は公開していません。",
        "この記事は12月1日以降に公開したものです。",
        "揺れがおさまるまで、机の下で身を伏せる",
        "アユ釣り解禁は6月1日です。",
        "この部分は修正工事中です。",
        # what residents are asked to do, politely
        "写真はこちらから選ぶことができます。",
        "写真は市のホームページで使う場合があります。",
        "投稿するときは、お子さんの顔をぼかしてください。",
        "Q：￥500で買えるのはどれ？",
        # mail words in a notice: the subject residents write, a scam's subject, a letter
        "メールの件名：冬の料理教室申込",
        "件名：【重要】アカウント確認のお願い というメールにご注意ください",
        "宛先：〒376-0000 みどり市役所 広報課",
        "To：がんばる受験生のみなさん\nFrom：みどりん",
        "Date: 12月5日(土)",
        "Re:ゼロから始める市民講座",
        # furigana and layout words used to residents
        "申込：住所・氏名（ふりがな）・電話番号",
        "鬼越峠（おにごえとうげ）に伝わるお話",
        "ルビーの指輪の落とし物がありました。",
        "氏名（ふりがなを付けてください）",
        "『みどり市のむかし話』（ルビあり）",
        "漢字にルビを振ると読みやすくなります。",
    ],
)
def test_look_alikes_of_the_newer_shapes_pass(check: CheckFn, text: str) -> None:
    assert spans(text, check(text, settings=ONLY)) == []


@pytest.mark.parametrize(
    ("text", "note", "severity", "says"),
    [
        # Text pasted from the mail or chat the draft came through.
        (
            "> 了解です。では金曜の投稿でお願いします。\n> 写真は添付の2枚で。\n給食の話です。",
            "> 了解です。では金曜の投稿でお願いします。\n> 写真は添付の2枚で。",
            "error",
            "pasted",
        ),
        ("[10:32] 山田: 写真これで\n冬のツアーです。", "[10:32] 山田:", "error", "pasted"),
        ("受付は9時からです。(編集済み)", "(編集済み)", "error", "pasted"),
        ("冬のツアーです。\n2件の返信", "件の返信", "error", "pasted"),
        # A colleague's comment, signed, and the marks of edits.
        (
            "約1億2,000万円（ＫＴ：11月末時点の数字に更新して）のご寄附",
            "（ＫＴ：11月末時点の数字に更新して）",
            "error",
            "comment",
        ),
        ("ご協力をお願いします。(YK)\n問い合わせ：福祉課", "(YK)", "error", "comment"),
        # With its date, the bracket is an editor's stamp, quoted whole (what to delete).
        (
            "【12/3 係長追記】約380万円が集まりました。",
            "【12/3 係長追記】",
            "error",
            "comment",
        ),
        ("【係長追記】約380万円が集まりました。", "係長追記", "error", "comment"),
        ("人口は約9万8千人です[YK1]。", "[YK1]", "error", "comment"),
        ("定員は30名[削除: 先着順]です。", "[削除:", "error", "comment"),
        # Notes to the designer, formatting instructions, English notes.
        (
            "※デザイナーさん：ここから下の3行はチラシ画像の中に入れ込んでください",
            "デザイナーさん：",
            "warning",
            "staff_instruction",
        ),
        (
            "破裂するおそれがあります（ここは赤字・太字で目立たせる）。",
            "（ここは赤字・太字で目立たせる）",
            "error",
            "layout",
        ),
        ("【English】\n(EN: translation pending)", "translation pending", "error", "note"),
    ],
)
def test_shapes_of_the_eleventh_sitting_say_which_note_they_are(
    check: CheckFn, text: str, note: str, severity: str, says: str
) -> None:
    the_note(check, text, note, severity, says)


# ------------------------------------------------------------------ tools and undecided wording


@pytest.mark.parametrize(
    ("text", "note", "severity", "says"),
    [
        # What a writing assistant puts before and after the text it was asked for.
        (
            "もちろんです！以下は、みどり市公式Facebook向けの投稿文案です。\n\n【冬の星空観察会】\n"
            "12月12日（土）19時から、みどり天文台で開きます。",
            "もちろんです！以下は、みどり市公式Facebook向けの投稿文案です",
            "error",
            "generated",
        ),
        (
            "承知しました。以下の文案をご確認ください。\n年末年始のごみ収集についてお知らせします。",
            "承知しました。以下の文案をご確認ください",
            "error",
            "generated",
        ),
        (
            "かしこまりました。こちらがInstagram向けの投稿文です。\n紅葉が見ごろを迎えました🍁",
            "かしこまりました。こちらがInstagram向けの投稿文です",
            "error",
            "generated",
        ),
        (
            "成人式の案内について、X用の文章を作成しました。\n二十歳のつどいを1月10日（日）に開きます。",
            "X用の文章を作成しました",
            "error",
            "generated",
        ),
        (
            "冬休みも開館します。\nご希望があれば、別のバージョンもご用意できます。",
            "別のバージョンもご用意できます",
            "error",
            "generated",
        ),
        (
            "図書館の冬休みの開館時間をお知らせします。\n\n"
            "※ハッシュタグや絵文字は、必要に応じて調整してください。",
            "ハッシュタグや絵文字は、必要に応じて調整してください",
            "warning",
            "generated",
        ),
        (
            "図書館の冬休みの開館時間をお知らせします。\n\n必要に応じて調整してください。",
            "必要に応じて調整してください",
            "warning",
            "generated",
        ),
        (
            "親子料理教室を開きます。\n※日時や会場は、実際の開催情報に合わせて修正してください。",
            "実際の開催情報に合わせて修正",
            "warning",
            "generated",
        ),
        # Markup the platforms show as it is written.
        ("【親子木工教室】\n参加費は~~500円~~無料です。", "~~500円~~", "error", "markup"),
        (
            "日時：～～1月16日（土）～～ 1月23日（土）午後1時から",
            "～～1月16日（土）～～",
            "error",
            "markup",
        ),
        ("~~12月20日~~ 12月19日（土）に開きます。", "~~12月20日~~", "error", "markup"),
        ("**締め切りは1月29日（金）です**", "**締め切りは1月29日（金）です**", "error", "markup"),
        ("## 日時\n12月5日（土）10時から", "##", "error", "markup"),
        ("年末年始の窓口のお知らせです。<br>12月29日から休みます。", "<br>", "error", "markup"),
        ('<span style="color:red">重要</span>', '<span style="color:red">', "error", "markup"),
        ("申請は&nbsp;1月29日までです。", "&nbsp;", "error", "markup"),
        (
            "詳しくは https://www.city.midori.lg.jp/event?id=3&amp;lang=ja をご覧ください。",
            "&amp;",
            "error",
            "markup",
        ),
        (":warning: 路面の凍結にご注意ください", ":warning:", "error", "markup"),
        (
            "申し込みは[申込フォーム](https://www.city.midori.lg.jp/form)から",
            "[申込フォーム](",
            "error",
            "markup",
        ),
        # Two wordings left side by side.
        (
            "紅葉まつりを開きます。ぜひお越しください。／ご来場を心よりお待ちしております。",
            "ぜひお越しください。／ご来場を心よりお待ちしております。",
            "warning",
            "alternatives",
        ),
        ("集合は9時 or 9時30分です。", "9時 or 9時30分", "warning", "alternatives"),
        (
            "会場は「中央公民館」or「東公民館」です。",
            "「中央公民館」or「東公民館」",
            "warning",
            "alternatives",
        ),
        ("集合は正面玄関（または東口？）です。", "（または東口？）", "error", "alternatives"),
        ("受付は午前9時(or 9時半)から", "(or 9時半)", "error", "alternatives"),
        # An editor's stamp of who changed what when.
        ("受付は9時からです（田中 15:42修正）。", "（田中 15:42修正）", "error", "comment"),
        ("駐車場はありません。[佐藤 12/3 追記]", "[佐藤 12/3 追記]", "error", "comment"),
        ("定員は20名です。【YK 12/4 10:05加筆】", "【YK 12/4 10:05加筆】", "error", "comment"),
        ("参加費は無料です。(15:42 山田)", "(15:42 山田)", "warning", "comment"),
        # A rule of how to write, left in.
        (
            "ぜひご参加下さい。（「下さい」→「ください」に統一すること）",
            "「下さい」→「ください」に統一すること",
            "error",
            "style_rule",
        ),
        (
            "子供会の皆さんへ\n表記は「子ども」で統一",
            "表記は「子ども」で統一",
            "error",
            "style_rule",
        ),
        (
            "「子供」ではなく「子ども」と表記",
            "「子供」ではなく「子ども」と表記",
            "error",
            "style_rule",
        ),
        ("申込期限は12月25日です。\n※数字は半角で", "数字は半角で", "warning", "style_rule"),
    ],
)
def test_what_tools_and_undecided_wording_leave_says_which_it_is(
    check: CheckFn, text: str, note: str, severity: str, says: str
) -> None:
    f = the_note(check, text, note, severity, says)
    assert f.message.endswith("ください。")


@pytest.mark.parametrize(
    "text",
    [
        # said to residents: what follows, their own documents, advice on their own things
        "以下のとおり開催します。",
        "申請書の内容をご確認ください。",
        "以下の書類をご確認ください。",
        "外国人向けの案内文を作成しました。",
        "以下は投稿例です。#みどり写真 をつけて投稿してください。",
        "室温は必要に応じて調整してください。",
        "必要に応じて医療機関を受診してください。",
        "回覧用の文章は、必要に応じて修正してお使いください。",
        # decorations and marks that are no markup
        "～～ お知らせ ～～",
        "～～冬のイベント～～\n市民まつりを開きます。",
        "楽しかった～～！また来年も来てね～～",
        "### 市民まつり ###",
        "<みどり市の四季>写真展",
        "<A>午前の部 <B>午後の部",
        "Q&A集、R&Bライブ",
        "時間：10:00〜12:00",
        # lists, choices put to residents, alternatives in a sentence, greetings, links
        "対象：大人／子ども",
        "土・日に開きます。",
        "午前または午後にお越しください。",
        "雨天時は体育館（または武道場）で行います。",
        "きのこ派 or たけのこ派？",
        "Welcome to Midori! / 欢迎来到绿市! / 미도리시에 오신 것을 환영합니다!",
        "詳しくは https://www.city.midori.lg.jp/kurashi/gomi/ をご覧ください。",
        # an update told to residents, a schedule, a credit, a timetable
        "【12月8日 10:00更新】受付を終了しました。",
        "会場（受付 9:00～）",
        "（9:00 受付）（10:00 開会）（15:30 解散）",
        "写真（山田 12/3撮影）",
        "発車時刻（変更：JR 10:05）",
        # how residents fill in a form, a new name announced, a rule of the city's writing
        "数字は半角で入力してください。",
        "※数字は半角でご記入ください。",
        "「子供」を「子ども」に統一しました。",
        "施設名：「中央公民館」→「みどり中央公民館」に変更",
        "【4月は統一地方選挙です】",
    ],
)
def test_look_alikes_of_tools_and_undecided_wording_pass(check: CheckFn, text: str) -> None:
    assert spans(text, check(text, settings=ONLY)) == []


def test_an_editors_stamp_names_any_surname_of_pii_list(check: CheckFn) -> None:
    # The names come from pii.yaml (one list): a stamp of any of them is reported, and a
    # schedule's bracket, holding what happens at that time, is not.
    listed = sorted(pii.data().address.surnames)
    for name in listed[:: max(1, len(listed) // 12)]:
        text = f"受付は9時からです。（15:42 {name}）"
        assert spans(text, check(text, settings=ONLY)) == [("typo.note", f"（15:42 {name}）")]
    for word in ("受付", "開会", "開演", "集合", "解散", "点灯"):
        text = f"受付は9時からです。（15:42 {word}）"
        assert spans(text, check(text, settings=ONLY)) == []


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        ("約12,000人??の方にご来場いただきました。", "12,000人??"),
        ("開催は12月13日??に決まりました。", "13日??"),
        ("受付は市民会館??で行います。", "??"),
    ],
)
def test_a_doubted_figure_says_to_check_it(check: CheckFn, text: str, quote: str) -> None:
    [f] = found(check(text, settings=ONLY))
    assert (f.rule, f.severity, text[f.start : f.end]) == ("typo.note", Severity.ERROR, quote)
    assert f.message == (
        f"「{quote}」の「?」は、書き手が数字や言葉に自信のないときに付けた印のようです。"
        "正しいか確かめて直したうえで、印は投稿前に削除してください。"
    )


@pytest.mark.parametrize(
    "text",
    [
        "【不審なSMSにご注意ください】\n「〇〇銀行です。〇月〇日までに手続きしないと口座が凍結されます」"
        "といったメッセージで、偽のサイトに誘導する手口が確認されています。",
        "「市役所の〇〇です。還付金があります」という電話は詐欺です。",
        "「〇〇様、未払い料金があります」などのメールは詐欺です。",
        "「〇〇課の職員です」と名乗る不審な電話にご注意ください。",
        "なりすましメールが届いています。『〇〇市役所からのお知らせ』のような件名です。",
    ],
)
def test_the_marks_of_a_scam_message_a_warning_quotes_pass(check: CheckFn, text: str) -> None:
    assert spans(text, check(text, settings=ONLY)) == []


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [
        # A quote with marks, outside a warning about scams, is a blank of the post.
        ("「〇〇まつり」というイベントを開きます。", "〇〇"),
        # A scam warning's own blanks, outside the quoted message, are still blanks.
        ("「市役所の者です」という電話は詐欺です。相談は○○課へ。", "○○"),
    ],
)
def test_marks_outside_a_quoted_scam_message_are_placeholders(
    check: CheckFn, text: str, placeholder: str
) -> None:
    assert spans(text, check(text, settings=ONLY)) == [("typo.placeholder", placeholder)]


def test_a_post_that_breaks_off_inside_a_sentence_says_so(check: CheckFn) -> None:
    text = "体操教室を開きます。\nなお、1月20日（水）は講師の都合により"
    [f] = found(check(text, settings=ONLY))
    assert (f.rule, f.severity, text[f.start : f.end]) == ("typo.note", Severity.WARNING, "により")
    assert f.message.startswith("投稿が「により」で途中のまま終わっています。")
    finished = text + "休みます。"
    assert found(check(finished, settings=ONLY)) == []


def test_the_marks_of_an_example_residents_fill_in_pass_but_not_the_posts_own(
    check: CheckFn,
) -> None:
    example = (
        "記入例：口座名義人「ミドリ タロウ」、申込日「令和9年○月○日」\n"
        "「備考」欄に「〇〇（お子さんの名前）も一緒に参加」のようにご記入ください。"
    )
    assert spans(example, check(example, settings=ONLY)) == []
    own = example + "\n受付は○○課です。"
    assert spans(own, check(own, settings=ONLY)) == [("typo.placeholder", "○○")]


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


def test_needs_any_must_be_strings_and_not_beside_needs(broken_data: dict[str, Any]) -> None:
    broken_data["placeholders"][0]["needs_any"] = "○"
    with pytest.raises(RuleDataError, match=r"placeholders\[0\] \(marks\): needs_any is a list"):
        typo.data()


def test_needs_any_that_miss_an_example_of_their_entry_are_refused(
    broken_data: dict[str, Any],
) -> None:
    del broken_data["placeholders"][0]["needs"]
    broken_data["placeholders"][0]["needs_any"] = ["△"]
    with pytest.raises(RuleDataError, match=r"placeholders\[0\] \(marks\): hit spec .* lacks"):
        typo.data()


def test_in_links_must_be_true_or_false(broken_data: dict[str, Any]) -> None:
    broken_data["placeholders"][0]["in_links"] = "yes"
    with pytest.raises(RuleDataError, match=r"placeholders\[0\] \(marks\): in_links must be"):
        typo.data()


def test_a_spreadsheet_error_is_a_placeholder_and_a_linked_file_is_no_file_name(
    check: CheckFn,
) -> None:
    text = "・暖房設備の更新　#REF!\n申請書：https://www.city.midori.lg.jp/files/shinsei.docx"
    assert spans(text, check(text, settings=ONLY)) == [("typo.placeholder", "#REF!")]


def test_only_entries_that_read_links_report_inside_them(check: CheckFn) -> None:
    # ○○ inside a hashtag is the hashtag entry's (the whole tag), never the marks entry's.
    text = "#みどり市 #○○まつり https://www.city.midori.lg.jp/○○/"
    assert spans(text, check(text, settings=ONLY)) == [("typo.placeholder", "#○○まつり")]


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
    "~~",
    "～～",
    "**",
    "##",
    "<br>",
    "</b>",
    "&amp;",
    ":a:",
    " or ",
    "「東口」",
    "。／",
    "ください",
    "(または",
    "(15:42 山田)",
    "[佐藤 12/3 追記]",
    "「下さい」→",
    "に統一",
    "表記は",
    "※数字は半角で",
    "以下は",
    "投稿文",
    "必要に応じて",
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
