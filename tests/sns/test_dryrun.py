"""The dry-run client: posts into ``dry_run_post``, exact reconciliation, and the choice between
it and the real clients (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import load_config
from sns.base import ErrorKind, Outcome, PostRequest, SnsError
from sns.dryrun import DryRunClient, clients_for, is_dry_run
from sns.factory import SnsSettings
from storage.engine import Database
from tests.sns import no_checkpoint
from tests.storage.conftest import db  # noqa: F401 - fixture

REPO = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def client(database: Database, account_id: str = "midori-x") -> DryRunClient:
    account = load_config(REPO / "app.yaml").account(account_id)
    assert account is not None
    return DryRunClient(database, account, clock=lambda: AT)


async def test_publish_reconcile_and_a_second_send_refused(db: Database) -> None:  # noqa: F811
    dry = client(db)
    post = PostRequest(
        text="【みどり市】お知らせ", media=("https://example.jp/a.jpg",), idempotency_key="k1"
    )
    missing = await dry.reconcile(post, material={}, sent_after=AT)
    assert missing.outcome is Outcome.NOT_PUBLISHED
    published = await dry.publish(post, material={}, checkpoint=no_checkpoint)
    assert published.permalink == f"dryrun://midori-x/{published.post_id}"
    assert published.created_at == AT
    found = await dry.reconcile(post, material={}, sent_after=AT)
    assert found.outcome is Outcome.PUBLISHED
    assert found.post == published
    with pytest.raises(SnsError) as again:
        await dry.publish(post, material={}, checkpoint=no_checkpoint)
    assert again.value.kind is ErrorKind.PERMANENT
    assert "k1" in str(again.value)
    [recent] = await dry.recent_posts()
    assert (recent.post_id, recent.text) == (published.post_id, "【みどり市】お知らせ")
    assert await client(db, "midori-facebook").recent_posts() == []
    await dry.delete(published.post_id)
    assert await dry.recent_posts() == []
    profile = await dry.profile()
    assert (profile.handle, profile.name) == ("midori_city", "みどり市")


async def test_a_post_without_an_idempotency_key_is_refused(db: Database) -> None:  # noqa: F811
    with pytest.raises(SnsError) as refused:
        await client(db).publish(PostRequest(text="x"), material={}, checkpoint=no_checkpoint)
    assert refused.value.kind is ErrorKind.PERMANENT


def test_accounts_without_every_credential_run_dry(db: Database) -> None:  # noqa: F811
    config = load_config(REPO / "app.yaml")
    clients = clients_for(config, {}, SnsSettings(), db=db)
    assert set(clients) == {a.id for a in config.accounts}
    assert all(is_dry_run(c) for c in clients.values())
    partial = {"MIDORI_X_CONSUMER_KEY": "k", "MIDORI_X_CONSUMER_SECRET": "s"}
    assert is_dry_run(clients_for(config, partial, SnsSettings(), db=db)["midori-x"])
    full = {
        **partial,
        "MIDORI_X_ACCESS_TOKEN": "t",
        "MIDORI_X_ACCESS_TOKEN_SECRET": "ts",
        "MIDORI_LINE_CHANNEL_TOKEN": "line",
    }
    chosen = clients_for(config, full, SnsSettings(), db=db)
    assert not is_dry_run(chosen["midori-x"])
    assert not is_dry_run(chosen["midori-line"])
    assert is_dry_run(chosen["midori-facebook"])
    assert chosen["midori-line"].platform.value == "line"
