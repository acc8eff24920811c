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
from workflows.checks import (
    CheckResult,
    CheckSettings,
    DraftToCheck,
    Finding,
    MediaItem,
    Platform,
    Severity,
)
from workflows.checks.data import RULES_DIR, RuleDataError
from workflows.checks.engine import Checker
from workflows.checks.rules import media

CITY = CheckSettings(official_domains=("city.midori.lg.jp",))
IMG = "https://www.city.midori.lg.jp/kanko/img/"
TEXT = "みどり駅前イルミネーションが点灯しました✨ #みどり市 #イルミネーション"


def media_found(result: CheckResult) -> list[Finding]:
    return [f for f in result.findings if f.rule.split(".")[0] == "media"]


def rules_and_severities(result: CheckResult) -> list[tuple[str, Severity]]:
    return [(f.rule, f.severity) for f in media_found(result)]


def photos(n: int, extension: str = "jpg") -> tuple[str, ...]:
    return tuple(f"{IMG}photo{i}.{extension}" for i in range(1, n + 1))


# --- Instagram needs media, and prefers several ------------------------------------------------


def test_instagram_without_an_image_is_an_error(check: CheckFn) -> None:
    [f] = media_found(check(TEXT, platforms=("instagram",), settings=CITY))
    assert (f.rule, f.severity) == ("media.required", Severity.ERROR)
    assert (f.start, f.end) == (0, 0)
    assert "Instagramは画像か動画がないと投稿できません" in f.message


@pytest.mark.parametrize("platform", ["x", "facebook", "line"])
def test_other_platforms_post_text_alone(check: CheckFn, platform: str) -> None:
    assert media_found(check(TEXT, platforms=(platform,), settings=CITY)) == []


def test_a_single_instagram_image_gets_a_hint_for_several(check: CheckFn) -> None:
    [f] = media_found(check(TEXT, platforms=("instagram",), media=photos(1), settings=CITY))
    assert (f.rule, f.severity) == ("media.single", Severity.INFO)
    assert "画像は複数枚で投稿" in f.message


@pytest.mark.parametrize("items", [photos(2), (f"{IMG}reel.mp4",), photos(10)])
def test_several_images_or_a_video_on_instagram_are_fine(
    check: CheckFn, items: tuple[str, ...]
) -> None:
    assert media_found(check(TEXT, platforms=("instagram",), media=items, settings=CITY)) == []


# --- Where images come from ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://i.imgur.com/Qm3xT7b.jpg", "i.imgur.com"),
        ("https://drive.google.com/uc?id=1aB2cD3eF4gH5iJ6kL7mN8oP", "drive.google.com"),
        ("https://pbs.twimg.com/media/GxYz123AbC.jpg", "pbs.twimg.com"),
        ("https://city.midori.lg.jp.example.com/a.jpg", "city.midori.lg.jp.example.com"),
        ("https://evilcity.midori.lg.jp/a.jpg", "evilcity.midori.lg.jp"),
    ],
)
def test_images_from_elsewhere_are_refused(check: CheckFn, url: str, host: str) -> None:
    [f] = media_found(check(TEXT, platforms=("x",), media=(url,), settings=CITY))
    assert (f.rule, f.severity) == ("media.host", Severity.ERROR)
    assert f"「{host}」" in f.message
    assert "city.midori.lg.jp" in f.message


@pytest.mark.parametrize(
    "url",
    [
        "https://www.city.midori.lg.jp/kanko/img/a.jpg",
        "https://city.midori.lg.jp/a.png",
        "https://WWW.CITY.MIDORI.LG.JP/a.png",
        "IMG_4521.jpg",  # a file attached to the draft
        "/tmp/uploads/chirashi.png",
    ],
)
def test_the_citys_own_images_and_attachments_pass(check: CheckFn, url: str) -> None:
    assert media_found(check(TEXT, platforms=("x",), media=(url,), settings=CITY)) == []


def test_media_hosts_take_precedence_over_the_official_domains(check: CheckFn) -> None:
    cdn = CheckSettings(
        official_domains=("city.midori.lg.jp",), media_hosts=("img.example-cdn.jp",)
    )
    ok = check(TEXT, platforms=("x",), media=("https://img.example-cdn.jp/a.jpg",), settings=cdn)
    assert media_found(ok) == []
    refused = check(TEXT, platforms=("x",), media=(f"{IMG}a.jpg",), settings=cdn)
    assert rules_and_severities(refused) == [("media.host", Severity.ERROR)]


def test_without_any_hosts_configured_any_https_host_will_do(check: CheckFn) -> None:
    result = check(TEXT, platforms=("x",), media=("https://i.imgur.com/a.jpg",))
    assert media_found(result) == []


@pytest.mark.parametrize("settings_", [CITY, CheckSettings()])
def test_http_media_is_an_error(check: CheckFn, settings_: CheckSettings) -> None:
    url = "http://www.city.midori.lg.jp/kanko/img/a.jpg"
    [f] = media_found(check(TEXT, platforms=("x",), media=(url,), settings=settings_))
    assert (f.rule, f.severity) == ("media.insecure", Severity.ERROR)
    assert "「a.jpg」" in f.message
    assert "https://" in f.message


# --- How many ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "items", "words"),
    [
        ("x", photos(5), "Xには1投稿に画像・動画を4個までしか付けられませんが、5個あります"),
        ("instagram", photos(11), "Instagramには1投稿に画像・動画を10個まで"),
        ("line", photos(5), "LINEは1回の配信が吹き出し5つ（本文と画像・動画4個）まで"),
        ("x", (f"{IMG}a.gif", f"{IMG}b.jpg"), "「a.gif」のようなGIFや動画は1投稿に1つだけ"),
        ("x", (f"{IMG}clip.mp4", f"{IMG}b.jpg"), "「clip.mp4」のようなGIFや動画"),
    ],
)
def test_too_many_items_for_the_platform(
    check: CheckFn, platform: str, items: tuple[str, ...], words: str
) -> None:
    [f] = media_found(check(TEXT, platforms=(platform,), media=items, settings=CITY))
    assert (f.rule, f.severity) == ("media.count", Severity.ERROR)
    assert words in f.message


