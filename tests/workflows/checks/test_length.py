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
from workflows.catalogue import Lang
from workflows.checks import CheckResult, DraftToCheck, Finding, Platform, Severity
from workflows.checks.data import RULES_DIR, RuleDataError
from workflows.checks.engine import Checker
from workflows.checks.rules import length

URL = "https://www.city.midori.lg.jp/event/matsuri2026.html"


def length_findings(result: CheckResult) -> list[Finding]:
    return [f for f in result.findings if f.rule.split(".")[0] == "length"]


def errors(result: CheckResult) -> list[Finding]:
    return [f for f in length_findings(result) if f.severity is Severity.ERROR]


# --- X ----------------------------------------------------------------------------------------


def test_x_over_the_limit_says_by_how_much_in_full_width_characters(check: CheckFn) -> None:
    text = "あ" * 146  # weighted 292
    [f] = length_findings(check(text, platforms=("x",)))
    assert (f.rule, f.severity) == ("length", Severity.ERROR)
    assert "Xの上限を全角で6文字分超えています（292/280）。" in f.message
    assert "「ああああああ」以降が入りきりません" in f.message
    assert text[f.start : f.end] == "あ" * 6
    assert f.suggestion is None


def test_an_odd_excess_rounds_up_to_a_whole_full_width_character(check: CheckFn) -> None:
    text = "a" * 281
    [f] = length_findings(check(text, platforms=("x",)))
    assert "全角で1文字分超えています（281/280）" in f.message
    assert (f.start, f.end) == (280, 281)


@pytest.mark.parametrize(
    "text",
    [
        "あ" * 140,
        "a" * 280,
        "お知らせ😀" * 28,  # every emoji weighs 2
        "👨\u200d👩\u200d👧\u200d👦" * 140,  # a family is one emoji
        # A long URL counts 23 whatever its length.
        "あ" * 128 + " " + "https://www.city.midori.lg.jp/" + "a" * 200,
    ],
)
def test_x_at_or_under_280_weighted_is_fine(check: CheckFn, text: str) -> None:
    assert errors(check(text, platforms=("x",))) == []


def test_a_bare_domain_counts_23_like_a_link(check: CheckFn) -> None:
    text = "あ" * 128 + " city.midori.lg.jp/kurashi/gomi/calendar/2026/index.html"  # 256+1+23
    assert errors(check(text, platforms=("x",))) == []
    [f] = errors(check(text + " ", platforms=("x",)))
    assert "（281/280）" in f.message


def test_the_overflow_starts_at_a_link_that_does_not_fit(check: CheckFn) -> None:
    text = "あ" * 130 + f"詳しくは {URL}"  # 260 + 8 + 1 = 269, the link brings it to 292
    [f] = errors(check(text, platforms=("x",)))
    assert text[f.start : f.end] == URL
    assert "「https://www.…」以降" in f.message


def test_a_municipal_notice_that_is_too_long(check: CheckFn) -> None:
    text = (
        "【保育課】令和9年4月からの保育園等の入園申込を受け付けています。一次選考の申込期限は"
        "12月4日(金)です。申込書類は保育課窓口と市ホームページで配布しています。希望する園の見学は、"
        "各園に直接お問い合わせください。きょうだいで同じ園を希望する場合は、申込書の備考欄にご記入"
        f"ください。\n{URL}"
    )
    [f] = errors(check(text, platforms=("x",)))
    assert f.rule == "length"
    assert f.end == len(text)
    assert text[f.start :].endswith(URL)


def test_x_refuses_invisible_byte_order_marks(check: CheckFn) -> None:
    text = "市民まつりを\ufeff開催します。"
    [f] = [f for f in length_findings(check(text, platforms=("x",))) if f.rule != "length"]
    assert (f.rule, f.severity) == ("length.invalid-char", Severity.ERROR)
    assert (f.start, f.end) == (6, 7)
    assert f.suggestion == ""
    assert "U+FEFF" in f.message


# --- The link hint (manual §3 (2)) -----------------------------------------------------------

LONG_NO_LINK = (
    "【特殊詐欺に注意】市内で、市役所の職員を名乗り「医療費の還付金があります」と電話をかけ、"
    "ATMに誘導する事例が確認されています。市役所がATMの操作をお願いすることはありません。"
    "不審な電話はすぐに切り、警察に相談してください。"
)


def test_a_long_x_post_without_a_link_gets_a_hint(check: CheckFn) -> None:
    [f] = length_findings(check(LONG_NO_LINK, platforms=("x",)))
    assert (f.rule, f.severity) == ("length.link-hint", Severity.INFO)
    assert (f.start, f.end) == (0, 0)
    assert "リンクがありません" in f.message
    assert "運用マニュアル3(2)" in f.message


@pytest.mark.parametrize(
    ("text", "platforms", "emergency"),
    [
        (LONG_NO_LINK + " https://www.city.midori.lg.jp/", ("x",), False),
        (LONG_NO_LINK + " city.midori.lg.jp/bohan", ("x",), False),
        ("12月5日(土)14時から市民会館で冬のコンサートを開催します。入場無料です。", ("x",), False),
        (LONG_NO_LINK, ("facebook", "line", "instagram"), False),
        (LONG_NO_LINK, ("x",), True),  # an emergency post has to say it all
    ],
)
def test_no_hint_with_a_link_for_short_posts_off_x_or_in_emergencies(
    check: CheckFn, text: str, platforms: tuple[str, ...], emergency: bool
) -> None:
    result = check(text, platforms=platforms, emergency=emergency, media=("a.jpg", "b.jpg"))
    assert [f.rule for f in length_findings(result)] == []


