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
from tests.workflows.checks.test_phone import MUNICIPAL_DRAFTS
from workflows import xtext
from workflows.catalogue import Lang
from workflows.checks import CheckResult, DraftToCheck, Finding, Platform, Severity
from workflows.checks.data import RULES_DIR, RuleDataError
from workflows.checks.engine import Checker
from workflows.checks.rules import hashtag

PHOTOS = ("https://www.city.midori.lg.jp/img/a.jpg", "https://www.city.midori.lg.jp/img/b.jpg")


def tags_found(result: CheckResult) -> list[Finding]:
    return [f for f in result.findings if f.rule.split(".")[0] == "hashtag"]


def quoted(text: str, f: Finding) -> str:
    return text[f.start : f.end]


def tags(n: int) -> str:
    return " ".join(f"#みどり{i}" for i in range(1, n + 1))


# --- Instagram needs hashtags (manual §3 (3)) --------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "みどり市特産の白ねぎの収穫がピークを迎えています。道の駅で販売中です。",
        "第20回市民まつりを開催します。#2026",  # digits only: no hashtag
        "詳しくは https://www.city.midori.lg.jp/event/#schedule をご覧ください。",  # an anchor
    ],
)
def test_an_instagram_post_without_hashtags_gets_a_warning(check: CheckFn, text: str) -> None:
    [f] = tags_found(check(text, platforms=("instagram",), media=PHOTOS))
    assert (f.rule, f.severity) == ("hashtag.missing", Severity.WARNING)
    assert (f.start, f.end) == (0, 0)
    assert "Instagramの投稿にハッシュタグがありません" in f.message
    assert "運用マニュアル3(3)" in f.message


def test_hashtags_are_not_required_elsewhere(check: CheckFn) -> None:
    text = "みどり市特産の白ねぎの収穫がピークを迎えています。"
    assert tags_found(check(text, platforms=("x", "facebook", "line"))) == []


# --- Too many ----------------------------------------------------------------------------------


def test_over_30_on_instagram_is_an_error_pointing_at_the_extra_tags(check: CheckFn) -> None:
    text = "新しい遊具ができました🛝\n\n" + tags(31)
    [f] = tags_found(check(text, platforms=("instagram",), media=PHOTOS))
    assert (f.rule, f.severity) == ("hashtag.limit", Severity.ERROR)
    assert quoted(text, f) == "#みどり31"
    assert "1投稿30個までですが、31個あります" in f.message
    assert "「#みどり31」以降" in f.message


def test_six_on_instagram_is_an_info_about_the_new_five_limit(check: CheckFn) -> None:
    text = "紅葉が見頃です。\n" + tags(7)
    [f] = tags_found(check(text, platforms=("instagram",), media=PHOTOS))
    assert (f.rule, f.severity) == ("hashtag.many", Severity.INFO)
    assert quoted(text, f) == "#みどり6 #みどり7"
    assert "2025年12月" in f.message


def test_over_five_on_x_is_a_warning(check: CheckFn) -> None:
    text = "紅葉が見頃です。#みどり市 #紅葉 #イチョウ #みどり中央公園 #秋の風景 #お出かけ"
    [f] = tags_found(check(text, platforms=("x",)))
    assert (f.rule, f.severity) == ("hashtag.many", Severity.WARNING)
    assert quoted(text, f) == "#お出かけ"
    assert "Xの投稿にハッシュタグが6個あります" in f.message


def test_each_platform_gets_its_own_limit(check: CheckFn) -> None:
    text = "寒い日は温泉でほっこりしませんか♨️\n" + tags(7)
    found = tags_found(check(text, platforms=("x", "instagram"), media=PHOTOS))
    assert sorted((f.rule, f.severity.value) for f in found) == [
        ("hashtag.many", "info"),
        ("hashtag.many", "warning"),
    ]


@pytest.mark.parametrize(
    ("text", "platforms"),
    [
        ("紅葉が見頃です。" + tags(5), ("x",)),
        ("紅葉が見頃です。" + tags(5), ("instagram",)),
        ("紅葉が見頃です。" + tags(12), ("facebook", "line")),
        ("詳しくは https://www.city.midori.lg.jp/#a #b #c #d #e #f", ("x",)),  # one is a link
        ("紅葉が見頃です。#みどり市 #紅葉 #2026 #10月 #11月 #12月", ("x",)),  # numbers
    ],
)
def test_within_the_limits_nothing_is_said(
    check: CheckFn, text: str, platforms: tuple[str, ...]
) -> None:
    assert tags_found(check(text, platforms=platforms, media=PHOTOS)) == []


# --- Tags that look meant but do not work -----------------------------------------------------


def test_a_tag_glued_to_the_sentence_is_no_hashtag(check: CheckFn) -> None:
    text = "市民まつりを開催します#みどり市"
    [f] = tags_found(check(text, platforms=("x", "instagram"), media=PHOTOS))
    assert (f.rule, f.severity) == ("hashtag.glued", Severity.WARNING)
    assert quoted(text, f) == "#みどり市"
    assert f.suggestion == " #みどり市"
    assert "X・Instagramではハッシュタグになりません" in f.message


def test_tags_without_a_space_between_them_are_both_broken(check: CheckFn) -> None:
    text = "市民まつりを開催します。\n#みどり市#市民まつり"
    found = tags_found(check(text, platforms=("x",)))
    assert [(quoted(text, f), f.suggestion) for f in found] == [
        ("#みどり市", "#みどり市 "),
        ("#市民まつり", " #市民まつり"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "プログラミング講座（C#言語入門）を開催します。",
        "会場は市民会館です。#みどり市 #市民まつり",
        "「#みどり市」を付けて投稿してください。",
        "&#12354;",
    ],
)
def test_no_glued_warning_for_ordinary_uses_of_the_sign(check: CheckFn, text: str) -> None:
    assert [f.rule for f in tags_found(check(text, platforms=("x",)))] == []


