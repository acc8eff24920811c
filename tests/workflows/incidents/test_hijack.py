from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.workflows.incidents.conftest import JST, NOW, account
from workflows.catalogue import Lang
from workflows.incidents.hijack import (
    AuthRefusal,
    HijackRules,
    Observation,
    ProfileField,
    ProfileSnapshot,
    SeenPost,
    SentPost,
    auth_refused,
    detect,
    profile_changes,
    unknown_posts,
)
from workflows.incidents.model import Cause, IncidentKind, Signal

X = account("midori-x")
MUSEUM = account("museum-facebook")
WATCHING_SINCE = NOW - timedelta(days=7)
FAKE = SeenPost(
    post_id="1862000000000000001",
    text="【当選】みどり市民限定！ギフト券10万円が当たりました。こちらから受け取り→ https://t.co/abc",
    created_at=NOW - timedelta(minutes=5),
    permalink="https://x.com/midori_city/status/1862000000000000001",
)
OURS = SeenPost(
    post_id="1861000000000000001",
    text="11月23日(月・祝)は市民まつりです。",
    created_at=NOW - timedelta(days=1),
    permalink="https://x.com/midori_city/status/1861000000000000001",
)
BASELINE = ProfileSnapshot(
    name="みどり市",
    handle="midori_city",
    description="みどり市の公式アカウントです。市政情報やイベント情報をお届けします。",
    url="https://www.city.midori.lg.jp/",
    image="https://pbs.twimg.com/profile_images/111/midori_400x400.jpg",
)


def posts_signals(
    *posts: SeenPost,
    published_ids: Iterable[str] = (OURS.post_id,),
    recent_sends: tuple[SentPost, ...] = (),
    rules: HijackRules | None = None,
) -> list[Signal]:
    return unknown_posts(
        X,
        posts,
        published_ids=published_ids,
        recent_sends=recent_sends,
        watching_since=WATCHING_SINCE,
        rules=rules,
    )


# ---------------------------------------------------------------- unknown posts


def test_a_post_postgate_never_published_is_one_hijack_signal_with_its_text_and_link() -> None:
    [signal] = unknown_posts(
        X, [OURS, FAKE], published_ids={OURS.post_id}, watching_since=WATCHING_SINCE
    )
    assert signal.kind is IncidentKind.HIJACK
    assert signal.cause is Cause.UNKNOWN_POST
    assert signal.dedupe_key == "hijack:unknown-post:midori-x:1862000000000000001"
    assert signal.summary() == (
        "みどり市（X @midori_city）に、postgate を通していない投稿があります"
        "（2026年11月20日(金) 09:55）。乗っ取りのおそれがあります。"
        "すぐに投稿内容を確認してください。"
    )
    rows = dict(signal.rows())
    assert rows["アカウント"] == "みどり市（X @midori_city）"
    # The hijacker's link is shown defanged: never clickable, never unfurled.
    assert rows["本文"] == FAKE.text.replace("https://t.co/abc", "hxxps://t[.]co/abc")
    assert rows["リンク"] == "https://x.com/midori_city/status/1862000000000000001"
    assert rows["投稿日時"] == "2026年11月20日(金) 09:55"
    assert "has a post that postgate did not publish" in signal.summary(Lang.EN)
    assert json.loads(json.dumps(signal.to_dict()))["evidence"]["post_id"] == FAKE.post_id


def test_the_same_post_seen_on_every_poll_keeps_its_key() -> None:
    first = posts_signals(FAKE)
    later = posts_signals(OURS, FAKE, FAKE)  # pages of a timeline overlap
    assert [s.dedupe_key for s in first] == [s.dedupe_key for s in later]
    assert len(later) == 1


@given(
    st.text(alphabet="0123456789", min_size=1, max_size=20),
    st.text(max_size=300),
    st.integers(min_value=0, max_value=10_000),
)
def test_dedupe_keys_are_stable_across_polls(post_id: str, text: str, minutes: int) -> None:
    post = SeenPost(post_id, text, NOW - timedelta(minutes=minutes % 1000))
    polls = [
        unknown_posts(X, [post], published_ids=(), watching_since=WATCHING_SINCE) for _ in range(2)
    ]
    assert [s.dedupe_key for s in polls[0]] == [s.dedupe_key for s in polls[1]]
    assert [s.dedupe_key for s in polls[0]] == [f"hijack:unknown-post:midori-x:{post_id}"]


def test_history_from_before_postgate_watched_is_ignored() -> None:
    old = SeenPost("1700000000000000000", "昔の投稿", WATCHING_SINCE - timedelta(seconds=1))
    assert posts_signals(old) == []


def test_posts_postgate_published_are_ignored() -> None:
    assert posts_signals(OURS) == []
    assert posts_signals(FAKE, published_ids={FAKE.post_id, OURS.post_id}) == []


