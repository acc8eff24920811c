from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.workflows.incidents.conftest import NOW, account
from workflows.catalogue import Lang
from workflows.checks.rules import prohibited
from workflows.incidents.flaming import (
    FlameRules,
    Reply,
    WatchedPost,
    assess,
    bucket_counts,
    detect,
    robust_z,
    tone,
)
from workflows.incidents.model import Cause, IncidentKind

X = account("midori-x")
POST = WatchedPost(
    post_id="1862000000000000100",
    text="市役所本庁舎の駐車場は11月から有料になります。",
    published_at=NOW - timedelta(hours=3),
    permalink="https://x.com/midori_city/status/1862000000000000100",
)
# Two weeks of an ordinary account: 0-4 replies an hour, about 2.
QUIET = tuple((0, 1, 2, 2, 3, 4, 2, 1)[i % 8] for i in range(14 * 24))
HOSTILE = (
    "ふざけるな、税金泥棒",
    "今すぐ謝罪しろ",
    "市の対応は最低です",
    "担当者は辞めろ",
    "これは炎上案件",
    "本当に失望しました",
)
NEUTRAL = (
    "有料になるのはいつからですか？",
    "障害者用の駐車スペースはどうなりますか",
    "料金はいくらですか",
    "なるほど",
)
FRIENDLY = (
    "楽しかったです、ありがとうございました！",
    "花火きれい✨",
    "来年も行きたい！",
    "素敵な写真ですね",
)


def replies(
    texts: tuple[str, ...], count: int, *, within: timedelta = timedelta(hours=1)
) -> list[Reply]:
    """``count`` replies cycling through ``texts``, spread over the last ``within``."""
    step = within / (count + 1)
    return [Reply(texts[i % len(texts)], NOW - step * (i + 1), f"r{i}") for i in range(count)]


# ---------------------------------------------------------------- no alert


def test_ordinary_traffic_does_not_alert() -> None:
    traffic = assess(POST, replies(NEUTRAL, 3), QUIET, at=NOW)
    assert not traffic.alert
    assert detect(X, POST, replies(NEUTRAL, 3), QUIET, at=NOW) is None


def test_on_a_silent_account_a_few_replies_are_no_alarm() -> None:
    silent = (0,) * 336
    traffic = assess(POST, replies(NEUTRAL, 3), silent, at=NOW)
    assert traffic.stats.spread == 1.0  # the floor, not zero
    assert traffic.stats.z == 3.0
    assert not traffic.surge
    assert not traffic.alert


def test_a_popular_friendly_post_does_not_alert() -> None:
    traffic = assess(POST, replies(FRIENDLY, 80), QUIET, at=NOW)
    assert traffic.stats.z > 20  # far above the baseline...
    assert traffic.friendly_surge  # ...but it is thanks
    assert not traffic.alert


def test_a_few_hostile_replies_are_not_enough() -> None:
    few = replies(HOSTILE, 5)
    traffic = assess(POST, few, QUIET, at=NOW)
    assert traffic.hostile_share == 1.0
    assert not traffic.alert  # below min_hostile_volume and no surge


# ---------------------------------------------------------------- alerts


def test_a_surge_of_angry_replies_alerts_with_the_evidence() -> None:
    surge = replies(HOSTILE, 12) + replies(NEUTRAL, 28)
    signal = detect(X, POST, surge, QUIET, at=NOW)
    assert signal is not None
    assert signal.kind is IncidentKind.FLAMING
    assert signal.cause is Cause.SURGE
    assert signal.dedupe_key == "flaming:surge:midori-x:1862000000000000100"
    assert signal.summary() == (
        "みどり市（X @midori_city）の2026年11月20日(金) 07:00の投稿に返信が集中しています"
        "（直近1時間で40件、平常時は2件程度、攻撃的な返信30%）。炎上のおそれがあります。"
    )
    rows = dict(signal.rows())
    assert rows["本文"] == POST.text
    assert rows["リンク"] == POST.permalink
    assert rows["返信・メンション"] == "40件（2026年11月20日(金) 09:00〜2026年11月20日(金) 10:00）"
    assert rows["平常時"] == "1時間あたり中央値2件（ばらつき1.5、過去336区間）"
    assert rows["平常時からの隔たり（z）"] == "25.6"
    assert rows["攻撃的な返信"] == "30%（40件中12件）"
    assert rows["判定理由"].splitlines() == [
        "返信が平常時を大きく上回っています（直近1時間で40件、平常時の中央値2件、z=25.6）。",
        "攻撃的な言葉を含む返信の割合が高くなっています（30%、40件中12件）。",
    ]
    samples = rows["返信の例"].splitlines()
    assert len(samples) == 5
    assert all(any(h in line for h in HOSTILE) for line in samples)  # hostile ones first
    stored = json.loads(json.dumps(signal.to_dict()))["evidence"]
    assert stored["count"] == 40
    assert stored["hostile"] == 12
    assert stored["baseline_median"] == 2.0
    assert len(stored["samples"]) == 5
    assert "Replies are piling up" in signal.summary(Lang.EN)


