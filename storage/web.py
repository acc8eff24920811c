"""The web console's secrets and reads.

A secret (sign-in link, session cookie, calendar feed address) is shown once and stored only as
its SHA-256, so a copy of the database signs nobody in. A sign-in link is redeemed at most once:
the ``UPDATE ... WHERE used_at IS NULL`` that marks it used decides between two simultaneous
clicks.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.tables import AuditEvent, Draft, DraftRevision, Publication, WebToken


class TokenKind(StrEnum):
    SIGNIN = "signin"
    SESSION = "session"
    FEED = "feed"
    OIDC = "oidc"  # the state of a sign-in at the identity provider (its nonce in ``label``)


SINGLE_USE = frozenset({TokenKind.SIGNIN, TokenKind.OIDC})


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    session: Session,
    *,
    kind: TokenKind,
    member_id: str,
    at: datetime,
    lifetime: timedelta | None,
    label: str | None = None,
) -> tuple[str, WebToken]:
    """A new secret for ``member_id``: the secret itself (shown once) and its row."""
    token = secrets.token_urlsafe(32)
    row = WebToken(
        kind=kind.value,
        token_hash=token_hash(token),
        member_id=member_id,
        label=label,
        created_at=at,
        expires_at=at + lifetime if lifetime is not None else None,
    )
    session.add(row)
    session.flush()
    return token, row


def find(session: Session, kind: TokenKind, token: str, *, at: datetime) -> WebToken | None:
    """The live (unexpired, unrevoked) row of ``token``; a used sign-in is not live."""
    row = session.exec(
        select(WebToken).where(
            WebToken.token_hash == token_hash(token),
            WebToken.kind == kind.value,
            col(WebToken.revoked_at).is_(None),
            (col(WebToken.expires_at).is_(None)) | (col(WebToken.expires_at) > at),
        )
    ).first()
    if row is None or (kind in SINGLE_USE and row.used_at is not None):
        return None
    return row


def redeem(
    session: Session, token: str, *, at: datetime, kind: TokenKind = TokenKind.SIGNIN
) -> WebToken | None:
    """Use a sign-in link (or an OIDC state): its row if it was live and this call used it."""
    row = find(session, kind, token, at=at)
    if row is None:
        return None
    used = session.execute(
        update(WebToken)
        .where(col(WebToken.id) == row.id, col(WebToken.used_at).is_(None))
        .values(used_at=at)
    )
    return row if used.rowcount == 1 else None  # type: ignore[attr-defined]


def revoke(session: Session, row: WebToken, *, at: datetime) -> None:
    session.execute(
        update(WebToken)
        .where(col(WebToken.id) == row.id, col(WebToken.revoked_at).is_(None))
        .values(revoked_at=at)
    )


def feeds_of(session: Session, member_id: str, *, at: datetime) -> list[WebToken]:
    """The member's calendar feed addresses still in force, oldest first."""
    return list(
        session.exec(
            select(WebToken)
            .where(
                WebToken.member_id == member_id,
                WebToken.kind == TokenKind.FEED.value,
                col(WebToken.revoked_at).is_(None),
            )
            .order_by(col(WebToken.id))
        ).all()
    )


# ---------------------------------------------------------------- the calendar


@dataclass(frozen=True, slots=True)
class PlannedPost:
    """One post on the calendar: a publication, or a draft's target still waiting for approval
    (``publication_id`` None)."""

    draft_id: int
    account_id: str
    at: datetime
    state: str  # a publication state, or the draft's state when not yet approved
    publication_id: int | None
    hold_reason: str | None
    permalink: str | None
    text: str
    emergency: bool


