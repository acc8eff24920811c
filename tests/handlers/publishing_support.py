"""Helpers for the publishing tests: approved drafts, an outbox on dry-run clients, scripted
clients that fail the way platforms do, and a notifier that records what people were told."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from bot.config import AppConfig
from handlers.drafts import DraftUseCases, NewDraft
from handlers.publishing import (
    Outbox,
    OutboxSettings,
    PublicationNotice,
    PublicationUseCases,
)
from sns.base import (
    Checkpoint,
    ErrorKind,
    Outcome,
    PostRequest,
    Profile,
    PublishedPost,
    Reconciliation,
    SnsClient,
    SnsError,
)
from sns.dryrun import DryRunClient, clients_for
from sns.factory import SnsSettings
from storage.engine import Database
from storage.tables import AuditEvent, DryRunPost, Publication
from tests.handlers.conftest import FixedClock, slack
from workflows.approval import ChecklistItem
from workflows.publishing import RetryPolicy

ALL = tuple(ChecklistItem)
CLEAN = (
    "【みどり市】12月5日(土)10時から中央図書館でおはなし会を開きます。"
    "参加は無料です。詳しくは https://www.city.midori.lg.jp/library/ をご覧ください。"
)
# Who writes, peer-checks and approves a draft for an account's approving section.
PEOPLE = {
    "シティ・プロモーション課": ("takahashi.yui", "ito.makoto", "sato.keiko"),
    "環境推進課": ("kato.shota", "nakamura.ai", "yamamoto.jun"),
}


def approve(
    uc: DraftUseCases,
    config: AppConfig,
    *,
    targets: tuple[str, ...] = ("midori-x",),
    text: str = CLEAN,
    publish_at: datetime | None = None,
    emergency: bool = False,
    media: tuple[str, ...] = (),
) -> int:
    """A draft written, peer-checked and approved (every warning acknowledged); its id."""
    account = config.account(targets[0])
    assert account is not None
    author, peer, approver = PEOPLE[account.approving_section]
    created = uc.create(
        slack(author, config),
        NewDraft(text, targets=targets, publish_at=publish_at, emergency=emergency, media=media),
    )
    draft_id = created.draft.id
    assert not created.draft.errors, [f.rule for f in created.draft.errors]
    uc.submit(slack(author, config), draft_id)
    uc.peer_check(slack(peer, config), draft_id, shown_revision=1, checklist=ALL)
    acks = tuple(f.warning_id for f in uc.get(draft_id).warnings if f.warning_id)
    uc.approve(
        slack(approver, config),
        draft_id,
        shown_revision=1,
        checklist=ALL,
        acknowledged=acks,
        publish_at=publish_at,
    )
    return draft_id


@dataclass
class RecordingNotifier:
    """Keeps every notice, as the chat would show it."""

    notices: list[PublicationNotice] = field(default_factory=list)

    async def notify(self, notice: PublicationNotice) -> None:
        self.notices.append(notice)

    def kinds(self) -> list[str]:
        return [n.kind.value for n in self.notices]


FAST_RETRY = RetryPolicy(
    base=timedelta(seconds=10), cap=timedelta(minutes=5), floor=timedelta(seconds=1), max_attempts=4
)


def make_outbox(
    db: Database,
    config: AppConfig,
    clock: FixedClock,
    notifier: RecordingNotifier,
    *,
    clients: Mapping[str, SnsClient] | None = None,
    settings: OutboxSettings | None = None,
    worker_id: str = "test-worker",
) -> Outbox:
    return Outbox(
        db=db,
        directory=config.directory,
        clients=clients if clients is not None else dry_run_clients(db, config, clock),
        calendar_for=config.calendar,
        notifier=notifier,
        settings=settings or OutboxSettings(retry=FAST_RETRY, worker_id=worker_id),
        clock=clock,
        rng=lambda: 0.5,
    )


def dry_run_clients(db: Database, config: AppConfig, clock: FixedClock) -> dict[str, SnsClient]:
    return clients_for(config, {}, SnsSettings(), db=db, clock=clock)


def publication_uc(db: Database, config: AppConfig, clock: FixedClock) -> PublicationUseCases:
    return PublicationUseCases(
        db=db, directory=config.directory, calendar_for=config.calendar, clock=clock
    )


def publications(db: Database, draft_id: int | None = None) -> list[Publication]:
    with db.session(read_only=True) as session:
        statement = select(Publication).order_by(col(Publication.id))
        if draft_id is not None:
            statement = statement.where(Publication.draft_id == draft_id)
        return list(session.exec(statement).all())


def dry_posts(db: Database) -> list[DryRunPost]:
    with db.session(read_only=True) as session:
        return list(session.exec(select(DryRunPost).order_by(col(DryRunPost.id))).all())


def posts_per_key(db: Database) -> dict[str, int]:
    with db.session(read_only=True) as session:
        rows = session.exec(
            select(DryRunPost.idempotency_key, func.count()).group_by(
                col(DryRunPost.idempotency_key)
            )
        ).all()
        return dict(rows)


def actions(db: Database, subject: str) -> list[str]:
    with db.session(read_only=True) as session:
        return list(
            session.exec(
                select(AuditEvent.action)
                .where(AuditEvent.subject == subject)
                .order_by(col(AuditEvent.seq))
            ).all()
        )


class ScriptedClient:
    """A dry-run client whose next answers are scripted: errors before (or after) the post is
    really stored, outcomes for reconciliation, and a gate that holds a publish open."""

    def __init__(self, inner: DryRunClient) -> None:
        self.inner = inner
        self.platform = inner.platform
        self.publish_errors: list[tuple[SnsError, bool]] = []  # (error, stored before raising)
        self.reconcile_answers: list[Reconciliation | SnsError] = []
        self.gate: asyncio.Event | None = None
        self.publish_calls = 0
        self.reconcile_calls = 0
        self.material_seen: list[dict[str, str]] = []
        self.checkpoint_material: Mapping[str, str] | None = None

    def fail_next(
        self,
        kind: ErrorKind,
        *,
        stored: bool = False,
        retry_at: datetime | None = None,
        message: str = "scripted failure",
        status: int | None = None,
    ) -> None:
        error = SnsError(kind, message, platform=self.platform, status=status, retry_at=retry_at)
        self.publish_errors.append((error, stored))

    async def publish(
        self, post: PostRequest, *, material: Mapping[str, str], checkpoint: Checkpoint
    ) -> PublishedPost:
        self.publish_calls += 1
        self.material_seen.append(dict(material))
        if self.checkpoint_material is not None:
            await checkpoint(self.checkpoint_material)
        if self.gate is not None:
            await self.gate.wait()
        if self.publish_errors:
            error, stored = self.publish_errors.pop(0)
            if stored:
                await self.inner.publish(post, material=material, checkpoint=checkpoint)
            raise error
        return await self.inner.publish(post, material=material, checkpoint=checkpoint)

    async def reconcile(
        self, post: PostRequest, *, material: Mapping[str, str], sent_after: datetime
    ) -> Reconciliation:
        self.reconcile_calls += 1
        if self.reconcile_answers:
            answer = self.reconcile_answers.pop(0)
            if isinstance(answer, SnsError):
                raise answer
            return answer
        return await self.inner.reconcile(post, material=material, sent_after=sent_after)

    async def delete(self, post_id: str) -> None:
        await self.inner.delete(post_id)

    async def recent_posts(self, *, limit: int = 20) -> list[PublishedPost]:
        return await self.inner.recent_posts(limit=limit)

    async def profile(self) -> Profile:
        return await self.inner.profile()

    async def close(self) -> None:
        await self.inner.close()


UNDECIDED = Reconciliation(Outcome.UNDECIDED, reason="the platform gave no clear answer")


def scripted(
    db: Database, config: AppConfig, clock: FixedClock, account_id: str
) -> tuple[ScriptedClient, dict[str, SnsClient]]:
    """All accounts on dry-run; ``account_id`` on a scripted wrapper of its dry-run client."""
    clients = dry_run_clients(db, config, clock)
    inner = clients[account_id]
    assert isinstance(inner, DryRunClient)
    client = ScriptedClient(inner)
    clients[account_id] = client
    return client, clients


Advance = Callable[[timedelta], None]