@pytest.mark.parametrize(
    ("platform", "items"),
    [("x", photos(4)), ("x", (f"{IMG}a.gif",)), ("line", photos(4)), ("facebook", photos(20))],
)
def test_within_the_limits(check: CheckFn, platform: str, items: tuple[str, ...]) -> None:
    assert media_found(check(TEXT, platforms=(platform,), media=items, settings=CITY)) == []


# --- Which types ---------------------------------------------------------------------------------


def test_an_iphone_photo_is_refused_once_naming_every_platform(check: CheckFn) -> None:
    items = (f"{IMG}IMG_0001.HEIC", f"{IMG}b.jpg")
    [f] = media_found(
        check(TEXT, platforms=("x", "instagram", "facebook"), media=items, settings=CITY)
    )
    assert (f.rule, f.severity) == ("media.type", Severity.ERROR)
    assert "「IMG_0001.HEIC」（HEIC形式）はX・Instagramに投稿できません" in f.message
    assert "JPG・MP4のいずれか" in f.message  # what both take (Instagram: JPEG only)


def test_the_mime_type_wins_over_the_name() -> None:
    draft = DraftToCheck(
        TEXT,
        DEFAULT_AT,
        (Platform.X,),
        media=(
            MediaItem(f"{IMG}photo.jpg", "image/heic"),
            MediaItem(f"{IMG}download", "image/png"),
        ),
    )
    found = Checker(CITY, rules=(media.RULE,)).check(draft).findings
    assert [(f.rule, "photo.jpg" in f.message) for f in found] == [("media.type", True)]


@pytest.mark.parametrize(
    ("platform", "name"),
    [("instagram", "anim.gif"), ("line", "anim.gif"), ("x", "chirashi.pdf"), ("line", "a.webp")],
)
def test_types_the_platform_does_not_take(check: CheckFn, platform: str, name: str) -> None:
    items = (f"{IMG}{name}", f"{IMG}b.jpg")
    result = check(TEXT, platforms=(platform,), media=items, settings=CITY)
    assert ("media.type", Severity.ERROR) in rules_and_severities(result)


def test_unknown_types_are_left_alone(check: CheckFn) -> None:
    items = ("https://www.city.midori.lg.jp/img?id=1", "https://www.city.midori.lg.jp/img/photo")
    assert media_found(check(TEXT, platforms=("x",), media=items, settings=CITY)) == []


def test_messages_exist_in_english() -> None:
    draft = DraftToCheck(TEXT, DEFAULT_AT, (Platform.INSTAGRAM,))
    [f] = Checker(CITY, rules=(media.RULE,), lang=Lang.EN).check(draft).findings
    assert "Instagram cannot publish a post without an image or video" in f.message


# --- Precision ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platforms", "items"),
    [
        (("instagram",), photos(2)),
        (("instagram",), ("IMG_4521.jpg", "IMG_4523.jpg")),
        (("x",), ()),
        (("x", "facebook"), photos(3)),
        (("line",), (f"{IMG}poster.png",)),
        (("facebook", "instagram"), photos(4, "jpeg")),
    ],
)
def test_ordinary_posts_pass(
    check: CheckFn, platforms: tuple[str, ...], items: tuple[str, ...]
) -> None:
    assert media_found(check(TEXT, platforms=platforms, media=items, settings=CITY)) == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(max_size=40)
        | st.sampled_from(["https://", "http://", "ftp://x/a.jpg", "http://[::1", "a.HEIC"]),
        max_size=12,
    ),
    st.sets(st.sampled_from(list(Platform)), min_size=1),
)
def test_any_media_list_is_handled(items: list[str], platforms: set[Platform]) -> None:
    draft = DraftToCheck(TEXT, DEFAULT_AT, tuple(platforms), media=tuple(map(MediaItem, items)))
    for f in Checker(CITY, rules=(media.RULE,)).check(draft).findings:
        assert (f.start, f.end) == (0, 0)
        assert f.rule.startswith("media.")


# --- The data file ----------------------------------------------------------------------------


def _broken_copy(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    path = tmp_path / "media.yaml"
    shutil.copy(RULES_DIR / "media.yaml", path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_data_loads() -> None:
    data = media.load()
    assert {p: rules.max_items for p, rules in data.platforms.items()} == {
        Platform.X: 4,
        Platform.INSTAGRAM: 10,
        Platform.FACEBOOK: None,
        Platform.LINE: 4,
    }


def test_a_limit_that_breaks_its_specs_makes_loading_fail(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d["platforms"]["x"].update(max_items=5))
    with pytest.raises(
        RuleDataError,
        match=r"media\.yaml: platforms\.x: spec .*5\.jpg.* should report media\.count",
    ):
        media.load(str(path))


def test_a_dropped_mime_type_is_caught_by_its_spec(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d["content_types"].pop("image/heic"))
    with pytest.raises(RuleDataError, match=r"platforms\.x: spec .* should report media\.type"):
        media.load(str(path))


def test_a_spec_without_a_rule_is_malformed(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d["hosts"]["specs"]["hit"].append({"media": ["a.jpg"]}))
    with pytest.raises(RuleDataError, match=r"media\.yaml: hosts: bad spec"):
        media.load(str(path))
