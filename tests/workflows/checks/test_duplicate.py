from __future__ import annotations

from datetime import datetime, timedelta

from tests.conftest import DEFAULT_AT, JST, CheckFn
from workflows.checks import CheckSettings, Severity

NOTICE = (
    "【みどり市】12月5日(土)に中央図書館でおはなし会を開きます。"
    "詳しくは https://www.city.midori.lg.jp/library/ をご覧ください。"
)


def test_near_duplicate_within_the_window_warns(check: CheckFn) -> None:
    earlier = NOTICE.replace("開きます", "開催します")
    result = check(NOTICE, history=((earlier, DEFAULT_AT - timedelta(days=3)),))
    [finding] = result.findings
    assert finding.rule == "duplicate"
    assert finding.severity is Severity.WARNING
    assert "11月17日(火)" in finding.message
    assert "類似度" in finding.message


def test_identical_text_on_x_is_an_error(check: CheckFn) -> None:
    changed_link = NOTICE.replace("/library/", "/library/event")
    result = check(changed_link, history=((NOTICE, DEFAULT_AT - timedelta(days=1)),))
    [finding] = result.findings
    assert finding.rule == "duplicate.identical"
    assert finding.severity is Severity.ERROR
    assert not result.ok


def test_identical_text_on_facebook_only_warns(check: CheckFn) -> None:
    result = check(
        NOTICE, platforms=("facebook",), history=((NOTICE, DEFAULT_AT - timedelta(days=1)),)
    )
    assert [f.rule for f in result.findings] == ["duplicate"]


def test_old_posts_and_different_posts_are_fine(check: CheckFn) -> None:
    old = (NOTICE, DEFAULT_AT - timedelta(days=30))
    other = ("ごみの収集日が変わります。12月から第2・第4水曜日が資源ごみの日です。", DEFAULT_AT)
    assert check(NOTICE, history=(old, other)).findings == ()


def test_window_and_threshold_come_from_settings(check: CheckFn) -> None:
    old = (NOTICE.replace("開きます", "開催"), datetime(2026, 10, 1, 10, tzinfo=JST))
    wide = CheckSettings(duplicate_window_days=60)
    assert [f.rule for f in check(NOTICE, history=(old,), settings=wide).findings] == ["duplicate"]
    strict = CheckSettings(duplicate_window_days=60, duplicate_similarity=100)
    assert check(NOTICE, history=(old,), settings=strict).findings == ()
