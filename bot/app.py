"""Composition root: builds storage, the checker and the use cases, and the HTTP application."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.config import AppConfig
from handlers.drafts import DraftUseCases
from storage.engine import Database
from storage.sync import sync_config
from workflows.checks import Checker

log = logging.getLogger("postgate")


@dataclass(frozen=True)
class Services:
    """Everything the request handlers use, built once at start-up."""

    config: AppConfig
    db: Database
    checker: Checker
    drafts: DraftUseCases


SERVICES_KEY: web.AppKey[Services] = web.AppKey("services", Services)


def build_services(config: AppConfig, db: Database) -> Services:
    directory = config.directory
    return Services(
        config=config,
        db=db,
        checker=Checker(config.checks, config.calendar()),
        drafts=DraftUseCases(
            db=db,
            directory=directory,
            check_settings=config.checks,
            calendar_for=config.calendar,
        ),
    )


def synchronise(config: AppConfig, db: Database) -> int:
    """Mirror app.yaml's sections, members and accounts into the database (changes audited)."""
    with db.session() as session:
        return len(sync_config(session, config, at=datetime.now(UTC)))


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    body: dict[str, Any] = {
        "status": "ok",
        "organisation": services.config.organisation.name,
        "accounts": len(services.config.accounts),
    }
    return web.json_response(body)


def build_app(config: AppConfig, db: Database) -> web.Application:
    app = web.Application()
    app[SERVICES_KEY] = build_services(config, db)
    app.router.add_get("/healthz", healthz)
    return app


def run(config: AppConfig, db: Database, *, host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    changes = synchronise(config, db)
    log.info(
        "postgate serving %s: %d sections, %d accounts, database %s (%d configuration changes "
        "recorded) on http://%s:%d",
        config.organisation.name,
        len(config.sections),
        len(config.accounts),
        db.url,
        changes,
        host,
        port,
    )
    web.run_app(build_app(config, db), host=host, port=port, print=None)
