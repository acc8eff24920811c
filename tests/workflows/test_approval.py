from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows import approval as ap
from workflows.approval import ChecklistItem, Content, Process
from workflows.checks.model import Finding, Platform, Severity
from workflows.errors import (
    AlreadyApproved,
    AlreadyChecked,
    AlreadyDecided,
    AuthorCannotReview,
    BlockingFindings,
    ChecklistIncomplete,
    InvalidTransition,
    NotAnApprover,
    NotAPeer,
    NotTheAuthor,
    PeerCannotApprove,
    ReasonRequired,
    Refusal,
    StaleRevision,
    UnknownAccount,
    WarningsNotAcknowledged,
)
from workflows.lifecycle import DraftState
from workflows.org import Account, Directory, Member, Section

AT = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
ALL = frozenset(ChecklistItem)

DIRECTORY = Directory(
    sections=(
        Section(name="シティ・プロモーション課", chief="chief_cp", deputies=("deputy_cp",)),
        Section(name="環境推進課", chief="chief_env"),
    ),
    members=(
        Member(id="chief_cp", name="佐藤", section="シティ・プロモーション課"),
        Member(id="deputy_cp", name="鈴木", section="シティ・プロモーション課"),
        Member(id="staff_cp", name="高橋", section="シティ・プロモーション課"),
        Member(id="chief_env", name="山本", section="環境推進課"),
        Member(id="author", name="加藤", section="環境推進課"),
        Member(id="peer1", name="中村", section="環境推進課"),
        Member(id="peer2", name="吉田", section="環境推進課"),
    ),
    accounts=(
        Account(
            id="official-x",
            platform=Platform.X,
            handle="midori_city",
            display_name="みどり市",
            owner_section="シティ・プロモーション課",
            approving_section="シティ・プロモーション課",
        ),
        Account(
            id="kankyo-x",
            platform=Platform.X,
            handle="midori_kankyo",
            display_name="環境",
            owner_section="環境推進課",
            approving_section="環境推進課",
        ),
        Account(
            id="kankyo-strict",
            platform=Platform.FACEBOOK,
            handle="kankyo",
            display_name="環境",
            owner_section="環境推進課",
            approving_section="環境推進課",
            peer_checks=2,
        ),
        Account(
            id="kankyo-solo",
            platform=Platform.LINE,
            handle="kankyo",
            display_name="環境",
            owner_section="環境推進課",
            approving_section="環境推進課",
            peer_checks=0,
        ),
    ),
)


def member(member_id: str) -> Member:
    found = DIRECTORY.member(member_id)
    assert found is not None
    return found


def new_process(*targets: str, errors: int = 0, warnings: tuple[str, ...] = ()) -> Process:
    content = Content(text="12月5日(土)にリサイクルフェアを開きます。", targets=targets)
    return Process(
        author_id="author",
        state=DraftState.DRAFT,
        revision=1,
        content=content,
        route=ap.route(targets, member("author"), DIRECTORY),
        errors=errors,
        warnings=warnings,
    )


def submitted(*targets: str, warnings: tuple[str, ...] = ()) -> Process:
    return ap.submit(new_process(*targets, warnings=warnings), member("author"), DIRECTORY).process


def peer_checked(*targets: str, warnings: tuple[str, ...] = ()) -> Process:
    process = submitted(*targets, warnings=warnings)
    return ap.peer_check(
        process, member("peer1"), DIRECTORY, shown_revision=1, checklist=ALL, at=AT
    ).process


def approve(
    process: Process, who: str, *, revision: int = 1, ack: tuple[str, ...] = ()
) -> ap.Outcome:
    return ap.approve(
        process,
        member(who),
        DIRECTORY,
        shown_revision=revision,
        checklist=ALL,
        acknowledged=ack,
        at=AT,
    )


def test_routing_official_account_goes_to_city_promotion() -> None:
    route = ap.route(["official-x"], member("author"), DIRECTORY)
    assert route.approving_sections == ("シティ・プロモーション課",)
    assert route.peer_checks == 1
    assert route.author_section == "環境推進課"
    both = ap.route(["official-x", "kankyo-strict"], member("author"), DIRECTORY)
    assert both.approving_sections == ("シティ・プロモーション課", "環境推進課")
    assert both.peer_checks == 2


def test_unknown_target_account() -> None:
    with pytest.raises(UnknownAccount) as caught:
        ap.route(["no-such"], member("author"), DIRECTORY)
    assert "no-such" in str(caught.value)