def test_no_hint_beside_the_length_error_that_already_says_so(check: CheckFn) -> None:
    assert [f.rule for f in length_findings(check("あ" * 146))] == ["length"]


# --- Other platforms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "text", "message", "overflow"),
    [
        (
            "instagram",
            "あ" * 2201,
            "Instagramの上限（2,200文字）を1文字超えています（2,201/2,200）",
            "あ",
        ),
        (
            "facebook",
            "あ" * 63200 + "いいいいいいいい",
            "Facebookの上限（63,206文字）を2文字超えています（63,208/63,206）",
            "いい",
        ),
        (
            "line",
            "あ" * 4999 + "😀",  # LINE counts UTF-16 code units: the emoji is 2
            "LINEの1通の上限（5,000文字）を1文字超えています（5,001/5,000",
            "😀",
        ),
    ],
)
def test_other_platforms_count_their_way(
    check: CheckFn, platform: str, text: str, message: str, overflow: str
) -> None:
    [f] = errors(check(text, platforms=(platform,), media=("a.jpg", "b.jpg")))
    assert (f.rule, f.severity) == ("length", Severity.ERROR)
    assert message in f.message
    assert text[f.start : f.end] == overflow


def test_only_the_platforms_of_the_draft_are_measured(check: CheckFn) -> None:
    text = "あ" * 3000
    assert [f.message[:1] for f in errors(check(text, platforms=("x",)))] == ["X"]
    assert errors(check("あ" * 300, platforms=("instagram", "facebook", "line"))) == []
    both = errors(check("あ" * 5001, platforms=("x", "line")))
    assert sorted(f.message.split("の")[0] for f in both) == ["LINE", "X"]


def test_messages_exist_in_english() -> None:
    draft = DraftToCheck("あ" * 146, DEFAULT_AT, (Platform.X,))
    [f] = Checker(rules=(length.RULE,), lang=Lang.EN).check(draft).findings
    assert "over X's limit by about 6 full-width characters (292/280)" in f.message


# --- Precision: what staff really post --------------------------------------------------------


@pytest.mark.parametrize("text", MUNICIPAL_DRAFTS)
def test_ordinary_municipal_drafts_pass(check: CheckFn, text: str) -> None:
    for platforms in (("x",), ("facebook", "line")):
        result = check(text, platforms=platforms)
        assert [f for f in length_findings(result) if f.severity is not Severity.INFO] == []


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from("あ漢😀a .\n/:httpswcomjp-\ufeff") | st.characters(),
        max_size=400,
    ),
    st.sets(st.sampled_from(list(Platform)), min_size=1),
)
def test_spans_stay_inside_any_text(text: str, platforms: set[Platform]) -> None:
    draft = DraftToCheck(text, DEFAULT_AT, tuple(platforms))
    for f in Checker(rules=(length.RULE,)).check(draft).findings:
        assert 0 <= f.start <= f.end <= len(text)
        if f.rule == "length":
            assert f.end == len(text) > f.start


def test_a_one_megabyte_draft_is_measured() -> None:
    text = ("【お知らせ】市民まつりを開催します。詳しくは " + URL + " #みどり市 🎉\n") * 12000
    draft = DraftToCheck(text, DEFAULT_AT, tuple(Platform))
    found = Checker(rules=(length.RULE,)).check(draft).findings
    assert sorted(f.message.split("の")[0] for f in found) == [
        "Facebook",
        "Instagram",
        "LINE",
        "X",
    ]


# --- The data file ----------------------------------------------------------------------------


def _broken_copy(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    path = tmp_path / "length.yaml"
    shutil.copy(RULES_DIR / "length.yaml", path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_data_loads() -> None:
    data = length.load()
    assert {p: (lim.limit, lim.unit) for p, lim in data.limits.items()} == {
        Platform.X: (280, "weighted"),
        Platform.INSTAGRAM: (2200, "chars"),
        Platform.FACEBOOK: (63206, "chars"),
        Platform.LINE: (5000, "utf16"),
    }


def test_a_wrong_limit_makes_loading_fail(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d["platforms"]["x"].update(limit=300))
    with pytest.raises(RuleDataError, match=r"length\.yaml: platforms\.x: spec 'あ.*should report"):
        length.load(str(path))


def test_a_wrong_unit_makes_loading_fail(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d["platforms"]["line"].update(unit="chars"))
    with pytest.raises(RuleDataError, match=r"platforms\.line: spec '😀.*should report length"):
        length.load(str(path))


def test_a_hint_threshold_that_misses_its_spec_fails(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d["link_hint"].update(over=250))
    with pytest.raises(RuleDataError, match=r"link_hint: spec .* should report length\.link-hint"):
        length.load(str(path))


def test_an_unknown_unit_is_malformed(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d["platforms"]["x"].update(unit="bytes"))
    with pytest.raises(RuleDataError, match=r"length\.yaml: malformed"):
        length.load(str(path))
