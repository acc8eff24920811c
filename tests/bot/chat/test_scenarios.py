"""One table of scenarios, run against both adapters through real HTTP: the same rules, the
same Japanese texts, whatever the platform. Each ``Driver`` does what a person does on its
platform (a message in the drafts channel, a click, a form) and reads what they would see."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import pytest
from sqlmodel import col, select

from bot.chat import actions, forms
from bot.config import AppConfig
from bot.slack import ids as slack_ids
from bot.teams import render as teams_render
from handlers.publishing import NoticeKind, PublicationNotice
from storage.engine import Database
from storage.tables import AuditEvent, DeletionRequest, Incident, Publication
from tests.bot.slack import harness as slack_h
from tests.bot.slack import test_flow as slack_flow
from tests.bot.slack.harness import CLEAN, SlackHarness, slack_env
from tests.bot.teams import harness as teams_h
from tests.bot.teams import test_flow as teams_flow
from tests.bot.teams.harness import TeamsHarness, card_text, teams_env, verbs
from tests.fakes.slack import FakeSlack
from tests.fakes.teams import FakeTeams
from tests.handlers.conftest import FixedClock

WITH_ERROR = "12月5日(金)に中央図書館でおはなし会を開きます。"


class Driver(Protocol):
    platform: str
    harness: Any
    author: str
    chief: str
    digital: str
    stranger: str

    async def draft(self, text: str) -> str: ...
    def submit_offered(self, handle: str) -> bool: ...
    async def to_approval(self, handle: str) -> None: ...
    async def approve(self, user: str) -> str | None: ...
    def thread(self, handle: str) -> str: ...
    def chief_card(self) -> str: ...
    def state(self) -> str: ...
    async def retry(self, user: str, handle: str) -> str | None: ...
    async def command(self, user: str, text: str) -> str: ...
    async def edit(self, user: str, handle: str, text: str) -> str | None: ...
    def revision(self) -> int: ...
    async def report(self, user: str, values: dict[str, str]) -> str: ...
    async def press(
        self, user: str, handle: str, action: str, typed: str | None = None
    ) -> tuple[str | None, str, set[str]]: ...
    def dms(self, user: str) -> str: ...


class SlackDriver:
    platform = "slack"
    author, chief = slack_h.TAKAHASHI, slack_h.SATO
    digital, stranger = slack_h.KOBAYASHI, "U0YAMAJUN"  # デジタル推進課; 環境推進課

    def __init__(self, harness: SlackHarness) -> None:
        self.harness = harness

    async def draft(self, text: str) -> str:
        return await slack_flow.draft(self.harness, text)

    def submit_offered(self, handle: str) -> bool:
        return actions.SUBMIT in slack_h.buttons(self.harness.card(handle).blocks)

    async def to_approval(self, handle: str) -> None:
        await slack_flow.submit(self.harness, handle)
        await slack_flow.peer_check(self.harness, handle)

    async def approve(self, user: str) -> str | None:
        [card] = self.harness.fake.messages(slack_h.APPROVALS)
        opened = len(self.harness.fake.views)
        await self.harness.click(user, card, actions.APPROVE)
        await self.harness.settle()
        if len(self.harness.fake.views) == opened:
            return self.harness.ephemerals(user)[-1]
        view = self.harness.last_view("postgate.view.approve")
        await self.harness.submit(user, view, slack_h.all_ticked(view))
        await self.harness.settle()
        return None

    def thread(self, handle: str) -> str:
        return "\n".join(
            m.text + slack_h.blocks_text(m.blocks) for m in self.harness.thread(handle)
        )

    def chief_card(self) -> str:
        [card] = self.harness.approval_cards(self.chief)
        return slack_h.blocks_text(self.harness.fake.message(card.channel, card.ts).blocks)

    def state(self) -> str:
        return self.harness.draft().state

    async def retry(self, user: str, handle: str) -> str | None:
        """Click 再送する under the failure notice; what the clicker alone was told, if any."""
        [notice] = [
            m for m in self.harness.thread(handle) if actions.RETRY in slack_h.buttons(m.blocks)
        ]
        told = len(self.harness.ephemerals(user))
        await self.harness.click(user, notice, actions.RETRY)
        await self.harness.settle()
        shown = self.harness.ephemerals(user)
        return shown[-1] if len(shown) > told else None

    async def press(
        self, user: str, handle: str, action: str, typed: str | None = None
    ) -> tuple[str | None, str, set[str]]:
        """Type ``typed`` in the box of the thread's note that has the button, press it: (what
        the clicker alone was told, if anything; what the note shows afterwards; its buttons)."""
        [note] = [m for m in self.harness.thread(handle) if action in slack_h.buttons(m.blocks)]
        told = len(self.harness.ephemerals(user))
        state = {}
        if typed is not None:
            box = {slack_ids.INPUT: {"type": "plain_text_input", "value": typed}}
            state = {actions.NOTE_FIELD: box}
        await self.harness.click(user, note, action, state=state)
        await self.harness.settle()
        shown = self.harness.ephemerals(user)
        now = self.harness.fake.message(note.channel, note.ts)
        return (
            shown[-1] if len(shown) > told else None,
            now.text + slack_h.blocks_text(now.blocks),
            set(slack_h.buttons(now.blocks)),
        )

    def dms(self, user: str) -> str:
        return "\n".join(m.text for m in self.harness.fake.messages(slack_h.dm(user)))

    async def command(self, user: str, text: str) -> str:
        """``/postgate <text>``: the private answer (a response, or an ephemeral refusal)."""
        fake = self.harness.fake
        answered, told = len(fake.responses), len(self.harness.ephemerals(user))
        await self.harness.command(user, text)
        await self.harness.settle()
        if len(fake.responses) > answered:
            [response] = fake.responses[answered:]
            assert response["response_type"] == "ephemeral"
            return slack_h.blocks_text(response["blocks"])
        [refused] = self.harness.ephemerals(user)[told:]
        return refused

    async def edit(self, user: str, handle: str, text: str) -> str | None:
        """編集 on the draft's card, the text changed in the modal and saved; what the person
        alone was told, if anything."""
        harness = self.harness
        told = len(harness.ephemerals(user))
        await harness.click(user, harness.card(handle), actions.EDIT)
        await harness.settle()
        view = harness.last_view(actions.SAVE_EDIT)
        value = {"type": "plain_text_input", "value": text}
        await harness.submit(user, view, {forms.TEXT: {slack_ids.INPUT: value}})
        await harness.settle()
        shown = harness.ephemerals(user)
        return shown[-1] if len(shown) > told else None

    def revision(self) -> int:
        return self.harness.draft().revision

    async def report(self, user: str, values: dict[str, str]) -> str:
        """``/postgate incident``, the modal filled in and sent: what the reporter is shown."""
        harness = self.harness
        await harness.command(user, "incident")
        await harness.settle()
        view = harness.last_view(actions.INCIDENT_REPORT)
        state: dict[str, Any] = {}
        for field, value in values.items():
            if field in (forms.INCIDENT_KIND, forms.INCIDENT_ACCOUNT):
                state[field] = {slack_ids.INPUT: {"selected_option": {"value": value}}}
            else:
                state[field] = {slack_ids.INPUT: {"value": value}}
        await harness.submit(user, view, state)
        await harness.settle()
        return harness.ephemerals(user)[-1]


class TeamsDriver:
    platform = "teams"
    author, chief = teams_h.TAKAHASHI, teams_h.SATO
    digital, stranger = teams_h.KOBAYASHI, "1f0c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a06"  # 環境推進課

    def __init__(self, harness: TeamsHarness) -> None:
        self.harness = harness

    async def draft(self, text: str) -> str:
        return await teams_flow.draft(self.harness, text)

    def submit_offered(self, handle: str) -> bool:
        return actions.SUBMIT in verbs(self.harness.card(handle).card)

    async def to_approval(self, handle: str) -> None:
        harness = self.harness
        await harness.click(self.author, harness.card(handle), actions.SUBMIT)
        await harness.settle()
        request = teams_flow.peer_request(harness, handle)
        checked = {teams_render.CHECKLIST: teams_flow.ALL_CHECKED}
        await harness.click(teams_h.ITO, request, actions.PEER_CHECK, checked)
        await harness.settle()

    async def approve(self, user: str) -> str | None:
        [card] = self.harness.fake.messages(teams_h.APPROVALS)
        data = {**card.card["refresh"]["action"]["data"], "checklist": teams_flow.ALL_CHECKED}
        reply = await self.harness.invoke(user, card, actions.APPROVE, data)
        await self.harness.settle()
        answer = reply.json()
        return str(answer["value"]) if answer["type"].endswith("activity.message") else None

    def thread(self, handle: str) -> str:
        return "\n".join(
            a.text + card_text(a.card) for a in self.harness.fake.thread(teams_h.DRAFTS, handle)
        )

    def chief_card(self) -> str:
        [card] = self.harness.approval_cards(self.chief)
        return card_text(card.card)

    def state(self) -> str:
        return self.harness.drafts()[0].state

    async def retry(self, user: str, handle: str) -> str | None:
        """Click 再送する under the failure notice; the answer to the clicker (Teams always
        answers an Action.Execute)."""
        [notice] = [
            a
            for a in self.harness.fake.thread(teams_h.DRAFTS, handle)
            if actions.RETRY in verbs(a.card)
        ]
        reply = await self.harness.click(user, notice, actions.RETRY)
        await self.harness.settle()
        return reply.text

    async def press(
        self, user: str, handle: str, action: str, typed: str | None = None
    ) -> tuple[str | None, str, set[str]]:
        """Type ``typed`` in the card's box under the thread's note, press the button: (the
        answer's message, if Teams was answered with one; what the note shows afterwards — the
        answered card replaces the one clicked, the message's text stays; its buttons)."""
        [note] = [
            a for a in self.harness.fake.thread(teams_h.DRAFTS, handle) if action in verbs(a.card)
        ]
        inputs = {actions.NOTE_FIELD: typed} if typed is not None else None
        reply = await self.harness.click(user, note, action, inputs)
        await self.harness.settle()
        answer = reply.json()
        if answer["type"].endswith("activity.message"):
            return str(answer["value"]), note.text + card_text(note.card), set(verbs(note.card))
        return None, note.text + card_text(answer["value"]), set(verbs(answer["value"]))

    def dms(self, user: str) -> str:
        return "\n".join(a.text for a in self.harness.fake.messages(f"a:{user}"))

    async def command(self, user: str, text: str) -> str:
        """The same words in a 1:1 chat with postgate: its answer there."""
        harness = self.harness
        activity = harness.base(user, f"a:{user}", type="message", text=text)
        activity["conversation"]["conversationType"] = "personal"
        assert (await harness.send(activity)).status == 200
        await harness.settle()
        said = harness.fake.messages(f"a:{user}")[-1]
        assert not said.thread  # in the 1:1 chat itself
        return str(said.text)

    async def edit(self, user: str, handle: str, text: str) -> str | None:
        """編集 on the draft's card: the form answers the click; saved with ``text``. The
        message Teams shows the person, if the answer is not the new card."""
        harness = self.harness
        card = harness.card(handle)
        form = (await harness.click(user, card, actions.EDIT)).card
        data = {**verbs(form)[actions.SAVE_EDIT], forms.TEXT: text, forms.MEDIA: ""}
        reply = await harness.invoke(user, card, actions.SAVE_EDIT, data)
        await harness.settle()
        answer = reply.json()
        return str(answer["value"]) if answer["type"].endswith("activity.message") else None

    def revision(self) -> int:
        return self.harness.drafts()[0].revision

    async def report(self, user: str, values: dict[str, str]) -> str:
        """``incident`` in a 1:1 chat: the form card, filled in and sent; the card answering."""
        said = await self.harness.say(user, "incident")
        data = {**verbs(said.card)[actions.INCIDENT_REPORT], **values}
        reply = await self.harness.invoke(user, said, actions.INCIDENT_REPORT, data)
        await self.harness.settle()
        return card_text(reply.card)


@pytest.fixture(params=["slack", "teams"])
async def driver(
    request: pytest.FixtureRequest,
    *,
    fake_slack: FakeSlack,
    fake_teams: FakeTeams,
    database: Database,
    config: AppConfig,
    clock: FixedClock,
) -> AsyncIterator[Driver]:
    if request.param == "slack":
        harness: Any = SlackHarness(fake_slack, database, config, clock, slack_env(fake_slack))
        made: Driver = SlackDriver(harness)
    else:
        harness = TeamsHarness(fake_teams, database, config, clock, teams_env(fake_teams))
        made = TeamsDriver(harness)
    await harness.start()
    try:
        yield made
    finally:
        await harness.close()


Scenario = Callable[[Driver], Awaitable[None]]


async def clean_draft_is_approved(driver: Driver) -> None:
    handle = await driver.draft(CLEAN)
    assert driver.submit_offered(handle)
    await driver.to_approval(handle)
    assert "承認を依頼しました: 佐藤 恵子" in driver.thread(handle)
    assert "承認待ち" in driver.chief_card()
    assert await driver.approve(driver.chief) is None
    assert driver.state() in ("approved", "publishing", "published")
    assert "承認されました（佐藤 恵子）" in driver.thread(handle)
    assert "この承認依頼は終了しました" in driver.chief_card()


async def author_is_refused_at_the_click(driver: Driver) -> None:
    handle = await driver.draft(CLEAN)
    await driver.to_approval(handle)
    told = await driver.approve(driver.author)
    assert told is not None
    assert "この投稿案の作成者は承認できません" in told
    assert driver.state() == "awaiting_approval"


async def draft_with_an_error_offers_no_submit(driver: Driver) -> None:
    handle = await driver.draft(WITH_ERROR)
    assert not driver.submit_offered(handle)
    assert "12月5日(金)" in driver.thread(handle)  # the finding quotes what is wrong
    assert driver.state() == "draft"


async def x_publication_told(driver: Driver, kind: NoticeKind, error: str) -> str:
    """An approved draft whose X publication ended as ``kind`` (failed, needs review), told in
    its thread by the outbox's notifier: the thread's handle."""
    handle = await driver.draft(CLEAN)
    await driver.to_approval(handle)
    assert await driver.approve(driver.chief) is None
    harness = driver.harness
    with harness.db.session() as session:
        [row] = [p for p in session.exec(select(Publication)) if p.account_id == "midori-x"]
        row.state, row.last_error = kind.value, error
        session.add(row)
        publication_id = row.id
    assert publication_id is not None
    recipients = ("takahashi.yui", "sato.keiko")
    notice = PublicationNotice(kind, publication_id, 1, "midori-x", recipients, error)
    await harness.hub.notify(notice)
    return handle


async def failed(driver: Driver) -> str:
    return await x_publication_told(driver, NoticeKind.FAILED, "x HTTP 403: duplicate content")


def x_state(driver: Driver) -> str:
    with driver.harness.db.session(read_only=True) as session:
        rows = session.exec(select(Publication)).all()
        return next(p.state for p in rows if p.account_id == "midori-x")


async def a_failed_publication_is_sent_again_from_its_notice(driver: Driver) -> None:
    handle = await failed(driver)
    assert "再送する" in driver.thread(handle)
    told = await driver.retry(driver.author, handle)
    assert told is None or "再送の列に戻しました" in told  # Teams answers the click too
    assert "高橋 結衣 さんが投稿 #" in driver.thread(handle)
    assert "（midori-x）を再送の列に戻しました" in driver.thread(handle)
    assert x_state(driver) == "sending"  # the next tick reconciles it first, then sends
    await driver.harness.outbox.run_once()
    assert x_state(driver) == "published"


async def only_the_author_or_an_approver_may_send_it_again(driver: Driver) -> None:
    handle = await failed(driver)
    refused = await driver.retry(driver.stranger, handle)
    assert refused is not None
    assert "作成者（高橋 結衣）か承認者（佐藤 恵子、鈴木 博）だけができます" in refused
    assert "再送の列に戻しました" not in driver.thread(handle)
    assert x_state(driver) == "failed"


async def published(driver: Driver) -> str:
    """An approved draft whose posts went out, reported in its thread: the thread's handle."""
    handle = await driver.draft(CLEAN)
    await driver.to_approval(handle)
    assert await driver.approve(driver.chief) is None
    harness = driver.harness
    for _ in range(50):  # the dry-run clients publish on the first ticks
        await harness.outbox.run_once()
        with harness.db.session(read_only=True) as session:
            if all(p.state == "published" for p in session.exec(select(Publication))):
                break
    assert await harness.hub.report_published() == 2
    return handle


def deletion_requests(driver: Driver) -> list[DeletionRequest]:
    with driver.harness.db.session(read_only=True) as session:
        return list(session.exec(select(DeletionRequest)).all())


async def deletion_is_requested_from_the_result(driver: Driver) -> None:
    handle = await published(driver)
    assert "投稿しました" in driver.thread(handle)
    assert "削除を依頼" in driver.thread(handle)

    told, _, buttons = await driver.press(driver.author, handle, actions.DELETE)  # no reason
    assert told is not None
    assert "削除を依頼する理由を入力してから" in told
    assert deletion_requests(driver) == []
    assert buttons == {actions.DELETE}  # still there

    told, shown, buttons = await driver.press(driver.author, handle, actions.DELETE, "日付の誤り")
    assert told is None
    assert buttons == set()
    [request] = deletion_requests(driver)
    assert (request.requested_by, request.reason, request.state) == (
        "takahashi.yui",
        "日付の誤り",
        "requested",
    )
    done = f"高橋 結衣 さんが削除を依頼しました（削除依頼 #{request.id}、理由: 日付の誤り）"
    assert done in shown  # the result's buttons became what was done; its links stay
    assert "投稿しました" in shown
    assert done in driver.thread(handle)
    assert f"削除依頼 #{request.id}（高橋 結衣 さん、理由: 日付の誤り）" in driver.dms(driver.chief)


async def deletion_from_the_result_follows_the_rules(driver: Driver) -> None:
    handle = await published(driver)
    told, _, _ = await driver.press(driver.stranger, handle, actions.DELETE, "間違い")
    assert told is not None
    assert "削除を依頼できるのは、アカウント（midori-x、midori-facebook）を所管する所属" in told
    assert deletion_requests(driver) == []
    assert "削除を依頼しました" not in driver.thread(handle)


async def needs_review(driver: Driver) -> str:
    error = "x: timeout after the request was sent"
    return await x_publication_told(driver, NoticeKind.NEEDS_REVIEW, error)


async def a_needs_review_publication_is_confirmed_from_its_notice(driver: Driver) -> None:
    handle = await needs_review(driver)
    assert "投稿済みと確認" in driver.thread(handle)
    assert "未投稿として再送" in driver.thread(handle)

    told, _, _ = await driver.press(driver.author, handle, actions.REVIEW_PUBLISHED)  # no URL
    assert told is not None
    assert "投稿のURLまたはIDを入力してから" in told
    assert x_state(driver) == "needs_review"

    url = "https://x.com/midori_city/status/1860000000000000001"
    told, shown, buttons = await driver.press(driver.chief, handle, actions.REVIEW_PUBLISHED, url)
    assert told is None
    assert buttons == set()
    assert x_state(driver) == "published"
    done = "佐藤 恵子 さんが投稿 #"
    assert done in shown
    assert "（midori-x）を投稿済みと確認しました" in shown
    assert "（midori-x）を投稿済みと確認しました" in driver.thread(handle)


async def a_needs_review_publication_is_sent_again_from_its_notice(driver: Driver) -> None:
    handle = await needs_review(driver)
    refused, _, _ = await driver.press(driver.stranger, handle, actions.REVIEW_NOT_PUBLISHED)
    assert refused is not None
    assert "作成者（高橋 結衣）か承認者（佐藤 恵子、鈴木 博）だけができます" in refused
    assert x_state(driver) == "needs_review"

    told, shown, buttons = await driver.press(driver.author, handle, actions.REVIEW_NOT_PUBLISHED)
    assert told is None
    assert buttons == set()
    assert x_state(driver) == "pending"
    assert "（midori-x）を未投稿と確認しました。送信時の確認を経て再送します。" in shown
    assert "を未投稿と確認しました" in driver.thread(handle)


async def check_now_polls_for_promotion_members(driver: Driver) -> None:
    for member in (driver.author, driver.digital):  # City Promotion, Digital Promotion
        said = await driver.command(member, "check-now")
        assert "今すぐ確認した結果" in said
        assert "監視しているアカウントがありません" in said  # nothing has credentials here


async def check_now_is_refused_to_other_sections(driver: Driver) -> None:
    said = await driver.command(driver.stranger, "check-now")
    assert "シティ・プロモーション課とデジタル推進課の職員だけが実行できます" in said
    assert "今すぐ確認した結果" not in said


async def the_author_edits_the_draft_in_a_form(driver: Driver) -> None:
    handle = await driver.draft(WITH_ERROR)
    assert not driver.submit_offered(handle)
    assert await driver.edit(driver.author, handle, CLEAN) is None
    assert driver.revision() == 2
    assert "第2版に更新し、自動チェックをやり直しました" in driver.thread(handle)
    assert driver.submit_offered(handle)  # checked again: the error is gone from the card


async def only_the_author_may_edit_the_draft(driver: Driver) -> None:
    handle = await driver.draft(CLEAN)
    told = await driver.edit(driver.chief, handle, "書き換えた本文")
    assert told is not None
    assert "作成者（高橋 結衣）だけができます" in told
    assert driver.revision() == 1
    with driver.harness.db.session(read_only=True) as session:
        [refused] = session.exec(select(AuditEvent).where(AuditEvent.action == "draft.refused"))
    assert refused.details["operation"] == "revise"
    assert refused.details["via"] == driver.platform


async def pause_and_resume_by_the_chief_only(driver: Driver) -> None:
    refused = await driver.command(driver.stranger, "pause midori-x 念のため")
    assert "緊急停止・再開ができるのは" in refused
    paused = await driver.command(driver.chief, "pause midori-x 乗っ取りの疑いのため")
    assert "midori-x" in paused
    assert "乗っ取りの疑いのため" in paused
    assert "再開しました" in await driver.command(driver.chief, "resume midori-x")
    with driver.harness.db.session(read_only=True) as session:
        events = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all()
    assert [e.action for e in events if e.action.startswith("pause.")] == [
        "pause.refused",
        "pause.started",
        "pause.released",
    ]


async def a_members_report_opens_an_incident(driver: Driver) -> None:
    values = {
        forms.INCIDENT_KIND: "impersonation",
        forms.INCIDENT_URL: "https://x.com/midori_clty",
        forms.INCIDENT_NOTES: "市民から連絡",
    }
    shown = await driver.report(driver.digital, values)
    assert "インシデント #1 として受け付け" in shown
    with driver.harness.db.session(read_only=True) as session:
        [incident] = session.exec(select(Incident)).all()
    assert (incident.kind, incident.created_by) == ("impersonation", "kobayashi.takeshi")


SCENARIOS: dict[str, Scenario] = {
    "a clean draft is checked, peer-checked and approved": clean_draft_is_approved,
    "the author is refused at the approve click": author_is_refused_at_the_click,
    "a draft with an error offers no submit": draft_with_an_error_offers_no_submit,
    "a failed publication is sent again from its notice": (
        a_failed_publication_is_sent_again_from_its_notice
    ),
    "only the author or an approver may send it again": (
        only_the_author_or_an_approver_may_send_it_again
    ),
    "a deletion is requested from the published result": deletion_is_requested_from_the_result,
    "a deletion from the result follows the rules": deletion_from_the_result_follows_the_rules,
    "a needs-review publication is confirmed from its notice": (
        a_needs_review_publication_is_confirmed_from_its_notice
    ),
    "a needs-review publication is sent again from its notice": (
        a_needs_review_publication_is_sent_again_from_its_notice
    ),
    "check-now polls for City and Digital Promotion": check_now_polls_for_promotion_members,
    "check-now is refused to other sections": check_now_is_refused_to_other_sections,
    "the author edits the draft in a form": the_author_edits_the_draft_in_a_form,
    "only the author may edit the draft": only_the_author_may_edit_the_draft,
    "pause and resume by the chief only": pause_and_resume_by_the_chief_only,
    "a member's report opens an incident": a_members_report_opens_an_incident,
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_scenario(driver: Driver, name: str) -> None:
    await SCENARIOS[name](driver)