def test_an_account_that_allows_native_posts_has_no_unknown_posts() -> None:
    native = SeenPost("555_666", "本日の館内の様子です。", NOW - timedelta(hours=1))
    assert unknown_posts(MUSEUM, [native], published_ids=(), watching_since=WATCHING_SINCE) == []


def test_a_post_whose_id_is_not_recorded_yet_is_matched_by_its_text() -> None:
    sent = SentPost(
        text="本日14時から、みどり公園で秋の花まつりを開催します。詳しくは https://www.city.midori.lg.jp/hana",
        sent_at=NOW - timedelta(minutes=3),
    )
    # X shortened the link and the post appeared before the outbox stored its id.
    seen = SeenPost(
        "1862000000000000009",
        "本日14時から、みどり公園で秋の花まつりを開催します。詳しくは  https://t.co/Xy12",
        NOW - timedelta(minutes=2),
    )
    assert posts_signals(seen, recent_sends=(sent,)) == []


def test_a_text_match_outside_the_grace_window_is_not_ours() -> None:
    sent = SentPost("秋の花まつりを開催します。", sent_at=NOW - timedelta(hours=3))
    seen = SeenPost("1862000000000000009", "秋の花まつりを開催します。", NOW - timedelta(hours=2))
    [signal] = posts_signals(seen, recent_sends=(sent,))
    assert dict(signal.rows())["本文"] == "秋の花まつりを開催します。"
    # A wider grace window accepts it.
    wider = HijackRules(grace=timedelta(hours=2))
    assert posts_signals(seen, recent_sends=(sent,), rules=wider) == []


def test_a_different_text_in_the_window_is_not_ours() -> None:
    sent = SentPost("秋の花まつりを開催します。", sent_at=NOW - timedelta(minutes=3))
    assert len(posts_signals(FAKE, recent_sends=(sent,))) == 1


def test_one_publication_accounts_for_one_post_only() -> None:
    sent = SentPost("秋の花まつりを開催します。", sent_at=NOW - timedelta(minutes=10))
    ours = SeenPost("100", "秋の花まつりを開催します。", NOW - timedelta(minutes=9))
    copy = SeenPost("101", "秋の花まつりを開催します。", NOW - timedelta(minutes=8))
    [signal] = posts_signals(ours, copy, recent_sends=(sent,))
    assert signal.dedupe_key == "hijack:unknown-post:midori-x:101"


def test_a_send_whose_id_is_known_does_not_cover_another_post() -> None:
    sent = SentPost("秋の花まつりを開催します。", NOW - timedelta(minutes=10), post_id="100")
    ours = SeenPost("100", "秋の花まつりを開催します。", NOW - timedelta(minutes=9))
    copy = SeenPost("101", "秋の花まつりを開催します。", NOW - timedelta(minutes=8))
    [signal] = posts_signals(ours, copy, recent_sends=(sent,), published_ids=())
    assert signal.dedupe_key.endswith(":101")