def test_full_happy_path_with_peer_check() -> None:
    process = submitted("kankyo-x")
    assert process.state is DraftState.IN_REVIEW
    process = ap.peer_check(
        process, member("peer2"), DIRECTORY, shown_revision=1, checklist=ALL, at=AT
    ).process
    assert process.state is DraftState.AWAITING_APPROVAL
    outcome = approve(process, "chief_env")
    assert outcome.process.state is DraftState.APPROVED
    [review] = outcome.reviews
    assert review.section == "環境推進課"
    assert review.content_hash == process.content_hash


def test_account_without_peer_checks_goes_straight_to_the_chief() -> None:
    assert submitted("kankyo-solo").state is DraftState.AWAITING_APPROVAL


def test_two_peer_checks_needed_by_different_colleagues() -> None:
    process = submitted("kankyo-strict")
    process = ap.peer_check(
        process, member("peer1"), DIRECTORY, shown_revision=1, checklist=ALL, at=AT
    ).process
    assert process.state is DraftState.IN_REVIEW
    with pytest.raises(AlreadyChecked):
        ap.peer_check(process, member("peer1"), DIRECTORY, shown_revision=1, checklist=ALL, at=AT)
    process = ap.peer_check(
        process, member("peer2"), DIRECTORY, shown_revision=1, checklist=ALL, at=AT
    ).process
    assert process.state is DraftState.AWAITING_APPROVAL


def test_peer_must_be_a_colleague_not_the_author() -> None:
    process = submitted("kankyo-x")
    with pytest.raises(AuthorCannotReview) as caught:
        ap.peer_check(process, member("author"), DIRECTORY, shown_revision=1, checklist=ALL, at=AT)
    assert str(caught.value).startswith("この投稿案の作成者は承認できません")
    with pytest.raises(NotAPeer):
        ap.peer_check(
            process, member("staff_cp"), DIRECTORY, shown_revision=1, checklist=ALL, at=AT
        )


def test_author_never_approves_even_as_chief() -> None:
    chief_draft = Process(
        author_id="chief_env",
        state=DraftState.DRAFT,
        revision=1,
        content=Content(text="お知らせ", targets=("kankyo-solo",)),
        route=ap.route(["kankyo-solo"], member("chief_env"), DIRECTORY),
    )
    process = ap.submit(chief_draft, member("chief_env"), DIRECTORY).process
    with pytest.raises(AuthorCannotReview):
        approve(process, "chief_env")


def test_only_the_approving_sections_chief_or_deputy() -> None:
    process = peer_checked("official-x")
    with pytest.raises(NotAnApprover) as caught:
        approve(process, "chief_env")
    assert str(caught.value).startswith("承認権限がありません")
    assert "佐藤、鈴木" in str(caught.value)
    with pytest.raises(NotAnApprover):
        approve(process, "staff_cp")
    assert approve(process, "deputy_cp").process.state is DraftState.APPROVED


def test_double_click_and_second_approver_get_already_approved() -> None:
    process = approve(peer_checked("official-x"), "chief_cp").process
    with pytest.raises(AlreadyApproved) as first:
        approve(process, "chief_cp")
    assert str(first.value).startswith("既に承認済みです（佐藤")
    with pytest.raises(AlreadyApproved):
        approve(process, "deputy_cp")


def test_stale_revision_is_refused() -> None:
    process = peer_checked("kankyo-x")
    revised = ap.revise(
        process,
        member("author"),
        DIRECTORY,
        content=Content(text="12月5日(土)に変更しました。", targets=("kankyo-x",)),
        errors=0,
        warnings=(),
    ).process
    assert revised.revision == 2
    assert revised.state is DraftState.DRAFT
    assert revised.current_reviews() == ()
    with pytest.raises(StaleRevision) as caught:
        approve(revised, "chief_env", revision=1)
    assert str(caught.value).startswith("この版は既に更新されています")


def test_every_approving_section_must_approve() -> None:
    process = peer_checked("official-x", "kankyo-x")
    process = approve(process, "chief_cp").process
    assert process.state is DraftState.AWAITING_APPROVAL
    assert process.pending_sections() == ("環境推進課",)
    with pytest.raises(AlreadyApproved):
        approve(process, "deputy_cp")
    assert approve(process, "chief_env").process.state is DraftState.APPROVED


def test_peer_checker_cannot_also_approve() -> None:
    directory_peer_is_deputy = Directory(
        tuple(
            s
            if s.name != "環境推進課"
            else Section(name=s.name, chief="chief_env", deputies=("peer1",))
            for s in DIRECTORY.sections.values()
        ),
        tuple(DIRECTORY.members.values()),
        tuple(DIRECTORY.accounts.values()),
    )
    process = peer_checked("kankyo-x")
    with pytest.raises(PeerCannotApprove):
        ap.approve(
            process,
            member("peer1"),
            directory_peer_is_deputy,
            shown_revision=1,
            checklist=ALL,
            acknowledged=(),
            at=AT,
        )


