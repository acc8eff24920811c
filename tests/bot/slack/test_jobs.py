"""The timed jobs (reminders, results) and the outbox's notifier, through Slack."""

from __future__ import annotations

from datetime import timedelta

from bot.slack import ids
from handlers.publishing import NoticeKind, PublicationNotice
from tests.bot.slack.harness import (
    ALERTS,
    SATO,
    SUZUKI,
    TAKAHASHI,
    SlackHarness,
    blocks_text,
    buttons,
    dm,
)
from tests.bot.slack.test_flow import approve, ready_for_approval


async def test_a_pending_approval_is_sent_again_then_offered_to_deputies(
    slack: SlackHarness,
) -> None:
    ts = await ready_for_approval(slack)
    assert len(slack.fake.messages(dm(SATO))) == 1
    assert slack.fake.messages(dm(SUZUKI)) == []

    slack.clock.now += timedelta(hours=1)
    await slack.hub.tick()
    assert len(slack.fake.messages(dm(SATO))) == 1  # not yet

    slack.clock.now += timedelta(hours=1, minutes=1)  # 2 h: the chief again
    await slack.hub.tick()
    await slack.hub.tick()  # once only
    reminders = slack.fake.messages(dm(SATO))
    assert len(reminders) == 2
    assert "リマインド" in blocks_text(reminders[1].blocks)
    assert buttons(reminders[1].blocks)[ids.APPROVE] == "1:1"
    assert slack.fake.messages(dm(SUZUKI)) == []
    assert any("再度お知らせしました" in m.text for m in slack.thread(ts))

    slack.clock.now += timedelta(hours=2)  # 4 h: the deputies
    await slack.hub.tick()
    await slack.hub.tick()
    [offer] = slack.fake.messages(dm(SUZUKI))
    assert "代理承認のお願い" in blocks_text(offer.blocks)
    assert len(slack.fake.messages(dm(SATO))) == 2

    # The deputy approves from the offer: every copy (4 now) shows it, without buttons.
    await approve(slack, offer, SUZUKI)
    assert slack.draft().state == "approved"
    for channel in (dm(SATO), dm(SUZUKI), "C0APPROVE1"):
        for message in slack.fake.messages(channel):
            assert not buttons(message.blocks)
            assert "鈴木 博 が承認しました" in blocks_text(message.blocks)
    slack.clock.now += timedelta(hours=5)
    await slack.hub.tick()
    assert len(slack.fake.messages(dm(SUZUKI))) == 1  # nothing pending any more


async def test_the_notifier_tells_the_thread_what_went_wrong_and_what_to_do(
    slack: SlackHarness,
) -> None:
    ts = await ready_for_approval(slack)
    [card] = slack.fake.messages(dm(SATO))
    await approve(slack, card)
    notice = PublicationNotice(
        NoticeKind.FAILED,
        publication_id=1,
        draft_id=1,
        account_id="midori-x",
        member_ids=("takahashi.yui", "sato.keiko"),
        detail="x HTTP 403: You are not allowed to create a Tweet with duplicate content.",
    )
    await slack.hub.notify(notice)
    [told] = [m for m in slack.thread(ts) if "duplicate content" in m.text]
    assert f"<@{TAKAHASHI}>" in told.text
    assert f"<@{SATO}>" in told.text
    assert "投稿できませんでした" in told.text
    assert "/postgate status 1" in told.text

    auth = PublicationNotice(
        NoticeKind.AUTH_FAILED, 1, 1, "midori-x", ("sato.keiko",), "x HTTP 401: Unauthorized"
    )
    await slack.hub.notify(auth)
    [alert] = slack.fake.messages(ALERTS)
    assert "乗っ取り" in alert.text
    assert f"<@{SATO}>" in alert.text


async def test_the_notifier_never_raises(slack: SlackHarness) -> None:
    slack.fake.fail_next(500, count=10)
    notice = PublicationNotice(NoticeKind.HELD, 9, 999, "midori-x", (), "held")
    await slack.hub.notify(notice)  # an unknown draft, Slack failing: logged only
