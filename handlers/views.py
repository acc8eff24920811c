"""Neutral view models: what a card or a reply shows, for Slack and Teams renderers alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.approval import ChecklistItem
from workflows.checks.model import Platform, Severity
from workflows.lifecycle import DraftState


@dataclass(frozen=True, slots=True)
class FindingView:
    rule: str
    severity: Severity
    message: str
    quote: str
    suggestion: str | None
    text_key: str  # "text", or the platform of the variant it was found in
    warning_id: str | None  # set for warnings: what the approver acknowledges


@dataclass(frozen=True, slots=True)
class TargetView:
    account_id: str
    platform: Platform
    handle: str
    display_name: str
    approving_section: str


@dataclass(frozen=True, slots=True)
class ReviewView:
    reviewer_id: str
    reviewer_name: str
    kind: str
    decision: str
    section: str | None
    comment: str | None
    at: datetime
    revision: int


@dataclass(frozen=True, slots=True)
class PublicationView:
    account_id: str
    state: str
    due_at: datetime
    permalink: str | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class DraftView:
    """Everything a draft's thread reply or approval card shows."""

    id: int
    revision: int
    state: DraftState
    state_label: str
    author_id: str
    author_name: str
    text: str
    variants: dict[Platform, str]
    media: tuple[str, ...]
    targets: tuple[TargetView, ...]
    publish_at: datetime | None
    emergency: bool
    findings: tuple[FindingView, ...]
    x_weighted_length: int | None
    reviews: tuple[ReviewView, ...]  # of the current revision
    peer_checks_required: int
    peer_checks_done: int
    pending_sections: tuple[str, ...]
    approvers: dict[str, tuple[str, ...]]  # approving section -> names of chief and deputies
    content_hash: str
    publications: tuple[PublicationView, ...]
    checklist: tuple[ChecklistItem, ...] = tuple(ChecklistItem)

    @property
    def errors(self) -> tuple[FindingView, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[FindingView, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def can_submit(self) -> bool:
        return not self.errors and self.state is DraftState.DRAFT


@dataclass(frozen=True, slots=True)
class DraftSummary:
    """One line of a list ("my drafts", "awaiting my approval")."""

    id: int
    state: DraftState
    state_label: str
    author_name: str
    excerpt: str
    targets: tuple[str, ...]
    publish_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Notice:
    """Someone to tell about a change: the adapters deliver it (DM, thread, card update)."""

    member_ids: tuple[str, ...]
    reason: str  # "peer_check_requested", "approval_requested", "decided", ...


@dataclass(frozen=True, slots=True)
class Result:
    """What a use case returns: the draft as it now is, and who should hear of it."""

    draft: DraftView
    notices: tuple[Notice, ...] = ()


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One publication as `posts list` and the chat views show it."""

    id: int
    draft_id: int
    revision: int
    account_id: str
    state: str
    state_label: str
    due_at: datetime
    attempts: int
    platform_post_id: str | None
    permalink: str | None
    last_error: str | None
    hold_reason: str | None
    emergency: bool


@dataclass(frozen=True, slots=True)
class OutboxResult:
    """What a publication use case returns: the row as it now is, and extra lines to show."""

    publication: OutboxRow
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PauseResult:
    """A pause started or lifted: its scope, and the publications it held or released."""

    account_id: str | None  # None: every account
    reason: str
    publication_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DeletionTargetView:
    """One published post of a deletion request, and what became of its deletion."""

    publication_id: int
    account_id: str
    platform_post_id: str | None
    permalink: str | None
    state: str  # the deletion's (pending, sending, deleted, failed), or "" before approval
    state_label: str
    last_error: str | None  # the platform's reason when it could not be deleted


@dataclass(frozen=True, slots=True)
class DeletionView:
    """A deletion request as people see it (a chat card, the CLI): the reason, the manual's
    advice, the posts, who approved and who still may."""

    id: int
    draft_id: int
    publication_id: int | None  # the publication it was asked about, if any
    state: str
    state_label: str
    requester_id: str
    requester_name: str
    reason: str
    excerpt: str  # the start of the post's text
    targets: tuple[DeletionTargetView, ...]
    approvals: dict[str, str]  # approving section -> the approver's name
    pending_sections: tuple[str, ...]
    approvers: dict[str, tuple[str, ...]]  # approving section -> names of chief and deputies
    decided_by: str | None
    decision_reason: str | None
    correction_draft_id: int | None
    advice: str  # 「削除だけでは解決になりません…」 (manual §8 (3))
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeletionResult:
    request: DeletionView
    notices: tuple[Notice, ...] = ()
