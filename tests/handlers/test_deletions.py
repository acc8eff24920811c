"""Deleting published posts: the request, its approval, the outbox deleting through the dry-run
client, the correction draft — on SQLite and PostgreSQL, asserting on rows and audit events."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import col, select

from bot.config import AppConfig
from handlers.deletions import DeletionUseCases, NoCorrectionForYou
from handlers.drafts import DraftUseCases
from handlers.publishing import OutboxSettings
from storage import audit
from storage.engine import Database
from storage.tables import Deletion, DeletionRequest, Draft
from tests.handlers.conftest import FixedClock, slack
from tests.handlers.publishing_support import (
    FAST_RETRY,
    RecordingNotifier,
    actions,
    approve,
    dry_posts,
    make_outbox,
    publications,
)
from workflows.deletion import (
    DeletionAlreadyDecided,
    DeletionAlreadyRequested,
    NotADeletionApprover,
    NothingPublished,
    NotInOwningSection,
    RequesterCannotDecide,
)
from workflows.errors import ReasonRequired
from workflows.publishing import UnknownPublication

ADVICE = "削除だけでは解決になりません。誤りの説明と訂正を見える形で行ってください"


@pytest.fixture
def deletions(
    usecases: DraftUseCases, config: AppConfig, db: Database, clock: FixedClock
) -> DeletionUseCases:
    return DeletionUseCases(db=db, directory=config.directory, drafts=usecases, clock=clock)


async def published_draft(
    usecases: DraftUseCases,
    config: AppConfig,
    db: Database,
    clock: FixedClock,
    targets: tuple[str, ...] = ("midori-x", "midori-facebook"),
) -> int:
    draft_id = approve(usecases, config, targets=targets)
    await make_outbox(db, config, clock, RecordingNotifier()).run_once()
    assert {p.state for p in publications(db, draft_id)} == {"published"}
    return draft_id


def request_rows(db: Database) -> list[DeletionRequest]:
    with db.session(read_only=True) as session:
        return list(session.exec(select(DeletionRequest).order_by(col(DeletionRequest.id))).all())


def deletion_rows(db: Database) -> list[Deletion]:
    with db.session(read_only=True) as session:
        return list(session.exec(select(Deletion).order_by(col(Deletion.id))).all())


async def test_requested_approved_and_deleted_through_the_client(
    usecases: DraftUseCases,
    deletions: DeletionUseCases,
    config: AppConfig,
    db: Database,
    clock: FixedClock,
) -> None:
    draft_id = await published_draft(usecases, config, db, clock)
    x, facebook = publications(db, draft_id)
    assert x.id is not None
    assert len(dry_posts(db)) == 2

    asked = deletions.request(
        slack("ito.makoto", config), x.id, reason="開催日を誤って記載したため"
    )
    view = asked.request
    assert (view.state, view.state_label, view.draft_id, view.publication_id) == (
        "requested",
        "承認待ち",
        draft_id,
        x.id,
    )
    assert ADVICE in view.advice
    assert view.reason == "開催日を誤って記載したため"
    assert [t.account_id for t in view.targets] == ["midori-x", "midori-facebook"]
    assert view.pending_sections == ("シティ・プロモーション課",)
    assert view.approvers["シティ・プロモーション課"] == ("佐藤 恵子", "鈴木 博")
    [notice] = asked.notices
    assert (notice.reason, notice.member_ids) == (
        "deletion_approval_requested",
        ("sato.keiko", "suzuki.hiroshi"),
    )
    notifier = RecordingNotifier()
    box = make_outbox(db, config, clock, notifier)
    assert (await box.run_once()).claimed == 0  # nothing happens before the approval

    approved = deletions.approve(slack("sato.keiko", config), view.id)
    assert approved.request.state == "approved"
    assert [(t.account_id, t.state) for t in approved.request.targets] == [
        ("midori-x", "pending"),
        ("midori-facebook", "pending"),
    ]
    report = await box.run_once()
    assert (report.claimed, report.deleting) == (2, 2)

    assert dry_posts(db) == []  # gone from the (dry-run) platform
    assert [p.state for p in publications(db, draft_id)] == ["deleted", "deleted"]
    assert [(d.state, d.attempts, d.post_id) for d in deletion_rows(db)] == [
        ("deleted", 1, x.platform_post_id),
        ("deleted", 1, facebook.platform_post_id),
    ]
    [row] = request_rows(db)
    assert (row.state, row.requested_by, row.approvals) == (
        "executed",
        "ito.makoto",
        {"シティ・プロモーション課": "sato.keiko"},
    )
    assert actions(db, f"deletion:{view.id}") == [
        "deletion.requested",
        "deletion.approved",
        "deletion.executed",
    ]
    assert actions(db, f"publication:{x.id}")[-2:] == ["deletion.sending", "deletion.executed"]
    assert notifier.kinds() == ["deleted"]
    assert "削除依頼 #1 の投稿をすべて削除しました" in notifier.notices[0].text()
    assert set(notifier.notices[0].member_ids) == {"ito.makoto", "sato.keiko", "takahashi.yui"}
    assert (await box.run_once()).claimed == 0  # exactly once
    assert deletions.get(view.id).state_label == "削除済み"
    with db.session(read_only=True) as session:
        assert audit.verify(session) is None


async def test_who_may_request_and_decide_and_every_refusal_is_audited(
    usecases: DraftUseCases,
    deletions: DeletionUseCases,
    config: AppConfig,
    db: Database,
    clock: FixedClock,
) -> None:
    draft_id = await published_draft(usecases, config, db, clock, targets=("midori-x",))
    [x] = publications(db, draft_id)
    assert x.id is not None
    with pytest.raises(NotInOwningSection):
        deletions.request(slack("yamamoto.jun", config), x.id, reason="誤り")
    with pytest.raises(ReasonRequired):
        deletions.request(slack("ito.makoto", config), x.id, reason="  ")
    with pytest.raises(UnknownPublication):
        deletions.request(slack("ito.makoto", config), 999, reason="誤り")
    view = deletions.request(slack("ito.makoto", config), x.id, reason="誤り").request
    with pytest.raises(DeletionAlreadyRequested):
        deletions.request_for_draft(slack("takahashi.yui", config), draft_id, reason="重複")
    with pytest.raises(RequesterCannotDecide):
        deletions.approve(slack("ito.makoto", config), view.id)
    with pytest.raises(NotADeletionApprover):
        deletions.approve(slack("takahashi.yui", config), view.id)
    with pytest.raises(NotADeletionApprover):
        deletions.approve(slack("yamamoto.jun", config), view.id)
    rejected = deletions.reject(
        slack("suzuki.hiroshi", config), view.id, reason="削除せず訂正の投稿で対応してください"
    )
    assert (rejected.request.state, rejected.request.decision_reason) == (
        "rejected",
        "削除せず訂正の投稿で対応してください",
    )
    assert rejected.notices[0].member_ids == ("ito.makoto",)
    with pytest.raises(DeletionAlreadyDecided):
        deletions.approve(slack("sato.keiko", config), view.id)
    assert deletion_rows(db) == []
    assert (await make_outbox(db, config, clock, RecordingNotifier()).run_once()).claimed == 0
    assert [p.state for p in publications(db, draft_id)] == ["published"]
    assert len(dry_posts(db)) == 1
    assert actions(db, f"publication:{x.id}")[-3:] == [
        "publication.published",
        "deletion.refused",  # not of the owning section
        "deletion.refused",  # no reason
    ]
    assert actions(db, "publication:999") == ["deletion.refused"]
    assert actions(db, f"draft:{draft_id}")[-1] == "deletion.refused"
    assert actions(db, f"deletion:{view.id}") == [
        "deletion.requested",
        "deletion.refused",  # the requester
        "deletion.refused",  # not an approver
        "deletion.refused",  # another section's chief
        "deletion.rejected",
        "deletion.refused",  # already decided
    ]
    again = deletions.request(slack("takahashi.yui", config), x.id, reason="改めて依頼")
    assert again.request.id == view.id + 1  # a rejected request leaves the way open


async def test_nothing_published_nothing_to_delete(
    usecases: DraftUseCases, deletions: DeletionUseCases, config: AppConfig, db: Database
) -> None:
    draft_id = approve(usecases, config)  # approved, not yet published
    with pytest.raises(NothingPublished):
        deletions.request_for_draft(slack("ito.makoto", config), draft_id, reason="誤り")
    assert request_rows(db) == []


async def test_a_correction_draft_is_linked_to_the_original(
    usecases: DraftUseCases,
    deletions: DeletionUseCases,
    config: AppConfig,
    db: Database,
    clock: FixedClock,
) -> None:
    draft_id = await published_draft(usecases, config, db, clock)
    [x, _] = publications(db, draft_id)
    assert x.id is not None
    view = deletions.request(slack("ito.makoto", config), x.id, reason="日付の誤り").request
    with pytest.raises(NoCorrectionForYou):
        deletions.open_correction(slack("yamamoto.jun", config), view.id)
    opened = deletions.open_correction(slack("ito.makoto", config), view.id).draft
    assert opened.text.startswith("【訂正】11月24日に投稿したお知らせに誤りがありました。")
    assert [t.account_id for t in opened.targets] == ["midori-x", "midori-facebook"]
    assert [f.rule for f in opened.errors] == ["typo.placeholder", "typo.placeholder"]
    with db.session(read_only=True) as session:
        draft = session.get(Draft, opened.id)
        assert draft is not None
        assert (draft.correction_of, draft.author_id, draft.source) == (
            draft_id,
            "ito.makoto",
            "correction",
        )
    assert deletions.get(view.id).correction_draft_id == opened.id
    again = deletions.open_correction(slack("takahashi.yui", config), view.id).draft
    assert again.id == opened.id  # opened once
    assert actions(db, f"deletion:{view.id}") == [
        "deletion.requested",
        "deletion.refused",
        "deletion.correction_opened",
    ]
    assert actions(db, f"draft:{opened.id}") == ["draft.created"]


async def test_two_workers_delete_each_post_once(
    usecases: DraftUseCases,
    deletions: DeletionUseCases,
    config: AppConfig,
    db: Database,
    clock: FixedClock,
) -> None:
    drafts = [
        await published_draft(usecases, config, db, clock, targets=(account,))
        for account in ("midori-x", "midori-facebook", "kankyo-x")
    ]
    for draft_id in drafts:
        requester = "kato.shota" if draft_id == drafts[2] else "ito.makoto"
        approver = "yamamoto.jun" if draft_id == drafts[2] else "sato.keiko"
        view = deletions.request_for_draft(slack(requester, config), draft_id, reason="誤り")
        deletions.approve(slack(approver, config), view.request.id)
    settings = [OutboxSettings(retry=FAST_RETRY, worker_id=f"worker-{n}", batch=1) for n in (1, 2)]
    boxes = [make_outbox(db, config, clock, RecordingNotifier(), settings=s) for s in settings]
    reports = await asyncio.gather(*(box.run_once() for box in boxes))
    reports += await asyncio.gather(*(box.run_once() for box in boxes))
    assert sum(r.deleting for r in reports) == 3
    rows = deletion_rows(db)
    assert [(d.state, d.attempts) for d in rows] == [("deleted", 1)] * 3
    for row in rows:
        assert actions(db, f"publication:{row.publication_id}")[-2:] == [
            "deletion.sending",
            "deletion.executed",
        ]
    assert dry_posts(db) == []
    assert {r.state for r in request_rows(db)} == {"executed"}
