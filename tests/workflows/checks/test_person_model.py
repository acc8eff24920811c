"""The person model: a second opinion on what a draft tells about a private person, next to pii's
rules.

It must quote the sentence, name the person and say what to do, stay silent on people named in
their role, with their consent, or as public figures, never repeat a sentence the rules already
reported, read only sentences that name a private person, and be exactly what the training
script builds from the repository's data.
"""

from __future__ import annotations

import json

import pytest

from benchmarks import train_person
from tests.conftest import CheckFn
from workflows.checks import CheckSettings, Finding, Severity
from workflows.checks.data import RuleDataError
from workflows.checks.person_model import (
    MAX_READ,
    NAME_MARK,
    RULE,
    from_json,
    model,
    named_sentences,
    prepared,
)
from workflows.checks.rules.pii import persons

ONLY = CheckSettings(enabled_rules=("pii",))
BEFORE = "みどり市民会館で冬のコンサートを開きます。"
AFTER = "入場は無料です。"


def findings(check: CheckFn, text: str) -> list[Finding]:
    return list(check(text, platforms=("facebook",), settings=ONLY).findings)


@pytest.mark.parametrize(
    ("sentence", "name"),
    [
        ("求職中の大川智子さんは、先月会社を辞めさせられたそうです。", "大川智子さん"),
        ("村上大輔さんは毎朝6時に一人で緑川の土手を走っています。", "村上大輔さん"),
        ("桜井久美子さんは一人暮らしで、夜は家に誰もいません。", "桜井久美子さん"),
        ("緑中2年の菅野さくらさんは、クラスで仲間外れにされているそうです。", "菅野さくらさん"),
        (
            "落とし物:黒い財布(持ち主は岩井雅之さん、運転免許証と保険証入り)を市民課で預かっています。",
            "岩井雅之さん",
        ),
    ],
)
def test_a_sentence_about_a_private_person_the_rules_miss_is_a_warning_naming_them(
    check: CheckFn, sentence: str, name: str
) -> None:
    text = f"{BEFORE}\n{sentence}\n{AFTER}"
    [f] = findings(check, text)
    assert (f.rule, f.severity, text[f.start : f.end]) == (RULE, Severity.WARNING, sentence)
    assert f.message.startswith(f"「{sentence}」は、「{name}」という個人の方について")
    assert "この文の書き方から判定しました" in f.message
    assert "同意を確認するか" in f.message
    assert "「70代の男性」" in f.message


@pytest.mark.parametrize(
    "sentence",
    [
        "講師は料理研究家の森下裕美さんです。",
        "市民スポーツ賞は、陸上競技の長野翼さんに贈られました（ご本人の了承を得ています）。",
        "今月のおすすめは、作家の有川浩さんの新刊です。",
        "お問い合わせは担当の佐藤さんまで。",
        "担当：企画課 佐藤",
        "カフェ「こもれび」の店主、西野由紀さんが季節のケーキを用意しています。",
        "移住して5年の岡野誠さんに、緑市での暮らしについてお話を伺いました。",
        "当日はお笑い芸人の森田ケンジさんが交通安全を呼びかけます。",
        "郷土の偉人、二宮尊徳さんの教えを学ぶ講座です。",
    ],
)
def test_people_named_in_their_role_with_consent_or_as_public_figures_stay_silent(
    check: CheckFn, sentence: str
) -> None:
    assert findings(check, f"{BEFORE}\n{sentence}\n{AFTER}") == []


def test_a_sentence_the_rules_reported_gets_no_second_finding(check: CheckFn) -> None:
    sentence = "佐伯文雄さんは脳梗塞で倒れ、週に3回、人工透析に通っています。"
    text = f"{BEFORE}\n{sentence}\n{AFTER}"
    assert [text[s:e] for s, e, _ in model().flagged(text, persons(text))] == [sentence]
    assert [f.rule for f in findings(check, text)] == ["pii.sensitive"]


@pytest.mark.parametrize(
    "text",
    [
        "今年もたくさんの方のご来場をお待ちしています。",  # たく + さん
        "4月1日から新しい様式を使います。様子を見ながら進めます。",  # 新しい + 様式
        "中央町1丁目様方",  # 丁目 + 様
    ],
)
def test_words_that_end_like_an_honorific_name_nobody(text: str) -> None:
    assert persons(text) == []
    assert [name for _, _, name in persons("高橋 さくらさんと中田様が来ました。")] == [
        "高橋 さくら",
        "中田",
    ]


def test_only_sentences_naming_a_private_person_are_read() -> None:
    text = "妊娠中の方は保健センターへ。本町の 森 ゆいさんは妊娠中です。市長の山田さんが来ます。"
    people = persons(text)
    assert [name for _, _, name in people] == ["森 ゆい"]
    [(start, end, inside)] = named_sentences(text, people)
    assert text[start:end] == "本町の 森 ゆいさんは妊娠中です。"
    assert prepared(text, start, end, inside) == f"本町の {NAME_MARK}さんは妊娠中です。"


def test_a_huge_draft_is_read_only_so_far(check: CheckFn) -> None:
    sentence = "求職中の大川智子さんは、先月会社を辞めさせられたそうです。"
    filler = "市民会館の催しは毎月開いています。\n" * (MAX_READ // 17)
    assert findings(check, filler + sentence) == []
    assert [f.rule for f in findings(check, sentence + "\n" + filler)] == [RULE]


def test_a_malformed_model_file_names_the_file() -> None:
    with pytest.raises(RuleDataError, match=r"person_model\.json"):
        from_json({"scale": 100, "bias": 0, "weights": {}})
    with pytest.raises(RuleDataError, match="not a probability"):
        from_json({"scale": 100, "bias": 0, "weights": {}, "threshold": 0})


def test_the_shipped_model_is_what_the_training_script_builds_from_the_repository() -> None:
    built, _ = train_person.build(cv=False)
    shipped = train_person.TRAINER.shipped_path().read_text(encoding="utf-8")
    assert train_person.TRAINER.differences(json.loads(built), json.loads(shipped)) == []
