"""The draft use cases on real databases (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.config import AppConfig
from handlers.drafts import Actor, DraftUseCases, NewDraft
from storage import audit
from storage.engine import Database
from storage.tables import AuditEvent, Publication, Review
from tests.handlers.conftest import NOW, FixedClock, slack
from workflows.approval import ChecklistItem
from workflows.errors import (
    AlreadyApproved,
    AuthorCannotReview,
    BlockingFindings,
    NotAnApprover,
    Refusal,
    StaleRevision,
    UnknownAccount,
    UnknownMember,
)
from workflows.lifecycle import DraftState

ALL = tuple(ChecklistItem)
CLEAN = (
    "【みどり市】12月5日(土)10時から中央図書館でおはなし会を開きます。"
    "参加は無料です。詳しくは https://www.city.midori.lg.jp/library/ をご覧ください。"
)


def events(db: Database, subject: str | None = None) -> list[AuditEvent]:
    with db.session(read_only=True) as session:
        statement = select(AuditEvent).order_by(col(AuditEvent.seq))
        if subject:
            statement = statement.where(AuditEvent.subject == subject)
        return list(session.exec(statement).all())


def ready_for_approval(uc: DraftUseCases, config: AppConfig, text: str = CLEAN) -> int:
    """A draft by 高橋 for the official X account, peer-checked by 伊藤."""
    created = uc.create(slack("takahashi.yui", config), NewDraft(text, targets=("midori-x",)))
    draft_id = created.draft.id
    uc.submit(slack("takahashi.yui", config), draft_id)
    checked = uc.peer_check(slack("ito.makoto", config), draft_id, shown_revision=1, checklist=ALL)
    assert checked.draft.state is DraftState.AWAITING_APPROVAL
    return draft_id


def acks(uc: DraftUseCases, draft_id: int) -> tuple[str, ...]:
    return tuple(f.warning_id for f in uc.get(draft_id).warnings if f.warning_id)


def test_create_stores_findings_and_audits(
    usecases: DraftUseCases, config: AppConfig, db: Database
) -> None:
    text = "12月5日(金)に中央図書館でおはなし会を開きます。"  # 12/5/2026 is a Saturday
    result = usecases.create(slack("takahashi.yui", config), NewDraft(text, targets=("midori-x",)))
    view = result.draft
    assert view.state is DraftState.DRAFT
    assert view.author_name == "高橋 結衣"
    assert [t.handle for t in view.targets] == ["midori_city"]
    weekday = [f for f in view.findings if f.rule.startswith("date-weekday")]
    assert weekday
    assert weekday[0].quote.startswith("12月5日(金)")
    assert view.x_weighted_length == 47  # 21 full-width characters x 2 + 5 ASCII
    assert not view.can_submit
    [created] = events(db, f"draft:{view.id}")
    assert created.action == "draft.created"
    assert created.actor == "takahashi.yui"
    assert created.details["errors"] >= 1
    with pytest.raises(BlockingFindings):
        usecases.submit(slack("takahashi.yui", config), view.id)


def test_full_flow_creates_one_publication_per_target(
    usecases: DraftUseCases, config: AppConfig, db: Database
) -> None:
    draft_id = ready_for_approval(usecases, config)
    result = usecases.approve(
        slack("sato.keiko", config),
        draft_id,
        shown_revision=1,
        checklist=ALL,
        acknowledged=acks(usecases, draft_id),
    )
    assert result.draft.state is DraftState.APPROVED
    assert [n.reason for n in result.notices] == ["approved"]
    assert result.notices[0].member_ids == ("takahashi.yui",)
    with db.session(read_only=True) as session:
        [publication] = session.exec(select(Publication)).all()
    assert publication.account_id == "midori-x"
    assert publication.state == "pending"
    assert publication.content_hash == result.draft.content_hash
    assert publication.due_at == NOW
    actions = [e.action for e in events(db, f"draft:{draft_id}")]
    assert actions == ["draft.created", "draft.to_peers", "draft.to_approvers", "draft.approved"]
    with db.session(read_only=True) as session:
        assert audit.verify(session) is None


def test_submit_notifies_colleagues_then_approvers(
    usecases: DraftUseCases, config: AppConfig
) -> None:
    created = usecases.create(
        slack("takahashi.yui", config), NewDraft(CLEAN, targets=("midori-x",))
    )
    submitted = usecases.submit(slack("takahashi.yui", config), created.draft.id)
    assert submitted.draft.state is DraftState.IN_REVIEW
    [notice] = submitted.notices
    assert notice.reason == "peer_check_requested"
    # The approvers are not asked to peer-check (it would bar them from approving): a
    # colleague who is not one exists.
    assert set(notice.member_ids) == {"ito.makoto"}
    checked = usecases.peer_check(
        slack("ito.makoto", config), created.draft.id, shown_revision=1, checklist=ALL
    )
    assert checked.notices[0].reason == "approval_requested"
    assert checked.notices[0].member_ids == ("sato.keiko",)
    assert checked.draft.peer_checks_done == 1
    assert checked.draft.approvers == {"シティ・プロモーション課": ("佐藤 恵子", "鈴木 博")}


def test_two_approvers_at_once_one_decision(
    usecases: DraftUseCases, config: AppConfig, db: Database
) -> None:
    draft_id = ready_for_approval(usecases, config)
    ack = acks(usecases, draft_id)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def click(member_id: str) -> None:
        barrier.wait()
        try:
            outcomes[member_id] = usecases.approve(
                slack(member_id, config),
                draft_id,
                shown_revision=1,
                checklist=ALL,
                acknowledged=ack,
            )
        except Refusal as refusal:
            outcomes[member_id] = refusal

    threads = [threading.Thread(target=click, args=(m,)) for m in ("sato.keiko", "suzuki.hiroshi")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    refusals = [o for o in outcomes.values() if isinstance(o, Refusal)]
    assert len(outcomes) == 2
    assert len(refusals) == 1
    assert isinstance(refusals[0], AlreadyApproved)
    assert str(refusals[0]).startswith("既に承認済みです")
    with db.session(read_only=True) as session:
        approvals = session.exec(select(Review).where(Review.kind == "approval")).all()
        publications = session.exec(select(Publication)).all()
    assert len(approvals) == 1
    assert len(publications) == 1
    actions = [e.action for e in events(db, f"draft:{draft_id}")]
    assert actions.count("draft.approved") == 1
    assert actions.count("draft.refused") == 1


def test_same_click_twice(usecases: DraftUseCases, config: AppConfig, db: Database) -> None:
    draft_id = ready_for_approval(usecases, config)
    ack = acks(usecases, draft_id)
    chief = slack("sato.keiko", config)
    usecases.approve(chief, draft_id, shown_revision=1, checklist=ALL, acknowledged=ack)
    with pytest.raises(AlreadyApproved):
        usecases.approve(chief, draft_id, shown_revision=1, checklist=ALL, acknowledged=ack)
    refused = [e for e in events(db, f"draft:{draft_id}") if e.action == "draft.refused"]
    assert refused[0].details["refusal"] == "refusal.already_approved"
    assert refused[0].actor == "sato.keiko"


def test_old_revision_card(usecases: DraftUseCases, config: AppConfig) -> None:
    draft_id = ready_for_approval(usecases, config)
    revised = usecases.revise(
        slack("takahashi.yui", config), draft_id, text=CLEAN.replace("10時", "13時")
    )
    assert revised.draft.revision == 2
    assert revised.draft.state is DraftState.DRAFT
    assert revised.draft.reviews == ()
    with pytest.raises(StaleRevision) as caught:
        usecases.approve(
            slack("sato.keiko", config), draft_id, shown_revision=1, checklist=ALL, acknowledged=()
        )
    assert "第1版" in str(caught.value)
    assert "第2版" in str(caught.value)


def test_edit_after_approval_cancels_the_publication(
    usecases: DraftUseCases, config: AppConfig, db: Database
) -> None:
    draft_id = ready_for_approval(usecases, config)
    usecases.approve(
        slack("sato.keiko", config),
        draft_id,
        shown_revision=1,
        checklist=ALL,
        acknowledged=acks(usecases, draft_id),
    )
    usecases.revise(slack("takahashi.yui", config), draft_id, text=CLEAN + " 追記")
    with db.session(read_only=True) as session:
        [publication] = session.exec(select(Publication)).all()
    assert publication.state == "cancelled"
    assert publication.last_error == "revised"


def test_wrong_approver_author_and_strangers_are_refused_and_audited(
    usecases: DraftUseCases, config: AppConfig, db: Database
) -> None:
    draft_id = ready_for_approval(usecases, config)
    with pytest.raises(NotAnApprover):
        usecases.approve(
            slack("yamamoto.jun", config),
            draft_id,
            shown_revision=1,
            checklist=ALL,
            acknowledged=(),
        )
    with pytest.raises(AuthorCannotReview):
        usecases.approve(
            slack("takahashi.yui", config),
            draft_id,
            shown_revision=1,
            checklist=ALL,
            acknowledged=(),
        )
    with pytest.raises(UnknownMember) as unknown:
        usecases.approve(
            Actor("slack", "U0NOBODY1"), draft_id, shown_revision=1, checklist=ALL, acknowledged=()
        )
    assert "登録されていない" in str(unknown.value)
    assert usecases.get(draft_id).state is DraftState.AWAITING_APPROVAL
    refused = [e for e in events(db, f"draft:{draft_id}") if e.action == "draft.refused"]
    assert [e.details["refusal"] for e in refused] == [
        "refusal.not_an_approver",
        "refusal.author_cannot_approve",
        "refusal.unknown_member",
    ]
    assert refused[2].actor == "slack:U0NOBODY1"


def test_approver_removed_from_app_yaml_is_refused(
    db: Database, config: AppConfig, clock: FixedClock
) -> None:
    uc = DraftUseCases(
        db=db,
        directory=config.directory,
        check_settings=config.checks,
        calendar_for=config.calendar,
        clock=clock,
    )
    draft_id = ready_for_approval(uc, config)
    without_deputy = config.model_copy(
        update={"members": tuple(m for m in config.members if m.id != "suzuki.hiroshi")}
    )
    uc_after = DraftUseCases(
        db=db,
        directory=without_deputy.directory,
        check_settings=config.checks,
        calendar_for=config.calendar,
        clock=clock,
    )
    with pytest.raises(UnknownMember):
        uc_after.approve(
            slack("suzuki.hiroshi", config),
            draft_id,
            shown_revision=1,
            checklist=ALL,
            acknowledged=(),
        )
    assert uc_after.get(draft_id).state is DraftState.AWAITING_APPROVAL


def test_request_changes_then_revision_then_approval(
    usecases: DraftUseCases, config: AppConfig, db: Database
) -> None:
    draft_id = ready_for_approval(usecases, config)
    back = usecases.request_changes(
        slack("sato.keiko", config), draft_id, shown_revision=1, reason="開始時刻を確認してください"
    )
    assert back.draft.state is DraftState.NEEDS_CHANGES
    assert back.notices[0].member_ids == ("takahashi.yui",)
    decision = [r for r in back.draft.reviews if r.decision == "changes_requested"]
    assert [(r.reviewer_name, r.comment) for r in decision] == [
        ("佐藤 恵子", "開始時刻を確認してください")
    ]
    usecases.revise(
        slack("takahashi.yui", config), draft_id, text=CLEAN.replace("10時", "10時30分")
    )
    usecases.submit(slack("takahashi.yui", config), draft_id)
    usecases.peer_check(slack("ito.makoto", config), draft_id, shown_revision=2, checklist=ALL)
    approved = usecases.approve(
        slack("suzuki.hiroshi", config),
        draft_id,
        shown_revision=2,
        checklist=ALL,
        acknowledged=acks(usecases, draft_id),
        publish_at=NOW + timedelta(days=2),
    )
    assert approved.draft.state is DraftState.APPROVED
    assert approved.draft.publish_at == NOW + timedelta(days=2)
    assert approved.draft.publications[0].due_at == NOW + timedelta(days=2)
    detail = [e for e in events(db, f"draft:{draft_id}") if e.action == "draft.changes_requested"]
    assert detail[0].details["reason"] == "開始時刻を確認してください"


def test_reject_and_withdraw(usecases: DraftUseCases, config: AppConfig) -> None:
    draft_id = ready_for_approval(usecases, config)
    rejected = usecases.reject(
        slack("sato.keiko", config), draft_id, shown_revision=1, reason="時期尚早"
    )
    assert rejected.draft.state is DraftState.REJECTED
    other = usecases.create(slack("takahashi.yui", config), NewDraft(CLEAN, targets=("midori-x",)))
    withdrawn = usecases.withdraw(slack("takahashi.yui", config), other.draft.id)
    assert withdrawn.draft.state is DraftState.WITHDRAWN


def test_lists_mine_and_awaiting(usecases: DraftUseCases, config: AppConfig) -> None:
    draft_id = ready_for_approval(usecases, config)
    mine = usecases.my_drafts(slack("takahashi.yui", config))
    assert [d.id for d in mine] == [draft_id]
    assert mine[0].state_label == "承認待ち"
    assert [d.id for d in usecases.awaiting(slack("sato.keiko", config))] == [draft_id]
    assert [d.id for d in usecases.awaiting(slack("suzuki.hiroshi", config))] == [draft_id]
    assert usecases.awaiting(slack("yamamoto.jun", config)) == []
    assert usecases.awaiting(slack("takahashi.yui", config)) == []


def test_unknown_target_account_is_refused(usecases: DraftUseCases, config: AppConfig) -> None:
    with pytest.raises(UnknownAccount) as caught:
        usecases.create(slack("takahashi.yui", config), NewDraft(CLEAN, targets=("koho-x",)))
    assert "koho-x" in str(caught.value)
