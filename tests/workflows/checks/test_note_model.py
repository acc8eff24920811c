"""The note model: a second opinion on leftover editorial notes, next to typo's rules.

It must quote the line, name it by its number and say what to do, stay silent on the lines that
look like notes but are written for residents (labels, ※ remarks, headings, Q&A, hashtags, a
signature, English), never repeat a line the rules already reported, and be exactly what the
training script builds from the repository's data.
"""

from __future__ import annotations

import json

import pytest

from benchmarks import train_notes
from tests.conftest import CheckFn
from workflows.checks import CheckSettings, Finding, Severity
from workflows.checks.data import RuleDataError
from workflows.checks.note_model import MAX_SCORED, RULE, from_json, model, segments

ONLY = CheckSettings(enabled_rules=("typo",))
# The model's message says the judgement came from the line as a whole, and what to do.
FROM_THE_LINE = "この行の書き方から判定しました"
BEFORE = "みどり市民会館で冬のコンサートを開きます。"
AFTER = "入場は無料です。"


def findings(check: CheckFn, text: str) -> list[Finding]:
    return list(check(text, platforms=("facebook",), settings=ONLY).findings)


@pytest.mark.parametrize(
    "note",
    [
        "井上さん、この曲目で確定でいいか聞いておいてもらえますか",
        "部長の了解とれたら出す",
        "ここ市長に見せてから",
        "チラシの画像どれ使う？",
        "山口さん、申込フォームできたら教えて",
    ],
)
def test_a_note_to_colleagues_the_rules_miss_is_a_warning_naming_its_line(
    check: CheckFn, note: str
) -> None:
    text = f"{BEFORE}\n{note}\n{AFTER}"
    [f] = findings(check, text)
    assert (f.rule, f.severity, text[f.start : f.end]) == (RULE, Severity.WARNING, note)
    assert f.message.startswith(f"2行目の「{note}」は")
    assert FROM_THE_LINE in f.message
    assert "投稿前に削除してください" in f.message
    assert "書き上げてください" in f.message


@pytest.mark.parametrize(
    "line",
    [
        "会場：消防本部 3階 講堂",
        "持ち物：上履き",
        "対象：市内在住の65歳以上",
        "※雨天中止",
        "（予定）",
        "詳細は後日お知らせします",
        "申込締切：1月15日(金)",
        "【冬のコンサート】",
        "Q. 駐車場はありますか？",
        "A. 市役所の駐車場をご利用ください。",
        "#みどり市 #コンサート",
        "みどり市 広報課",
        "氏名・電話番号をお知らせください",
        "Admission is free. Everyone is welcome.",
    ],
)
def test_lines_that_look_like_notes_but_are_for_residents_stay_silent(
    check: CheckFn, line: str
) -> None:
    assert findings(check, f"{BEFORE}\n{line}\n{AFTER}") == []


def test_a_line_the_rules_reported_gets_no_second_finding(check: CheckFn) -> None:
    line = "【要確認】井上さん、この曲目で確定でいいか聞いておいてもらえますか"
    text = f"{BEFORE}\n{line}\n{AFTER}"
    assert [text[s:e] for s, e, _ in model().flagged(text)] == [line]
    assert [(f.rule, text[f.start : f.end]) for f in findings(check, text)] == [
        ("typo.note", "【要確認】")
    ]


def test_a_repeated_note_is_reported_each_time_and_a_huge_draft_is_read_only_so_far(
    check: CheckFn,
) -> None:
    note = "部長の了解とれたら出す"
    found = findings(check, f"{BEFORE}\n{note}\n{AFTER}\n{note}")
    assert [(f.rule, f.message[:3]) for f in found] == [(RULE, "2行目"), (RULE, "4行目")]
    # Past MAX_SCORED characters of distinct lines nothing more is read.
    filler = "".join(f"市民会館の催しは第{i}回です。\n" for i in range(MAX_SCORED // 10))
    assert findings(check, filler + note) == []


def test_a_remark_after_a_sentence_is_a_segment_of_its_own() -> None:
    text = (
        "点検しましょう←これでいい?\n会場:市民会館※駐車場なし\n開きます。[初校]\n残念。。。また来年"
    )
    assert [text[s:e] for s, e in segments(text)] == [
        "点検しましょう",
        "←これでいい?",
        "会場:市民会館",
        "※駐車場なし",
        "開きます。",
        "[初校]",
        "残念。。。また来年",
    ]


def test_a_draft_of_one_segment_is_the_text_itself(check: CheckFn) -> None:
    note = "部長の了解とれたら出す"
    assert [f.rule for f in findings(check, f"{BEFORE}\n{note}")] == [RULE]
    assert findings(check, note) == []


def test_a_malformed_model_file_names_the_file() -> None:
    with pytest.raises(RuleDataError, match=r"note_model\.json"):
        from_json({"scale": 100, "bias": 0, "weights": {}})
    with pytest.raises(RuleDataError, match="not a probability"):
        from_json({"scale": 100, "bias": 0, "weights": {}, "threshold": 1.5})


def test_the_shipped_model_is_what_the_training_script_builds_from_the_repository() -> None:
    built, _ = train_notes.build(cv=False)
    shipped = train_notes.shipped_path().read_text(encoding="utf-8")
    assert train_notes.differences(json.loads(built), json.loads(shipped)) == []


def test_a_model_differs_by_more_than_the_last_unit_of_rounding() -> None:
    head = {"scale": 100, "threshold": 0.75, "bias": 30}
    shipped = {**head, "weights": {"課長": 40, "端": 5}}
    differences = train_notes.differences
    # One unit apart, and a feature at the pruning edge dropped: the same model.
    assert differences({**head, "weights": {"課長": 41}}, shipped) == []
    # Two units apart, a real feature missing, another threshold: a different model.
    assert differences({**head, "weights": {"課長": 42, "端": 5}}, shipped) == ["'課長': 42 != 40"]
    assert differences({**head, "weights": {"端": 5}}, shipped) == [
        "'課長': only in the shipped model"
    ]
    assert differences({**shipped, "threshold": 0.8}, shipped) == ["threshold: 0.8 != 0.75"]