def test_naive_datetimes_are_refused() -> None:
    naive = SeenPost("1", "x", datetime(2026, 11, 20, 10, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        posts_signals(naive)


# ---------------------------------------------------------------- profile changes


def test_a_changed_profile_field_is_one_signal_with_before_and_after() -> None:
    current = ProfileSnapshot(
        name="みどり市",
        handle="midori_city",
        description="Crypto giveaway! DM for details",
        url=BASELINE.url,
        image=BASELINE.image,
    )
    [signal] = profile_changes(X, BASELINE, current)
    assert signal.dedupe_key.startswith("hijack:profile:midori-x:description:")
    assert signal.summary() == (
        "みどり市（X @midori_city）のプロフィールの自己紹介文が変わりました"
        "（postgate では変更していません）。心当たりがなければ乗っ取りのおそれがあります。"
    )
    rows = dict(signal.rows())
    assert rows["変更された項目"] == "自己紹介文"
    assert rows["変更前"] == BASELINE.description
    assert rows["変更後"] == "Crypto giveaway! DM for details"


def test_the_same_change_keeps_its_key_and_a_further_change_gets_a_new_one() -> None:
    changed = ProfileSnapshot(
        "Elon Giveaway", BASELINE.handle, BASELINE.description, BASELINE.url, BASELINE.image
    )
    again = profile_changes(X, BASELINE, changed)
    assert [s.dedupe_key for s in again] == [
        s.dedupe_key for s in profile_changes(X, BASELINE, changed)
    ]
    further = ProfileSnapshot(
        "Giveaway 2", BASELINE.handle, BASELINE.description, BASELINE.url, BASELINE.image
    )
    assert profile_changes(X, BASELINE, further)[0].dedupe_key != again[0].dedupe_key


def test_every_field_is_compared() -> None:
    current = ProfileSnapshot(
        name="Free Gifts",
        handle="free_gifts_2026",
        description="",
        url="https://scam.example/",
        image="https://pbs.twimg.com/profile_images/999/other_400x400.jpg",
    )
    signals = profile_changes(X, BASELINE, current)
    fields = [s.evidence.to_dict()["field"] for s in signals]
    assert fields == [f.value for f in ProfileField]
    emptied = next(s for s in signals if s.evidence.to_dict()["field"] == "description")
    assert dict(emptied.rows())["変更後"] == "（空欄）"


def test_trivial_differences_are_not_changes() -> None:
    same = ProfileSnapshot(
        name=" みどり市 ",
        handle="@Midori_City",
        description="みどり市の公式アカウントです。 市政情報やイベント情報をお届けします。",
        url="https://WWW.city.midori.lg.jp",
        image=BASELINE.image + "?v=2",
    )
    assert profile_changes(X, BASELINE, same) == []


# ---------------------------------------------------------------- refused credentials


def test_refused_credentials_are_one_signal_per_streak() -> None:
    since = NOW - timedelta(hours=30)  # Thursday 04:00 in Tokyo
    first = auth_refused(X, AuthRefusal(at=NOW - timedelta(hours=29), since=since, status=401))
    later = auth_refused(
        X, AuthRefusal(at=NOW, since=since, status=401, detail="Invalid or expired token")
    )
    assert first.dedupe_key == later.dedupe_key == "hijack:auth:midori-x:2026-11-19"
    assert later.summary() == (
        "みどり市（X @midori_city）の認証情報がプラットフォームに拒否されています"
        "（2026年11月19日(木) 04:00から）。パスワードや連携が第三者に変更された可能性があり、"
        "乗っ取りのおそれがあります。市がトークンを再発行した（連携をやり直した）だけなら、"
        "新しいトークンを設定すれば解消します。"
    )
    rows = dict(later.rows())
    assert rows["応答"] == "HTTP 401"
    assert rows["プラットフォームのメッセージ"] == "Invalid or expired token"


def test_without_the_streak_start_refusals_alert_at_most_once_a_day() -> None:
    morning = auth_refused(X, AuthRefusal(at=NOW.replace(hour=9)))
    evening = auth_refused(X, AuthRefusal(at=NOW.replace(hour=18)))
    next_day = auth_refused(X, AuthRefusal(at=NOW + timedelta(days=1)))
    assert morning.dedupe_key == evening.dedupe_key != next_day.dedupe_key


def test_the_day_is_tokyos() -> None:
    # 23:30 UTC on the 19th is 08:30 on the 20th in Tokyo.
    utc = datetime.fromisoformat("2026-11-19T23:30:00+00:00")
    assert auth_refused(X, AuthRefusal(at=utc)).dedupe_key.endswith(":2026-11-20")


# ---------------------------------------------------------------- one poll


def test_one_poll_reports_every_cause_once() -> None:
    observation = Observation(
        watching_since=WATCHING_SINCE,
        posts=(OURS, FAKE),
        published_ids=frozenset({OURS.post_id}),
        baseline=BASELINE,
        profile=ProfileSnapshot("みどり市", "midori_city", "hacked", BASELINE.url, BASELINE.image),
        auth_refusal=AuthRefusal(at=NOW, status=401),
    )
    signals = detect(X, observation)
    assert [s.cause for s in signals] == [Cause.AUTH, Cause.PROFILE, Cause.UNKNOWN_POST]
    assert len({s.dedupe_key for s in signals}) == 3
    assert [s.dedupe_key for s in detect(X, observation)] == [s.dedupe_key for s in signals]


def test_a_quiet_poll_reports_nothing() -> None:
    observation = Observation(
        watching_since=WATCHING_SINCE,
        posts=(OURS,),
        published_ids=frozenset({OURS.post_id}),
        baseline=BASELINE,
        profile=BASELINE,
    )
    assert detect(X, observation) == []


def test_rules_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="negative"):
        HijackRules(grace=timedelta(minutes=-1))
    with pytest.raises(ValueError, match="0 to 100"):
        HijackRules(min_similarity=120)


def test_times_are_shown_in_tokyo() -> None:
    utc = datetime.fromisoformat("2026-11-20T01:05:00+00:00")
    post = SeenPost("9", "x", utc)
    [signal] = unknown_posts(X, [post], published_ids=(), watching_since=WATCHING_SINCE)
    assert dict(signal.rows())["投稿日時"] == "2026年11月20日(金) 10:05"
    assert dict(signal.rows(Lang.EN))["Posted at"] == "Fri 2026-11-20 10:05 JST"
    assert utc.astimezone(JST).hour == 10


def test_defang_makes_links_and_host_names_unclickable_but_readable() -> None:
    from workflows.incidents.model import defang

    assert defang("受け取り→ https://evil.example/login?x=1") == (
        "受け取り→ hxxps://evil[.]example/login?x=1"
    )
    assert defang("bit.ly/abc か HTTP://Evil.CO.jp") == "bit[.]ly/abc か HxxP://Evil[.]CO[.]jp"
    assert defang("10.5% 増、v1.2") == "10.5% 増、v1.2"  # numbers are not host names