def test_a_surge_of_unclear_replies_alerts() -> None:
    # The lexicons miss much of a flame; a surge that is not plainly friendly is worth a look.
    traffic = assess(POST, replies(NEUTRAL, 40), QUIET, at=NOW)
    assert traffic.surge
    assert not traffic.hostile_wave
    assert traffic.alert


def test_a_hostile_wave_alerts_without_a_surge_on_a_busy_account() -> None:
    busy = tuple((10, 15, 20, 15, 12, 18)[i % 6] for i in range(336))
    wave = replies(HOSTILE, 6) + replies(NEUTRAL, 10)
    traffic = assess(POST, wave, busy, at=NOW)
    assert not traffic.surge
    assert traffic.hostile_wave
    assert traffic.alert


def test_threats_are_counted_and_shown_first() -> None:
    threats = [Reply("担当者の住所特定した", NOW - timedelta(minutes=1), "t1")]
    signal = detect(X, POST, threats + replies(HOSTILE, 11), QUIET, at=NOW)
    assert signal is not None
    rows = dict(signal.rows())
    assert rows["脅迫と受け取れる返信"] == "1"
    assert rows["返信の例"].splitlines()[0].endswith("担当者の住所特定した　【脅迫のおそれ】")
    assert rows["判定理由"].splitlines()[-1] == (
        "脅迫と受け取れる返信が1件あります。内容を確認し、必要なら警察に通報してください。"
    )


def test_the_same_post_keeps_its_key_on_every_poll() -> None:
    first = detect(X, POST, replies(HOSTILE, 30), QUIET, at=NOW)
    later_replies = [
        Reply(r.text, r.at + timedelta(minutes=10), r.reply_id) for r in replies(HOSTILE, 30)
    ]
    later = detect(X, POST, later_replies, QUIET, at=NOW + timedelta(minutes=10))
    assert first is not None
    assert later is not None
    assert first.dedupe_key == later.dedupe_key


def test_replies_outside_the_bucket_do_not_count() -> None:
    old = replies(HOSTILE, 40, within=timedelta(hours=1))
    shifted = [Reply(r.text, r.at - timedelta(hours=2), r.reply_id) for r in old]
    traffic = assess(POST, shifted, QUIET, at=NOW)
    assert traffic.count == 0
    assert not traffic.alert


def test_thresholds_are_configurable() -> None:
    lax = FlameRules(z_threshold=50)
    assert not assess(POST, replies(NEUTRAL, 40), QUIET, at=NOW, rules=lax).alert
    with pytest.raises(ValueError, match="fractions"):
        FlameRules(hostile_share=1.5)


# ---------------------------------------------------------------- reading replies


@pytest.mark.parametrize(
    ("text", "hostile", "friendly"),
    [
        ("ふざけるな、税金泥棒", True, False),
        ("バカじゃないの", True, False),  # the checker's insults count too
        ("明日の最低気温は3度だって", False, False),
        ("クソ暑いけど楽しかった", False, True),
        ("ありがとうございました！", False, True),
        ("楽しいイベントなのでみんな拡散して！", False, True),
        ("みんな拡散して！こんな市政許せない", True, False),
    ],
)
def test_tone(text: str, hostile: bool, friendly: bool) -> None:
    found = tone(text)
    assert (found.hostile, found.friendly) == (hostile, friendly)


def test_threats_from_the_checker_count() -> None:
    assert tone("文句を言うやつは殺すぞ").threat


def test_the_checker_entries_reused_for_replies_exist() -> None:
    # A renamed entry in prohibited.yaml would silently stop counting here.
    rules = FlameRules()
    names = {entry.name for entry in prohibited.lexicon().entries}
    assert rules.prohibited_hostile | rules.prohibited_threats <= names


# ---------------------------------------------------------------- counting


def test_robust_z_uses_median_and_mad_with_floors() -> None:
    assert robust_z(3, [0, 0, 0]).z == 3.0
    assert robust_z(10, []).median == 0.0
    busy = robust_z(40, [10, 10, 10, 10])  # no spread at all: sqrt(median) is the floor
    assert busy.spread == pytest.approx(10**0.5)
    assert robust_z(20, [10, 12, 8, 10, 30]).median == 10.0  # one busy hour does not move it


def test_bucket_counts() -> None:
    times = [NOW - timedelta(minutes=m) for m in (1, 2, 61, 119, 121, 500)]
    assert bucket_counts(times, end=NOW, bucket=timedelta(hours=1), buckets=3) == (1, 2, 2)


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=50))
def test_bucket_counts_count_every_time_in_range_once(minutes: list[int]) -> None:
    times = [NOW - timedelta(minutes=m) for m in minutes]
    counts = bucket_counts(times, end=NOW, bucket=timedelta(minutes=30), buckets=48)
    assert sum(counts) == sum(1 for m in minutes if 0 < m <= 48 * 30)


@given(
    st.integers(min_value=0, max_value=1000),
    st.lists(st.integers(min_value=0, max_value=1000), max_size=400),
)
def test_robust_z_never_divides_by_zero(count: int, baseline: list[int]) -> None:
    stats = robust_z(count, baseline)
    assert stats.spread >= 1.0


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        assess(POST, [], QUIET, at=datetime(2026, 11, 20, 10))  # noqa: DTZ001
