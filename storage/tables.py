"""The tables: what postgate remembers, on SQLite and PostgreSQL alike.

Datetimes are stored in UTC and always come back timezone-aware (``UTCDateTime``). Rows that
several people or replicas may change at once carry a ``version`` counter: update them with
``storage.versioned.update_versioned`` (``UPDATE ... WHERE id = ? AND version = ?``).

Sections, members and accounts mirror app.yaml (``storage.sync``); a removed one is marked
inactive, never deleted, because drafts, reviews and the audit log still name it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    MetaData,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

# Deterministic constraint names on both databases, so later migrations can refer to them
# (SQLite's batch mode needs names to drop or alter a constraint).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored in UTC; refuses naive datetimes.

    PostgreSQL keeps ``timestamp with time zone``; SQLite keeps naive UTC text, which sorts and
    compares correctly because every value is in the same zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: postgate stores aware datetimes only")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class PostgateTable(
    SQLModel, registry=registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))
):
    """Base of every postgate table: its own metadata, with the naming convention."""


metadata: MetaData = PostgateTable.metadata


class ReviewKind(StrEnum):
    PEER = "peer"
    APPROVAL = "approval"


class ReviewDecision(StrEnum):
    CHECKED = "checked"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"


def _one_of(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


# ---------------------------------------------------------------- the organisation (app.yaml)


class Section(PostgateTable, table=True):
    """所属: a division, its chief and the deputies who may approve in the chief's place."""

    __tablename__ = "section"

    name: str = Field(primary_key=True)
    chief: str
    deputies: list[str] = Field(default_factory=list, sa_type=JSON)
    city_promotion: bool = False
    digital_promotion: bool = False
    active: bool = True


class Member(PostgateTable, table=True):
    __tablename__ = "member"

    id: str = Field(primary_key=True)
    name: str
    section: str
    slack_user_id: str | None = Field(default=None, unique=True)
    teams_aad_id: str | None = Field(default=None, unique=True)
    active: bool = True


class Account(PostgateTable, table=True):
    """A managed social-media account; ``settings`` holds the rest of its app.yaml entry."""

    __tablename__ = "account"

    id: str = Field(primary_key=True)
    platform: str
    handle: str
    display_name: str
    owner_section: str
    approving_section: str
    official: bool = False
    peer_checks: int = 1
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    active: bool = True


# ---------------------------------------------------------------- drafts and their reviews


class Draft(PostgateTable, table=True):
    """A post on its way: the current revision, its state, and who wrote it."""

    __tablename__ = "draft"

    id: int | None = Field(default=None, primary_key=True)
    author_id: str = Field(index=True)
    state: str = Field(index=True)
    revision: int = 1
    emergency: bool = False
    publish_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    source: str
    version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    correction_of: int | None = Field(default=None, foreign_key="draft.id")


