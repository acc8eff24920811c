"""`postgate web link --as MEMBER`: a one-time sign-in link to the console (shell access
already means trust)."""

from __future__ import annotations

import argparse
import os
from typing import IO

from bot.config import ConfigError, load_config
from bot.web.security import SIGNIN_LINK_LIFETIME, WebSettings, issue_signin_link
from storage.engine import Database, database_url
from storage.migrate import DatabaseNotMigrated, ensure_migrated
from workflows.catalogue import message

EXIT_USAGE = 2


def web_link(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    name = "postgate web link"
    try:
        config = load_config(args.config)
        settings = WebSettings.from_env(os.environ)
    except ConfigError as exc:
        err.write(f"{name}: {exc}\n")
        return EXIT_USAGE
    member = config.member(args.member)
    if member is None:
        err.write(f"{name}: {message('web.cli.unknown_member', member=args.member)}\n")
        return EXIT_USAGE
    db = Database(database_url(os.environ))
    try:
        ensure_migrated(db)
        url = issue_signin_link(db, member, settings, at=args.clock())
    except DatabaseNotMigrated as exc:
        err.write(f"{name}: {exc}\n")
        return EXIT_USAGE
    finally:
        db.dispose()
    minutes = int(SIGNIN_LINK_LIFETIME.total_seconds() // 60)
    out.write(
        message("web.cli.link_issued", name=member.name, member=member.id, minutes=minutes, url=url)
        + "\n"
    )
    return 0
