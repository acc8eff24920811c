"""The deletion request rules (workflows/deletion.py): pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import load_config
from workflows.deletion import (
    TERMINAL,
    TRANSITIONS,
    DeletionAlreadyApproved,
    DeletionAlreadyDecided,
    DeletionAlreadyRequested,
    DeletionCase,
    NotADeletionApprover,
    NothingPublished,
    NotInOwningSection,
    RequesterCannotDecide,
    RequestEvent,
    RequestState,
    Target,
    TargetState,
    advice,
    approve,
    check_request,
    correction_text,
    mermaid,
    reject,
    settle,
    transition,
)
from workflows.errors import InvalidTransition, ReasonRequired
from workflows.org import Directory, Member

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / "workflows" / "deletion.mmd"
DIRECTORY = load_config(ROOT / "app.yaml").directory
X = Target(1, "midori-x", "1860000000000000001")
LINE = Target(2, "midori-line", "req-1")
KANKYO = Target(3, "kankyo-x", "1860000000000000003")


def member(member_id: str, directory: Directory = DIRECTORY) -> Member:
    found = directory.member(member_id)
    assert found is not None
    return found


def requested(*targets: Target, by: str = "takahashi.yui") -> DeletionCase:
    return check_request(
        targets or (X,),
        member(by),
        DIRECTORY,
        draft_id=7,
        reason="日付に誤りがあったため",
        open_request=None,
    )


def test_the_diagram_beside_the_table_is_current() -> None:
    assert DIAGRAM.read_text(encoding="utf-8") == mermaid()


def test_terminal_states_have_no_way_out() -> None:
    assert all(state not in TERMINAL for state, _ in TRANSITIONS)


@given(st.sampled_from(list(RequestState)), st.sampled_from(list(RequestEvent)))
def test_transition_is_the_table(state: RequestState, event: RequestEvent) -> None:
    if (state, event) in TRANSITIONS:
        assert transition(state, event) is TRANSITIONS[(state, event)]
    else:
        with pytest.raises(InvalidTransition) as caught:
            transition(state, event)
        assert state.label() in str(caught.value)


def test_a_member_of_the_owning_section_requests_with_a_reason() -> None:
    case = requested(X, LINE)
    assert (case.state, case.requester_id, case.targets) == (
        RequestState.REQUESTED,
        "takahashi.yui",
        (X, LINE),
    )
    assert case.pending_sections(DIRECTORY) == ("シティ・プロモーション課",)
    with pytest.raises(ReasonRequired):
        check_request(
            (X,), member("takahashi.yui"), DIRECTORY, draft_id=7, reason=" ", open_request=None
        )
    with pytest.raises(NotInOwningSection) as refused:
        requested(X, by="yamamoto.jun")
    assert "シティ・プロモーション課" in str(refused.value)
    with pytest.raises(NothingPublished):
        check_request(
            (), member("takahashi.yui"), DIRECTORY, draft_id=7, reason="誤り", open_request=None
        )
    with pytest.raises(DeletionAlreadyRequested) as twice:
        check_request(
            (X,),
            member("takahashi.yui"),
            DIRECTORY,
            draft_id=7,
            reason="誤り",
            open_request=(3, RequestState.APPROVED),
        )
    assert "#3" in str(twice.value)


def test_an_approver_approves_never_the_requester() -> None:
    case = requested(X, LINE, by="sato.keiko")  # a chief may ask too, but not approve it
    with pytest.raises(RequesterCannotDecide):
        approve(case, member("sato.keiko"), DIRECTORY)
    with pytest.raises(NotADeletionApprover) as refused:
        approve(case, member("ito.makoto"), DIRECTORY)
    assert "鈴木 博" in str(refused.value)  # the deputy is named
    after, event = approve(case, member("suzuki.hiroshi"), DIRECTORY)
    assert (after.state, event) == (RequestState.APPROVED, RequestEvent.APPROVED)
    assert after.approvals == {"シティ・プロモーション課": "suzuki.hiroshi"}
    with pytest.raises(DeletionAlreadyDecided):
        approve(after, member("sato.keiko"), DIRECTORY)


def test_every_approving_section_approves_a_post_of_several_sections() -> None:
    case = requested(X, KANKYO)
    after, event = approve(case, member("sato.keiko"), DIRECTORY)
    assert (after.state, event) == (RequestState.REQUESTED, RequestEvent.APPROVAL_RECORDED)
    assert after.pending_sections(DIRECTORY) == ("環境推進課",)
    with pytest.raises(DeletionAlreadyApproved):
        approve(after, member("suzuki.hiroshi"), DIRECTORY)
    done, event = approve(after, member("nakamura.ai"), DIRECTORY)
    assert (done.state, event) == (RequestState.APPROVED, RequestEvent.APPROVED)


def test_an_approver_rejects_with_a_reason() -> None:
    case = requested()
    with pytest.raises(ReasonRequired):
        reject(case, member("sato.keiko"), DIRECTORY, reason="")
    with pytest.raises(RequesterCannotDecide):
        reject(case, member("takahashi.yui"), DIRECTORY, reason="訂正で対応")
    after, event = reject(case, member("sato.keiko"), DIRECTORY, reason="訂正の投稿で対応")
    assert (after.state, event) == (RequestState.REJECTED, RequestEvent.REJECTED)


@pytest.mark.parametrize(
    ("targets", "event"),
    [
        ((TargetState.DELETED, TargetState.DELETED), RequestEvent.EXECUTED),
        ((TargetState.DELETED, TargetState.FAILED), RequestEvent.FAILED),
        ((TargetState.DELETED, TargetState.SENDING), None),
        ((TargetState.PENDING,), None),
        ((), RequestEvent.EXECUTED),
    ],
)
def test_an_approved_request_settles_when_every_post_did(
    targets: tuple[TargetState, ...], event: RequestEvent | None
) -> None:
    assert settle(RequestState.APPROVED, targets) is event
    assert settle(RequestState.REQUESTED, (TargetState.DELETED,)) is None


def test_the_manuals_advice_and_the_correction_template() -> None:
    assert advice() == (
        "削除だけでは解決になりません。誤りの説明と訂正を見える形で行ってください（マニュアル8(3)）。"
    )
    text = correction_text(datetime(2026, 11, 23, 16, 0, tzinfo=UTC))  # 11/24 01:00 in Tokyo
    assert text.startswith("【訂正】11月24日に投稿したお知らせに誤りがありました。")
    assert "○○" in text