def test_checklist_and_warnings_must_be_confirmed() -> None:
    process = peer_checked("kankyo-x", warnings=("flame.politics@0-4", "hours.after-hours@0-0"))
    with pytest.raises(ChecklistIncomplete) as caught:
        ap.approve(
            process,
            member("chief_env"),
            DIRECTORY,
            shown_revision=1,
            checklist=ALL - {ChecklistItem.FACTS},
            acknowledged=(),
            at=AT,
        )
    assert "内容の事実確認" in str(caught.value)
    with pytest.raises(WarningsNotAcknowledged) as warned:
        approve(process, "chief_env", ack=("flame.politics@0-4",))
    assert "1件" in str(warned.value)
    outcome = approve(process, "chief_env", ack=("flame.politics@0-4", "hours.after-hours@0-0"))
    assert outcome.reviews[0].acknowledged == {"flame.politics@0-4", "hours.after-hours@0-0"}


def test_errors_block_submission() -> None:
    with pytest.raises(BlockingFindings) as caught:
        ap.submit(new_process("kankyo-x", errors=2), member("author"), DIRECTORY)
    assert "エラーが2件" in str(caught.value)


def test_only_the_author_submits_revises_and_withdraws() -> None:
    with pytest.raises(NotTheAuthor):
        ap.submit(new_process("kankyo-x"), member("peer1"), DIRECTORY)
    with pytest.raises(NotTheAuthor):
        ap.withdraw(new_process("kankyo-x"), member("chief_env"), DIRECTORY)


def test_request_changes_and_reject_need_a_reason() -> None:
    process = peer_checked("kankyo-x")
    with pytest.raises(ReasonRequired):
        ap.request_changes(
            process, member("chief_env"), DIRECTORY, shown_revision=1, reason="  ", at=AT
        )
    back = ap.request_changes(
        process, member("chief_env"), DIRECTORY, shown_revision=1, reason="日付を確認", at=AT
    )
    assert back.process.state is DraftState.NEEDS_CHANGES
    assert back.reviews[0].comment == "日付を確認"
    with pytest.raises(AlreadyDecided):
        approve(back.process, "chief_env")
    rejected = ap.reject(
        process, member("chief_env"), DIRECTORY, shown_revision=1, reason="不適切", at=AT
    )
    assert rejected.process.state is DraftState.REJECTED
    with pytest.raises(NotAnApprover):
        ap.reject(process, member("peer2"), DIRECTORY, shown_revision=1, reason="x", at=AT)


def test_a_peer_may_send_back_during_peer_review() -> None:
    process = submitted("kankyo-x")
    back = ap.request_changes(
        process, member("peer2"), DIRECTORY, shown_revision=1, reason="誤字", at=AT
    )
    assert back.process.state is DraftState.NEEDS_CHANGES
    with pytest.raises(InvalidTransition):
        ap.submit(back.process, member("author"), DIRECTORY)  # revise first
    content = Content(text="誤字を直しました。", targets=("kankyo-x",))
    revised = ap.revise(
        back.process, member("author"), DIRECTORY, content=content, errors=0, warnings=()
    )
    resubmitted = ap.submit(revised.process, member("author"), DIRECTORY).process
    assert resubmitted.state is DraftState.IN_REVIEW
    assert resubmitted.revision == 2


def test_approval_before_peer_checks_is_refused_with_the_state() -> None:
    with pytest.raises(InvalidTransition) as caught:
        approve(submitted("kankyo-x"), "chief_env")
    assert "ダブルチェック待ち" in str(caught.value)


def test_content_hash_covers_text_variants_media_and_targets() -> None:
    base = Content(text="a", targets=("x1", "x2"))
    assert base.hash() == Content(text="a", targets=("x2", "x1")).hash()
    assert base.hash() != Content(text="a ", targets=("x1", "x2")).hash()
    assert base.hash() != Content(text="a", targets=("x1",)).hash()
    assert base.hash() != Content(text="a", targets=("x1", "x2"), media=("https://m/1.jpg",)).hash()
    assert base.hash() != Content(text="a", targets=("x1", "x2"), variants={Platform.X: "b"}).hash()


def test_warning_ids_from_findings() -> None:
    findings = [
        Finding("flame.politics", Severity.WARNING, "m", 3, 7),
        Finding("length", Severity.ERROR, "m", 0, 0),
        Finding("url.external", Severity.INFO, "m", 1, 2),
    ]
    assert ap.summarise(findings) == (1, ("flame.politics@3-7",))