def test_the_music_sharp_is_no_hashtag(check: CheckFn) -> None:
    text = "市民まつりを開催します。♯みどり市 ♯市民まつり"
    found = tags_found(check(text, platforms=("facebook",)))
    assert [(f.rule, quoted(text, f), f.suggestion) for f in found] == [
        ("hashtag.sharp", "♯みどり市", "#みどり市"),
        ("hashtag.sharp", "♯市民まつり", "#市民まつり"),
    ]
    assert "音楽のシャープ記号" in found[0].message


@pytest.mark.parametrize(
    "text",
    ["ピアノ講座：ファ♯の音を練習します。", "ト長調（♯1つ）の曲です。", "♯が付く音を弾きます。"],
)
def test_sharps_in_music_are_left_alone(check: CheckFn, text: str) -> None:
    assert tags_found(check(text, platforms=("x", "facebook"))) == []


def test_a_full_width_sign_on_instagram_is_an_info_with_the_fix(check: CheckFn) -> None:
    text = "市民まつりを開催します。＃みどり市"
    [f] = tags_found(check(text, platforms=("instagram",), media=PHOTOS))
    assert (f.rule, f.severity) == ("hashtag.fullwidth", Severity.INFO)
    assert quoted(text, f) == "＃みどり市"
    assert f.suggestion == "#みどり市"
    assert tags_found(check(text, platforms=("x",))) == []  # X links ＃ tags


def test_messages_exist_in_english() -> None:
    draft = DraftToCheck("開催します#みどり市", DEFAULT_AT, (Platform.X,))
    [f] = Checker(rules=(hashtag.RULE,), lang=Lang.EN).check(draft).findings
    assert "will not work as a hashtag on X" in f.message


# --- Precision ----------------------------------------------------------------------------------

INSTAGRAM_POSTS = (
    "みどり市立博物館で企画展「みどりの養蚕と暮らし」が始まりました。\n"
    "会期：2027年1月24日(日)まで\n\n#みどり市 #みどり市立博物館 #企画展 #養蚕 #博物館巡り",
    "みどり駅前イルミネーションが点灯しました✨\n点灯時間は毎日17時～23時です。\n\n"
    "#みどり市 #イルミネーション #みどり駅 #冬の夜 #夜景",
    "12月6日(日)、みどり市総合防災訓練を行いました。\n#みどり市 #防災訓練 #自主防災",
)


@pytest.mark.parametrize("text", MUNICIPAL_DRAFTS + INSTAGRAM_POSTS)
def test_ordinary_municipal_drafts_pass(check: CheckFn, text: str) -> None:
    for platforms in (("x",), ("facebook",), ("line",)):
        assert tags_found(check(text, platforms=platforms)) == []


@pytest.mark.parametrize("text", INSTAGRAM_POSTS)
def test_ordinary_instagram_posts_pass(check: CheckFn, text: str) -> None:
    assert tags_found(check(text, platforms=("instagram",), media=PHOTOS)) == []


sign_texts = st.lists(
    st.sampled_from(
        ["#", "＃", "♯", "みどり", "市", "a", "1", " ", "\n", "。", "C", "https://a.jp/"]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(sign_texts | st.text(max_size=60), st.sets(st.sampled_from(list(Platform)), min_size=1))
def test_spans_are_inside_and_suggestions_make_working_hashtags(
    text: str, platforms: set[Platform]
) -> None:
    draft = DraftToCheck(text, DEFAULT_AT, tuple(platforms))
    for f in Checker(rules=(hashtag.RULE,)).check(draft).findings:
        assert 0 <= f.start <= f.end <= len(text)
        if f.rule in {"hashtag.glued", "hashtag.sharp"}:
            assert f.suggestion is not None
            fixed = text[: f.start] + f.suggestion + text[f.end :]
            start = f.start + (1 if f.suggestion.startswith(" ") else 0)
            assert start in {s for _, s, _ in xtext.hashtags(fixed)}, (text, f)


# --- The data file ----------------------------------------------------------------------------


def _broken_copy(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    path = tmp_path / "hashtag.yaml"
    shutil.copy(RULES_DIR / "hashtag.yaml", path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_data_loads() -> None:
    limits = {(lim.platform, lim.max): lim.severity for lim in hashtag.load().limits}
    assert limits == {
        (Platform.INSTAGRAM, 30): Severity.ERROR,
        (Platform.INSTAGRAM, 5): Severity.INFO,
        (Platform.X, 5): Severity.WARNING,
    }


def test_a_limit_that_breaks_its_specs_makes_loading_fail(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d["limits"][2].update(max=6))
    with pytest.raises(
        RuleDataError,
        match=r"hashtag\.yaml: limits\[2\] \(hashtag\.many on x\): spec .* should report",
    ):
        hashtag.load(str(path))


def test_a_miss_spec_that_hits_makes_loading_fail(tmp_path: Path) -> None:
    path = _broken_copy(
        tmp_path, lambda d: d["glued"]["specs"]["miss"].append("開催します#みどり市")
    )
    with pytest.raises(RuleDataError, match=r"glued: spec '開催します#みどり市' should not report"):
        hashtag.load(str(path))


def test_an_unknown_message_key_makes_loading_fail(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d["limits"][0].update(message="hashtag.nope"))
    with pytest.raises(RuleDataError, match=r"unknown message keys \['hashtag\.nope'\]"):
        hashtag.load(str(path))
