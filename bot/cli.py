"""The `postgate` command: serve, check, config check.

Heavy modules (aiohttp, the chat SDKs) are imported inside the commands that need them so that
`postgate check` starts quickly.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, TextIO

from workflows.catalogue import Lang, message
from workflows.checks import Platform

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="postgate",
        description="The gate every post of a city hall's social-media accounts passes through.",
    )
    parser.add_argument(
        "--config", metavar="FILE", help="app.yaml to use (default: $POSTGATE_CONFIG or ./app.yaml)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bot (HTTP server, timer, monitors)")
    serve.add_argument("--host", default=os.environ.get("POSTGATE_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("POSTGATE_PORT", "8080")))

    check = commands.add_parser(
        "check",
        help="check a draft the way the bot does",
        description="Check a draft. Exit 0: no error finding; 1: some; 2: bad usage or input.",
    )
    check.add_argument("source", nargs="*", metavar="FILE|-", help="the draft (default: stdin)")
    check.add_argument(
        "--platform",
        action="append",
        choices=[p.value for p in Platform],
        dest="platforms",
        help="target platform, repeatable (default: x, or the --account's platform)",
    )
    check.add_argument("--account", help="check for this account of app.yaml (platform, hours)")
    check.add_argument("--at", help="publish time, ISO-8601 (default: now, Asia/Tokyo)")
    check.add_argument("--emergency", action="store_true", help="an emergency post (no hours rule)")
    check.add_argument("--media", action="append", default=[], metavar="URL", help="attached media")
    check.add_argument("--history", metavar="FILE", help="recent posts (JSON lines of text, at)")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.add_argument("--batch", metavar="FILE", help="JSON lines in, one result per line out")
    check.add_argument("--lang", choices=[lang.value for lang in Lang], default=Lang.JA.value)

    db = commands.add_parser("db", help="database tools ($POSTGATE_DATABASE_URL)")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_commands.add_parser("upgrade", help="create or migrate the tables to this version")
    db_commands.add_parser("status", help="show the database's migration revision")

    audit = commands.add_parser("audit", help="the tamper-evident audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="COMMAND")
    audit_commands.add_parser("verify", help="walk the hash chain; exit 1 at the first broken link")
    export = audit_commands.add_parser("export", help="events since a date, for records requests")
    export.add_argument("--since", required=True, help="YYYY-MM-DD (Asia/Tokyo) or ISO-8601")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv", dest="fmt")
    export.add_argument("--output", "-o", metavar="FILE", help="default: stdout")

    config = commands.add_parser("config", help="app.yaml tools")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="COMMAND")
    config_check = config_commands.add_parser("check", help="validate app.yaml, list every problem")
    config_check.add_argument("file", nargs="?", help="the file (default: --config or app.yaml)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check":
        return _check(args, sys.stdout, sys.stderr)
    if args.command == "config":
        return _config_check(args.file or args.config, sys.stdout, sys.stderr)
    if args.command == "serve":
        return _serve(args, sys.stderr)
    if args.command == "db":
        return _db(args.db_command, sys.stdout, sys.stderr)
    if args.command == "audit":
        return _audit(args, sys.stdout, sys.stderr)
    raise AssertionError(args.command)  # argparse only admits the commands above


def _check(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from bot.check_command import BadInput, Defaults, check_main, parse_at, read_history
    from bot.config import ConfigError, config_path, load_config
    from workflows.calendar import BusinessCalendar
    from workflows.checks import Checker, CheckSettings, MediaItem

    lang = Lang(args.lang)
    path = config_path(args.config)
    explicit = bool(args.config or os.environ.get("POSTGATE_CONFIG"))
    settings, calendar = CheckSettings(), BusinessCalendar()
    platforms = tuple(Platform(p) for p in args.platforms or ())
    try:
        if explicit or path.is_file():
            config = load_config(path)
            settings = config.checks
            account = None
            if args.account:
                account = config.account(args.account)
                if account is None:
                    known = ", ".join(a.id for a in config.accounts)
                    raise BadInput(
                        message("cli.unknown_account", lang, account=args.account, known=known)
                    )
                platforms = platforms or (account.platform,)
            calendar = config.calendar(account)
        elif args.account:
            raise BadInput(message("cli.unknown_account", lang, account=args.account, known="-"))
        at = parse_at(args.at, lang) if args.at else datetime.now(calendar.tz)
        history = read_history(Path(args.history), lang) if args.history else ()
    except (BadInput, ConfigError) as exc:
        err.write(f"postgate check: {exc}\n")
        return EXIT_USAGE
    defaults = Defaults(
        platforms=platforms or (Platform.X,),
        at=at,
        emergency=args.emergency,
        media=tuple(MediaItem(m) for m in args.media),
        history=history,
    )
    checker = Checker(settings, calendar, lang=lang)
    return check_main(
        checker,
        sources=args.source,
        batch=args.batch,
        defaults=defaults,
        as_json=args.json,
        out=out,
        err=err,
    )


def _config_check(file: str | None, out: IO[str], err: IO[str]) -> int:
    from bot.config import ConfigError, config_path, load_config

    path = config_path(file)
    try:
        config = load_config(path)
    except ConfigError as exc:
        err.write(f"{exc}\n")
        return EXIT_USAGE
    out.write(
        message(
            "cli.config_ok",
            Lang.JA,
            path=path,
            sections=len(config.sections),
            members=len(config.members),
            accounts=len(config.accounts),
        )
        + "\n"
    )
    return 0


def _serve(args: argparse.Namespace, err: IO[str]) -> int:
    from bot.app import run
    from bot.config import ConfigError, load_config
    from storage.engine import Database, database_url
    from storage.migrate import DatabaseNotMigrated, ensure_migrated

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        err.write(f"postgate serve: {exc}\n")
        return EXIT_USAGE
    db = Database(database_url(os.environ))
    try:
        ensure_migrated(db)
    except DatabaseNotMigrated as exc:
        err.write(f"postgate serve: {exc}\n")
        return EXIT_USAGE
    run(config, db, host=args.host, port=args.port)
    return 0


def _db(command: str, out: IO[str], err: IO[str]) -> int:
    from storage.engine import Database, database_url
    from storage.migrate import current_revision, head_revision, upgrade

    db = Database(database_url(os.environ))
    try:
        if command == "upgrade":
            before = current_revision(db)
            upgrade(db)
            after = current_revision(db)
            out.write(f"{db.url}: {before or '-'} -> {after}\n")
        else:
            current, head = current_revision(db), head_revision()
            state = "最新です / up to date" if current == head else "要更新 / needs upgrade"
            out.write(f"{db.url}: {current or '-'} (head {head}) {state}\n")
            return 0 if current == head else 1
    finally:
        db.dispose()
    del err
    return 0


def _audit(args: argparse.Namespace, out: TextIO, err: IO[str]) -> int:
    from storage import audit
    from storage.engine import Database, database_url
    from storage.migrate import DatabaseNotMigrated, ensure_migrated

    db = Database(database_url(os.environ))
    try:
        ensure_migrated(db)
        if args.audit_command == "verify":
            with db.session(read_only=True) as session:
                broken, head = audit.walk(session)
            if broken is not None:
                err.write(
                    f"監査ログの改ざんまたは欠落を検出しました / audit chain broken: {broken}\n"
                )
                return 1
            out.write(
                f"監査ログは正常です / audit chain intact: {head.count} events, "
                f"last seq {head.seq}, head {head.hash}\n"
            )
            return 0
        since = _parse_since(args.since)
        if since is None:
            err.write(f"postgate audit export: --since {args.since!r}: use YYYY-MM-DD\n")
            return EXIT_USAGE
        stream = open(args.output, "w", encoding="utf-8", newline="") if args.output else out  # noqa: SIM115
        try:
            with db.session(read_only=True) as session:
                count = audit.export(session, since, args.fmt, stream)
        finally:
            if args.output:
                stream.close()
        err.write(f"{count} events exported\n")
        return 0
    except DatabaseNotMigrated as exc:
        err.write(f"postgate audit: {exc}\n")
        return EXIT_USAGE
    finally:
        db.dispose()


def _parse_since(value: str) -> date | datetime | None:
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


if __name__ == "__main__":
    raise SystemExit(main())