def test_escalation_steps_each_once() -> None:
    policy = ap.EscalationPolicy(remind_after=timedelta(hours=2), deputies_after=timedelta(hours=4))
    start = AT
    assert ap.escalation(start, start + timedelta(hours=1), (), policy) is ap.EscalationStep.NONE
    assert ap.escalation(start, start + timedelta(hours=2), (), policy) is ap.EscalationStep.REMIND
    reminded = (ap.EscalationStep.REMIND,)
    assert (
        ap.escalation(start, start + timedelta(hours=3), reminded, policy) is ap.EscalationStep.NONE
    )
    assert ap.escalation(start, start + timedelta(hours=5), reminded, policy) is (
        ap.EscalationStep.OFFER_DEPUTIES
    )
    both = (*reminded, ap.EscalationStep.OFFER_DEPUTIES)
    assert ap.escalation(start, start + timedelta(days=2), both, policy) is ap.EscalationStep.NONE


# --- Property tests: no sequence of actions publishes without an eligible approval -------------

ACTORS = sorted(DIRECTORY.members)
TARGET_SETS = [("kankyo-x",), ("official-x",), ("official-x", "kankyo-strict"), ("kankyo-solo",)]

actions = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "submit",
                "peer",
                "approve",
                "changes",
                "reject",
                "revise",
                "withdraw",
                "publish",
                "schedule",
                "finish",
            ]
        ),
        st.sampled_from(ACTORS),
        st.integers(-1, 1),  # shown revision offset: stale and future cards too
        st.booleans(),  # full checklist and acknowledgements, or not
    ),
    max_size=30,
)


def apply(process: Process, action: str, actor_id: str, offset: int, thorough: bool) -> Process:
    actor = member(actor_id)
    shown = process.revision + offset
    checklist = ALL if thorough else ALL - {ChecklistItem.FLAME}
    ack = process.warnings if thorough else ()
    if action == "submit":
        return ap.submit(process, actor, DIRECTORY).process
    if action == "peer":
        return ap.peer_check(
            process, actor, DIRECTORY, shown_revision=shown, checklist=checklist, at=AT
        ).process
    if action == "approve":
        return ap.approve(
            process,
            actor,
            DIRECTORY,
            shown_revision=shown,
            checklist=checklist,
            acknowledged=ack,
            at=AT,
        ).process
    if action == "changes":
        return ap.request_changes(
            process, actor, DIRECTORY, shown_revision=shown, reason="r", at=AT
        ).process
    if action == "reject":
        return ap.reject(process, actor, DIRECTORY, shown_revision=shown, reason="r", at=AT).process
    if action == "revise":
        content = Content(text=f"rev {process.revision + 1}", targets=process.content.targets)
        errors, warnings = ap.summarise([Finding("flame.spam", Severity.WARNING, "m", 0, 1)])
        return ap.revise(
            process, actor, DIRECTORY, content=content, errors=errors, warnings=warnings
        ).process
    if action == "withdraw":
        return ap.withdraw(process, actor, DIRECTORY).process
    if action == "publish":
        return ap.start_publishing(process).process
    if action == "schedule":
        return ap.schedule(process).process
    return ap.finish_publishing(process, succeeded=thorough).process


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(TARGET_SETS), actions)
def test_no_sequence_publishes_without_an_eligible_approval_of_the_current_revision(
    targets: tuple[str, ...], steps: list[tuple[str, str, int, bool]]
) -> None:
    process = new_process(*targets)
    for action, actor, offset, thorough in steps:
        before = process
        try:
            process = apply(process, action, actor, offset, thorough)
        except Refusal:
            assert process is before
            continue
        if action == "revise":
            assert process.current_reviews() == ()
        assert all(r.reviewer_id != process.author_id for r in process.reviews)
        if process.state in {
            DraftState.APPROVED,
            DraftState.SCHEDULED,
            DraftState.PUBLISHING,
            DraftState.PUBLISHED,
        }:
            approvals = process.approvals()
            assert set(approvals) == set(process.route.approving_sections)
            for section, review in approvals.items():
                assert review.reviewer_id in DIRECTORY.approvers(section)
                assert review.reviewer_id != process.author_id
                assert review.revision == process.revision
                assert review.content_hash == process.content_hash
                assert review.reviewer_id not in process.peer_checkers()
                assert set(process.warnings) <= review.acknowledged
            assert len(set(process.peer_checkers())) >= process.route.peer_checks