class DraftRevision(PostgateTable, table=True):
    """The exact content of one revision; approvals bind to its ``content_hash``."""

    __tablename__ = "draft_revision"
    __table_args__ = (UniqueConstraint("draft_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id")
    revision: int
    text: str
    variants: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    media: list[Any] = Field(default_factory=list, sa_type=JSON)
    targets: list[str] = Field(default_factory=list, sa_type=JSON)
    content_hash: str = Field(max_length=64)
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    created_by: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Review(PostgateTable, table=True):
    """One decision on one revision: a peer check, or an approval for one approving section.

    The partial unique indexes make the database itself refuse a second approval decision for
    the same draft, revision and section (two chiefs clicking at once: one row wins), and a
    second peer check by the same person.
    """

    __tablename__ = "review"
    __table_args__ = (
        Index("ix_review_draft_id_revision", "draft_id", "revision"),
        Index(
            "uq_review_approval_per_section",
            "draft_id",
            "revision",
            "section",
            unique=True,
            sqlite_where=text("kind = 'approval'"),
            postgresql_where=text("kind = 'approval'"),
        ),
        Index(
            "uq_review_peer_per_reviewer",
            "draft_id",
            "revision",
            "reviewer_id",
            unique=True,
            sqlite_where=text("kind = 'peer'"),
            postgresql_where=text("kind = 'peer'"),
        ),
        CheckConstraint(_one_of("kind", ReviewKind), name="kind"),
        CheckConstraint(_one_of("decision", ReviewDecision), name="decision"),
        CheckConstraint("kind <> 'approval' OR section IS NOT NULL", name="approval_has_section"),
    )

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id")
    revision: int
    reviewer_id: str
    kind: str
    section: str | None = None
    decision: str
    comment: str | None = None
    checklist: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    acknowledged_warnings: list[str] = Field(default_factory=list, sa_type=JSON)
    content_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


# ---------------------------------------------------------------- publishing (the outbox)


class Publication(PostgateTable, table=True):
    """One post to one account: the outbox row the scheduler claims, leases and completes.

    States: pending, sending, published, failed, needs_review, held, cancelled, deleted (a
    published post deleted on request: see ``DeletionRequest``).

    ``due_at`` is the approved (or rescheduled) time and never moves on a retry: the missed-post
    and business-hours rules compare against it. A retry waits for ``next_attempt_at`` instead.
    ``claimed_at`` is when the latest attempt to send began: a reconciliation looks for posts
    made since, and a reconciliation's own claim keeps it.
    ``material`` is what the client checkpointed before its irreversible call (e.g. Instagram's
    container id); ``hold_reason`` says why a row is ``held`` (missed, paused, hours);
    ``confirmed_by`` is the person who released a held row and so accepted it going out late or
    out of hours.
    """

    __tablename__ = "publication"
    __table_args__ = (
        UniqueConstraint("draft_id", "revision", "account_id"),
        Index("ix_publication_state_due_at", "state", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id")
    revision: int
    account_id: str
    content_hash: str = Field(max_length=64)
    due_at: datetime = Field(sa_type=UTCDateTime)
    state: str = "pending"
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    leased_by: str | None = None
    idempotency_key: str | None = None
    platform_post_id: str | None = None
    permalink: str | None = None
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    emergency: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    material: dict[str, str] = Field(
        default_factory=dict, sa_type=JSON, sa_column_kwargs={"server_default": text("'{}'")}
    )
    hold_reason: str | None = None
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirmed_by: str | None = None
    # The first retryable error of the current run of failures (retries stop after
    # publishing.give_up_after_minutes from it); None when not failing.
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeletionRequest(PostgateTable, table=True):
    """A request to delete a draft's published posts (manual §8 (3)), with its reason.

    States: requested, approved, rejected, executed, failed (``workflows.deletion``). At most one
    request per draft is open (requested or approved): a partial unique index makes the database
    refuse a second one. ``publication_id`` is the publication it was asked about (None when asked
    about the draft); ``approvals`` maps each approving section to its approver's member id;
    ``correction_draft_id`` is the correction draft opened from it, if any.
    """

    __tablename__ = "deletion_request"
    __table_args__ = (
        Index(
            "uq_deletion_request_open_per_draft",
            "draft_id",
            unique=True,
            sqlite_where=text("state IN ('requested', 'approved')"),
            postgresql_where=text("state IN ('requested', 'approved')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id", index=True)
    publication_id: int | None = Field(default=None, foreign_key="publication.id")
    requested_by: str
    reason: str
    state: str = "requested"
    approvals: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    decided_by: str | None = None  # the last approver, or who rejected it
    decision_reason: str | None = None  # why it was rejected
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    correction_draft_id: int | None = Field(default=None, foreign_key="draft.id")
    version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Deletion(PostgateTable, table=True):
    """One post to delete on its platform: the outbox claims it like a publication.

    States: pending, sending, deleted, failed. ``next_attempt_at`` holds a retry back;
    ``lease_until``/``leased_by`` say which worker has it; ``post_id`` is the platform's id of the
    published post, copied when the request was approved.
    """

    __tablename__ = "deletion"
    __table_args__ = (
        UniqueConstraint("request_id", "publication_id"),
        Index("ix_deletion_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="deletion_request.id")
    publication_id: int = Field(foreign_key="publication.id")
    draft_id: int = Field(foreign_key="draft.id")
    account_id: str
    post_id: str | None = None
    state: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    leased_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = None
    version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Pause(PostgateTable, table=True):
    """An emergency pause of publishing: one account, or every account (``account_id`` None).

    Active while ``released_at`` is None. Emergency posts are never paused.
    """

    __tablename__ = "pause"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str | None = None
    reason: str
    created_by: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_by: str | None = None


class DryRunPost(PostgateTable, table=True):
    """A post "published" by the dry-run client (an account without credentials).

    The unique idempotency key makes reconciliation exact: the row exists or it does not.
    """

    __tablename__ = "dry_run_post"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(index=True)
    text: str
    media: list[str] = Field(default_factory=list, sa_type=JSON)
    idempotency_key: str = Field(unique=True)
    post_id: str = Field(unique=True)
    permalink: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


# ---------------------------------------------------------------- incidents and chat references


class Incident(PostgateTable, table=True):
    """A hijack, impersonation or flaming alert (manual §8); kinds: hijack, impersonation,
    flaming, other; states: open, acknowledged, resolved."""

    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    account_id: str | None = None
    state: str = "open"
    dedupe_key: str | None = Field(default=None, unique=True)
    title: str
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    checklist: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    resolution: str | None = None
    created_by: str
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    version: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    # The last reminder sent while the incident was unacknowledged (storage.incidents).
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MonitorState(PostgateTable, table=True):
    """What the monitors remember between polls (handlers/monitors.py), one row per watch.

    ``key`` is ``account:{account id}`` for an account's hijack and flaming watch, or
    ``lookup:{platform}`` for the impersonation look-up. ``profile`` is the profile baseline;
    ``replies`` the account's replies per time bucket (``{"start", "bucket_seconds", "counts"}``).
    """

    __tablename__ = "monitor_state"

    key: str = Field(primary_key=True)
    account_id: str | None = None
    watching_since: datetime = Field(sa_type=UTCDateTime)
    last_polled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    profile: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    auth_refused_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    replies: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    last_error: str | None = None
    # Polls in a row whose reads failed, and when people were told the watch is blind.
    failed_polls: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    blind_since: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ChatMessage(PostgateTable, table=True):
    """Where a card or thread about a draft or incident lives, so it can be updated later.

    Slack: ``channel`` + ``ts`` (+ ``thread_ts``); Teams: ``conversation_reference``.
    """

    __tablename__ = "chat_message"
    __table_args__ = (Index("ix_chat_message_subject", "subject_kind", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_kind: str
    subject_id: int
    purpose: str
    platform: str
    channel: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    conversation_reference: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    revision: int | None = None
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class ProcessedRequest(PostgateTable, table=True):
    """A chat request already handled (a replayed click or retried event is ignored)."""

    __tablename__ = "processed_request"

    key: str = Field(primary_key=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


# ---------------------------------------------------------------- the audit log


class AuditEvent(PostgateTable, table=True):
    """One link of the hash chain; written only by ``storage.audit.append``.

    ``seq`` is assigned by ``append`` (previous + 1, under the append lock), not by a database
    sequence: a PostgreSQL sequence skips numbers on rollback, which would look like a deleted
    event.
    """

    __tablename__ = "audit_event"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor: str
    action: str
    subject: str
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)

    GENESIS_HASH: ClassVar[str] = "0" * 64


# ---------------------------------------------------------------- the web console


class WebToken(PostgateTable, table=True):
    """A secret of the web console, kept only as its SHA-256 (``storage.web``).

    Kinds: ``signin`` (a one-time sign-in link, ``used_at`` once redeemed), ``session`` (a
    browser's session cookie), ``feed`` (a calendar feed address, revocable) and ``oidc`` (the
    state of a sign-in at the identity provider, used once; its nonce in ``label``).
    """

    __tablename__ = "web_token"

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    token_hash: str = Field(max_length=64, unique=True)
    member_id: str = Field(index=True)
    label: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
