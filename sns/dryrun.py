"""The dry-run client: the default for any account whose credentials are not all set.

It "publishes" into the database (table ``dry_run_post``) with a generated post id and a permalink
``dryrun://{account_id}/{post_id}``, so the whole flow — approval, outbox, timer, audit — runs on
a fresh machine without any platform. The idempotency key is unique in that table, which makes
reconciliation exact (the row exists or it does not) and turns an accidental second send of the
same publication into a visible permanent error, as X's duplicate-content 403 would. The dry-run
clients of one database share a ``DryRunStore``, which commits the posts arriving together in one
transaction (``INSERT ... ON CONFLICT DO NOTHING``).

``clients_for`` picks, per account, the real client (``sns.factory.build_client``) when every
credential the account names is set in the environment, else this one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, delete, select

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
from storage.batching import GroupCommit
from storage.engine import Database
from storage.tables import DryRunPost, metadata
from workflows.org import Account

if TYPE_CHECKING:
    from sns.factory import SnsSettings

PERMALINK_SCHEME = "dryrun://"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def permalink(account_id: str, post_id: str) -> str:
    return f"{PERMALINK_SCHEME}{account_id}/{post_id}"


class DryRunStore:
    """Where the dry-run clients of one database "publish": inserts from every account are
    committed many per transaction (``GroupCommit``), as fast as the outbox sends them."""

    def __init__(self, db: Database, *, limit: int = 200) -> None:
        self.db = db
        self._inserts: GroupCommit[dict[str, Any], bool] = GroupCommit(self._insert_many, limit)

    async def insert(self, row: dict[str, Any]) -> bool:
        """Store one post; False if its idempotency key was already published."""
        return await self._inserts.submit(row)

    def _insert_many(self, rows: Sequence[dict[str, Any]]) -> list[bool | Exception]:
        table = metadata.tables["dry_run_post"]
        if self.db.is_postgres:
            statement: Any = pg_insert(table).on_conflict_do_nothing(
                index_elements=["idempotency_key"]
            )
        else:
            statement = sqlite_insert(table).on_conflict_do_nothing(
                index_elements=["idempotency_key"]
            )
        with self.db.session() as session:
            stored = set(
                session.execute(statement.returning(table.c.post_id), list(rows)).scalars()
            )
        return [row["post_id"] in stored for row in rows]


class DryRunClient:
    """Publishes one account's posts into ``dry_run_post`` (the database work runs in a thread)."""

    def __init__(
        self,
        db: Database,
        account: Account,
        *,
        clock: Callable[[], datetime] = _utc_now,
        store: DryRunStore | None = None,
    ) -> None:
        self.db = db
        self.account = account
        self.platform = account.platform
        self.clock = clock
        self.store = store or DryRunStore(db)

    async def publish(
        self, post: PostRequest, *, material: Mapping[str, str], checkpoint: Checkpoint
    ) -> PublishedPost:
        """Store the post; a second publish with the same idempotency key is refused."""
        del material, checkpoint  # one insert is atomic: nothing to checkpoint
        if not post.idempotency_key:
            raise SnsError(ErrorKind.PERMANENT, "no idempotency key given", platform=self.platform)
        post_id = uuid.uuid4().hex
        link, at = permalink(self.account.id, post_id), self.clock()
        row = {
            "account_id": self.account.id,
            "text": post.text,
            "media": list(post.media),
            "idempotency_key": post.idempotency_key,
            "post_id": post_id,
            "permalink": link,
            "created_at": at,
        }
        if not await self.store.insert(row):
            raise SnsError(
                ErrorKind.PERMANENT,
                f"duplicate: idempotency key {post.idempotency_key} was already published",
                platform=self.platform,
                status=409,
            )
        return PublishedPost(post_id, link, post.text, at)

    async def reconcile(
        self, post: PostRequest, *, material: Mapping[str, str], sent_after: datetime
    ) -> Reconciliation:
        """Exact: the row with this idempotency key exists, or the post was never made."""
        del material, sent_after
        found = await asyncio.to_thread(self._find, post.idempotency_key)
        if found is None:
            return Reconciliation(Outcome.NOT_PUBLISHED, reason="no dry-run post with this key")
        return Reconciliation(Outcome.PUBLISHED, _published(found))

    def _find(self, key: str) -> DryRunPost | None:
        with self.db.session(read_only=True) as session:
            return session.exec(select(DryRunPost).where(DryRunPost.idempotency_key == key)).first()

    async def delete(self, post_id: str) -> None:
        await asyncio.to_thread(self._delete, post_id)

    def _delete(self, post_id: str) -> None:
        with self.db.session() as session:
            session.exec(
                delete(DryRunPost).where(
                    col(DryRunPost.account_id) == self.account.id,
                    col(DryRunPost.post_id) == post_id,
                )
            )

    async def recent_posts(self, *, limit: int = 20) -> list[PublishedPost]:
        return await asyncio.to_thread(self._recent, limit)

    def _recent(self, limit: int) -> list[PublishedPost]:
        with self.db.session(read_only=True) as session:
            rows = session.exec(
                select(DryRunPost)
                .where(DryRunPost.account_id == self.account.id)
                .order_by(col(DryRunPost.id).desc())
                .limit(limit)
            ).all()
            return [_published(r) for r in rows]

    async def profile(self) -> Profile:
        return Profile(
            account_id=self.account.id,
            name=self.account.display_name,
            handle=self.account.handle,
            description=self.account.purpose,
        )

    async def close(self) -> None:
        return None


def _published(row: DryRunPost) -> PublishedPost:
    return PublishedPost(row.post_id, row.permalink, row.text, row.created_at)


class Organisation(Protocol):
    """What ``clients_for`` reads: app.yaml's accounts (``bot.config.AppConfig`` has them)."""

    @property
    def accounts(self) -> tuple[Account, ...]: ...


def clients_for(
    config: Organisation,
    environ: Mapping[str, str],
    settings: SnsSettings,
    *,
    db: Database,
    clock: Callable[[], datetime] = _utc_now,
) -> dict[str, SnsClient]:
    """One client per account of ``config``: the real one when all its credentials are set in
    ``environ``, else the dry-run one. ``settings`` (``SnsSettings``: base URLs, timeouts) goes to
    the real clients' factory, imported only when an account needs it."""
    clients: dict[str, SnsClient] = {}
    store = DryRunStore(db)
    for account in config.accounts:
        credentials = account.credentials_from(environ)
        if credentials is None:
            clients[account.id] = DryRunClient(db, account, clock=clock, store=store)
        else:
            clients[account.id] = _real_client(account, credentials, settings, clock)
    return clients


def _real_client(
    account: Account,
    credentials: dict[str, str],
    settings: SnsSettings,
    clock: Callable[[], datetime],
) -> SnsClient:
    # Imported here: tweepy and the platform clients load only when an account needs them.
    from sns.factory import build_client  # noqa: PLC0415

    return build_client(account, credentials, settings, clock=clock)


def is_dry_run(client: SnsClient) -> bool:
    return isinstance(client, DryRunClient)
