"""Composition root: builds the checker and the HTTP application and wires them together."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.config import AppConfig
from workflows.checks import Checker

log = logging.getLogger("postgate")

SERVICES_KEY: web.AppKey[Services] = web.AppKey("services")


@dataclass(frozen=True)
class Services:
    """Everything the request handlers use, built once at start-up."""

    config: AppConfig
    checker: Checker


def build_services(config: AppConfig) -> Services:
    return Services(config=config, checker=Checker(config.checks, config.calendar()))


async def healthz(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    body: dict[str, Any] = {
        "status": "ok",
        "organisation": services.config.organisation.name,
        "accounts": len(services.config.accounts),
    }
    return web.json_response(body)


def build_app(config: AppConfig) -> web.Application:
    app = web.Application()
    app[SERVICES_KEY] = build_services(config)
    app.router.add_get("/healthz", healthz)
    return app


def run(config: AppConfig, *, host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    log.info(
        "postgate serving %s: %d sections, %d accounts on http://%s:%d",
        config.organisation.name,
        len(config.sections),
        len(config.accounts),
        host,
        port,
    )
    web.run_app(build_app(config), host=host, port=port, print=None)