def planned_posts(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    waiting_states: Sequence[str],
    hidden_states: Sequence[str],
) -> list[PlannedPost]:
    """Publications due in [start, end) (not in ``hidden_states``), and the targets of drafts in
    ``waiting_states`` whose requested time falls in it; by time."""
    # Plain columns, not ORM objects: a month can hold thousands of publications.
    publications = session.execute(
        sa_select(
            col(Publication.id),
            col(Publication.draft_id),
            col(Publication.account_id),
            col(Publication.due_at),
            col(Publication.state),
            col(Publication.hold_reason),
            col(Publication.permalink),
            col(Publication.emergency),
            col(DraftRevision.text),
        )
        .join(
            DraftRevision,
            (col(DraftRevision.draft_id) == col(Publication.draft_id))
            & (col(DraftRevision.revision) == col(Publication.revision)),
        )
        .where(
            col(Publication.due_at) >= start,
            col(Publication.due_at) < end,
            col(Publication.state).not_in(list(hidden_states)),
        )
    ).all()
    posts = [
        PlannedPost(
            draft_id=draft_id,
            account_id=account_id,
            at=due_at,
            state=state,
            publication_id=publication_id,
            hold_reason=hold_reason,
            permalink=permalink,
            text=text,
            emergency=emergency,
        )
        for (
            publication_id,
            draft_id,
            account_id,
            due_at,
            state,
            hold_reason,
            permalink,
            emergency,
            text,
        ) in publications
    ]
    waiting = session.exec(
        select(Draft, DraftRevision)
        .join(
            DraftRevision,
            (col(DraftRevision.draft_id) == col(Draft.id))
            & (col(DraftRevision.revision) == col(Draft.revision)),
        )
        .where(
            col(Draft.state).in_(list(waiting_states)),
            col(Draft.publish_at) >= start,
            col(Draft.publish_at) < end,
        )
    ).all()
    for draft, revision in waiting:
        assert draft.id is not None
        assert draft.publish_at is not None
        posts.extend(
            PlannedPost(
                draft_id=draft.id,
                account_id=account_id,
                at=draft.publish_at,
                state=draft.state,
                publication_id=None,
                hold_reason=None,
                permalink=None,
                text=revision.text,
                emergency=draft.emergency,
            )
            for account_id in revision.targets
        )
    posts.sort(key=lambda p: (p.at, p.account_id, p.draft_id))
    return posts


# ---------------------------------------------------------------- drafts, the audit log


def newest_in_states(session: Session, states: Sequence[str], *, limit: int) -> list[Draft]:
    """The ``limit`` most recently changed drafts in these states, newest first."""
    return list(
        session.exec(
            select(Draft)
            .where(col(Draft.state).in_(list(states)))
            .order_by(col(Draft.updated_at).desc(), col(Draft.id).desc())
            .limit(limit)
        ).all()
    )


def revisions_of(session: Session, draft_id: int) -> list[DraftRevision]:
    """Every revision of a draft, first to last."""
    return list(
        session.exec(
            select(DraftRevision)
            .where(DraftRevision.draft_id == draft_id)
            .order_by(col(DraftRevision.revision))
        ).all()
    )


@dataclass(frozen=True, slots=True)
class AuditQuery:
    actor: str | None = None
    action: str | None = None  # a prefix: "draft." finds every draft event
    subject: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int | None = 200  # None: every matching event (an export)


def audit_events(session: Session, query: AuditQuery) -> list[AuditEvent]:
    """The newest ``limit`` events matching ``query`` (all of them if None), newest first."""
    statement = select(AuditEvent)
    if query.actor:
        statement = statement.where(AuditEvent.actor == query.actor)
    if query.action:
        statement = statement.where(col(AuditEvent.action).startswith(query.action))
    if query.subject:
        statement = statement.where(AuditEvent.subject == query.subject)
    if query.start is not None:
        statement = statement.where(col(AuditEvent.at) >= query.start)
    if query.end is not None:
        statement = statement.where(col(AuditEvent.at) < query.end)
    statement = statement.order_by(col(AuditEvent.seq).desc())
    if query.limit is not None:
        statement = statement.limit(query.limit)
    return list(session.exec(statement).all())


def events_about(session: Session, subjects: Sequence[str]) -> list[AuditEvent]:
    """Every event about these subjects (a draft and its publications), oldest first."""
    return list(
        session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.subject).in_(list(subjects)))
            .order_by(col(AuditEvent.seq))
        ).all()
    )
