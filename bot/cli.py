"""The `postgate` command: serve, check, config check, db, audit, posts (the outbox, reviews and
deletions), pause and resume, and the administrator's doctor, init, backup and restore.

Everything it prints for people is in the reader's language (bot/cli_lang.py: Japanese unless
``--lang en`` or ``POSTGATE_LANG=en``), from the message catalogue.

Heavy modules (aiohttp, the chat SDKs) are imported inside the commands that need them so that
`postgate check` starts quickly.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, TextIO

from bot.cli_lang import LocalisedParser, display_width, localise, resolve_lang
from workflows.catalogue import Lang, message
from workflows.checks import Platform

if TYPE_CHECKING:
    from bot.config import AppConfig
    from handlers.drafts import Actor
    from handlers.views import OutboxRow
    from storage.audit import Anchor
    from storage.engine import Database

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = LocalisedParser(
        prog="postgate",
        description="The gate every post of a city hall's social-media accounts passes through.",
    )
    parser.add_argument(
        "--config", metavar="FILE", help="app.yaml to use (default: $POSTGATE_CONFIG or ./app.yaml)"
    )
    parser.add_argument("--lang", choices=[lang.value for lang in Lang], default=Lang.JA.value)
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
    verify = audit_commands.add_parser(
        "verify", help="walk the hash chain; exit 1 at the first broken link or broken anchor"
    )
    verify.add_argument(
        "--anchors", metavar="FILE", help="also check the chain against these anchors"
    )
    anchor = audit_commands.add_parser(
        "anchor", help="append the chain's head to the anchor file (audit.anchor_file)"
    )
    anchor.add_argument("--file", metavar="FILE", help="default: app.yaml's audit.anchor_file")
    export = audit_commands.add_parser("export", help="events since a date, for records requests")
    export.add_argument("--since", required=True, help="YYYY-MM-DD (Asia/Tokyo) or ISO-8601")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv", dest="fmt")
    export.add_argument("--output", "-o", metavar="FILE", help="default: stdout")

    posts = commands.add_parser("posts", help="the outbox: publications, their state and links")
    posts_commands = posts.add_subparsers(dest="posts_command", required=True, metavar="COMMAND")
    posts_list = posts_commands.add_parser("list", help="publications (newest 200, by due time)")
    posts_list.add_argument("--json", action="store_true", help="print JSON")
    posts_list.add_argument("--state", action="append", default=[], help="only this state")
    posts_list.add_argument("--account", help="only this account")
    posts_list.add_argument("--limit", type=int, default=200)
    cancel = posts_commands.add_parser("cancel", help="cancel a pending or held publication")
    cancel.add_argument("--reason", required=True)
    reschedule = posts_commands.add_parser("reschedule", help="a new time for a publication")
    reschedule.add_argument("--at", required=True, help="ISO-8601; no offset means Asia/Tokyo")
    confirm = posts_commands.add_parser("confirm", help="send a held publication after all")
    retry = posts_commands.add_parser(
        "retry",
        help="send a failed publication again (the platform is asked first whether it is there)",
    )
    review = posts_commands.add_parser(
        "review", help="settle a publication that needs review: is the post on the platform?"
    )
    answer = review.add_mutually_exclusive_group(required=True)
    answer.add_argument(
        "--published", metavar="URL|ID", help="it is there: the post's URL or id (-> published)"
    )
    answer.add_argument(
        "--not-published",
        action="store_true",
        help="it is not there (-> pending: sent after the send-time checks)",
    )
    delete_request = posts_commands.add_parser(
        "delete-request",
        help="ask to delete a published post (every published post of its draft), with a reason",
    )
    delete_request.add_argument("--reason", required=True)
    for command in (cancel, reschedule, confirm, retry, review, delete_request):
        command.add_argument("id", type=int, help="the publication's number (posts list)")
    delete_approve = posts_commands.add_parser(
        "delete-approve", help="approve a deletion request (the posts are then deleted)"
    )
    delete_reject = posts_commands.add_parser("delete-reject", help="reject a deletion request")
    delete_reject.add_argument("--reason", required=True)
    correction = posts_commands.add_parser(
        "correction", help="open a correction draft for a deletion request (manual 8 (3))"
    )
    for command in (delete_approve, delete_reject, correction):
        command.add_argument("request", type=int, help="the deletion request's number")
    pause = commands.add_parser("pause", help="emergency pause: hold the pending posts")
    pause.add_argument("--reason", required=True)
    resume = commands.add_parser("resume", help="end an emergency pause")
    for command in (pause, resume):
        command.add_argument("--account", help="one account (default: all accounts)")
    acting = (
        cancel,
        reschedule,
        confirm,
        retry,
        review,
        delete_request,
        delete_approve,
        delete_reject,
        correction,
        pause,
        resume,
    )
    for command in acting:
        command.add_argument(
            "--as", required=True, dest="member", metavar="MEMBER", help="member id"
        )
    for command in (posts_list, *acting):
        command.add_argument("--lang", choices=[lang.value for lang in Lang], default=Lang.JA.value)

    monitor = commands.add_parser("monitor", help="the account monitors (hijack, flaming)")
    monitor_commands = monitor.add_subparsers(
        dest="monitor_command", required=True, metavar="COMMAND"
    )
    monitor_run = monitor_commands.add_parser(
        "run", help="poll now (every watched account, or one) and print what was found"
    )
    monitor_run.add_argument("--account", help="only this account of app.yaml")
    monitor_run.add_argument(
        "--impersonation", action="store_true", help="look up look-alike accounts instead"
    )

    slack = commands.add_parser("slack", help="Slack app tools")
    slack_commands = slack.add_subparsers(dest="slack_command", required=True, metavar="COMMAND")
    manifest = slack_commands.add_parser(
        "manifest", help="print the Slack app manifest (scopes, events, /postgate, interactivity)"
    )
    manifest.add_argument(
        "--mode",
        choices=["socket", "http"],
        help="socket (no public URL) or http (default: socket if $SLACK_APP_TOKEN is set)",
    )
    manifest.add_argument("--url", help="the server's public base URL (http mode)")
    manifest.add_argument("--format", choices=["yaml", "json"], default="yaml", dest="fmt")

    commands.add_parser("doctor", help="tell what works and what blocks publishing")
    init = commands.add_parser("init", help="build a first app.yaml from the lists (CSV)")
    init.add_argument("--accounts", required=True, metavar="CSV", help="the account table")
    init.add_argument("--staff", required=True, metavar="CSV", help="the staff list")
    init.add_argument("--output", "-o", metavar="FILE", default="app.yaml", help="app.yaml")
    init.add_argument("--organisation", help="the municipality")
    init.add_argument("--city-promotion", metavar="SECTION", help="approves official accounts")
    init.add_argument("--digital-promotion", metavar="SECTION", help="told of incidents")
    for role in ("drafts", "approvals", "alerts"):
        init.add_argument(f"--{role}-channel", metavar="ID", help=f"Slack channel for {role}")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    backup = commands.add_parser("backup", help="back up the SQLite database, verify the copy")
    backup.add_argument("file", metavar="FILE", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="overwrite an existing file")
    restore = commands.add_parser("restore", help="restore the SQLite database (postgate stopped)")
    restore.add_argument("file", metavar="FILE", help="the backup file")
    restore.add_argument("--force", action="store_true", help="replace the existing database")
    teams = commands.add_parser("teams", help="Teams app tools")
    teams_commands = teams.add_subparsers(dest="teams_command", required=True, metavar="COMMAND")
    teams_manifest = teams_commands.add_parser(
        "manifest", help="write the Teams app package (manifest, ja-jp, icons) for the org catalog"
    )
    teams_manifest.add_argument("--app-id", required=True, help="the bot's Microsoft App ID")
    teams_manifest.add_argument("--url", required=True, help="the server's public https URL")
    teams_manifest.add_argument("--version", default="1.0.0", help="bump on every upload")
    teams_manifest.add_argument("-o", "--output", default="postgate-teams.zip")
    web = commands.add_parser("web", help="the web console")
    web_commands = web.add_subparsers(dest="web_command", required=True, metavar="COMMAND")
    link = web_commands.add_parser("link", help="print a one-time sign-in link (15 minutes)")
    link.add_argument("--as", required=True, dest="member", metavar="MEMBER", help="member id")

    config = commands.add_parser("config", help="app.yaml tools")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="COMMAND")
    config_check = config_commands.add_parser("check", help="validate app.yaml, list every problem")
    config_check.add_argument("file", nargs="?", help="the file (default: --config or app.yaml)")
    return parser


def _utc_now() -> datetime:
    return datetime.now(UTC)


def main(argv: Sequence[str] | None = None, *, clock: Callable[[], datetime] = _utc_now) -> int:
    """Run one command. ``clock`` is where every command takes "now" from (tests inject one)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser()
    localise(parser, resolve_lang(argv, os.environ))
    args = parser.parse_args(argv)
    args.clock = clock
    if args.command == "check":
        return _check(args, sys.stdout, sys.stderr)
    from bot.db_errors import DatabaseUnreachable
    from storage.engine import UNAVAILABLE

    try:
        return _dispatch(args, sys.stdout, sys.stderr)
    except DatabaseUnreachable as exc:
        sys.stderr.write(f"postgate {args.command}: {exc.message(Lang(args.lang))}\n")
        return EXIT_USAGE
    except UNAVAILABLE as exc:  # read-only, unwritable: one line, no traceback
        sys.stderr.write(_database_unusable(args, exc) + "\n")
        return EXIT_USAGE


def _database_unusable(args: argparse.Namespace, exc: Exception) -> str:
    from sqlalchemy.engine import make_url

    from handlers.outage import first_line
    from storage.engine import database_url

    command = " ".join(
        part
        for part in (
            args.command,
            getattr(args, "posts_command", None),
            getattr(args, "audit_command", None),
            getattr(args, "db_command", None),
            getattr(args, "monitor_command", None),
        )
        if part
    )
    url = make_url(database_url(os.environ)).render_as_string(hide_password=True)
    return (
        f"postgate {command}: データベースを使えません / the database cannot be used: "
        f"{first_line(exc)} ({url}). 書き込み権限・空き容量・接続先（読み取り専用の mode=ro "
        "ではないか）を確認してください / check write permission, free space and the address "
        "(not a read-only mode=ro URL)."
    )


def _dispatch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    lang = Lang(args.lang)
    if args.command == "config":
        return _config_check(args.file or args.config, lang, out, err)
    if args.command == "serve":
        return _serve(args, err)
    if args.command == "db":
        return _db(args.db_command, lang, out, err)
    if args.command == "audit":
        return _audit(args, out, err)
    if args.command == "slack":
        return _slack_manifest(args, out, err)
    if args.command == "teams":
        return _teams_manifest(args, out, err)
    if args.command == "monitor":
        return _monitor_run(args, out, err)
    if args.command in ("posts", "pause", "resume"):
        return _publishing(args, out, err)
    if args.command == "doctor":
        return _doctor(args, lang, out)
    if args.command == "init":
        return _init(args, lang, out, err)
    if args.command in ("backup", "restore"):
        return _backup(args, lang, out, err)
    if args.command == "web":
        from bot.web.cli import web_link

        return web_link(args, out, err)
    raise AssertionError(args.command)  # argparse only admits the commands above


def _check(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from bot.check_command import (
        BadInput,
        Defaults,
        check_main,
        parse_at,
        printable,
        read_history,
    )
    from bot.check_config import config_path, load_check_config
    from workflows.calendar import BusinessCalendar
    from workflows.checks import Checker, CheckSettings, MediaItem
    from workflows.errors import PostgateError

    lang = Lang(args.lang)
    path = config_path(args.config)
    explicit = bool(args.config or os.environ.get("POSTGATE_CONFIG"))
    settings, calendar = CheckSettings(), BusinessCalendar()
    platforms = tuple(Platform(p) for p in args.platforms or ())
    try:
        if explicit or path.is_file():
            config = load_check_config(path)
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
        at = (
            parse_at(args.at, lang) if args.at is not None else args.clock().astimezone(calendar.tz)
        )
        history = read_history(Path(args.history), lang) if args.history else ()
    except PostgateError as exc:  # BadInput, or bot.config's ConfigError
        err.write(printable(f"postgate check: {exc}\n"))
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


def _config_check(file: str | None, lang: Lang, out: IO[str], err: IO[str]) -> int:
    from bot.config import ConfigError, config_path, load_config

    path = config_path(file)
    try:
        config = load_config(path)
    except ConfigError as exc:
        err.write(f"{exc.message(lang)}\n")
        return EXIT_USAGE
    out.write(
        message(
            "cli.config_ok",
            lang,
            path=path,
            sections=len(config.sections),
            members=len(config.members),
            accounts=len(config.accounts),
        )
        + "\n"
    )
    return 0


def _doctor(args: argparse.Namespace, lang: Lang, out: IO[str]) -> int:
    """Exit 1 if anything blocks publishing."""
    import asyncio

    from bot.doctor import diagnose, print_report
    from handlers.drafts import utc_now

    report = asyncio.run(
        diagnose(config_file=args.config, environ=os.environ, clock=utc_now, lang=lang)
    )
    print_report(report, out, lang, at=utc_now())
    return 1 if report.blocking else 0


def _init(args: argparse.Namespace, lang: Lang, out: IO[str], err: IO[str]) -> int:
    """Questions only when a person is at the terminal; else options and defaults."""
    from bot.init_command import (
        ACCOUNT_COLUMNS,
        STAFF_COLUMNS,
        STAFF_OPTIONAL,
        InitError,
        Options,
        build,
        read_csv,
    )

    target = Path(args.output)
    if target.exists() and not args.force:
        err.write(f"postgate init: {message('init.exists', lang, path=target)}\n")
        return EXIT_USAGE
    ask = input if sys.stdin.isatty() else None
    options = Options(
        organisation=args.organisation,
        city_promotion=args.city_promotion,
        digital_promotion=args.digital_promotion,
        drafts_channel=args.drafts_channel,
        approvals_channel=args.approvals_channel,
        alerts_channel=args.alerts_channel,
    )
    try:
        accounts = read_csv(Path(args.accounts), ACCOUNT_COLUMNS)
        staff = read_csv(Path(args.staff), STAFF_COLUMNS, optional=STAFF_OPTIONAL)
        result = build(accounts, staff, options, ask=ask, lang=lang)
    except InitError as exc:
        err.write(f"postgate init: {exc.message(lang)}\n")
        return EXIT_USAGE
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        unreadable = message("init.unreadable", lang, path=exc.filename, error=reason)
        err.write(f"postgate init: {unreadable}\n")
        return EXIT_USAGE
    try:
        target.write_text(result.text, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        err.write(f"postgate init: {message('init.unwritable', lang, path=target, error=reason)}\n")
        return EXIT_USAGE
    counts = {"sections": result.sections, "members": len(staff), "accounts": len(accounts)}
    out.write(message("init.written", lang, path=target, **counts) + "\n\n")
    out.write(message("init.next_title", lang) + "\n")
    for i, step in enumerate(result.next_steps, start=1):
        out.write(f"{i}. {step}\n")
    return 0


def _backup(args: argparse.Namespace, lang: Lang, out: IO[str], err: IO[str]) -> int:
    from bot.backup import BackupError, backup, restore
    from storage.engine import database_url

    url = database_url(os.environ)
    file = Path(args.file)
    try:
        if args.command == "backup":
            done = backup(url, file, force=args.force)
            size = f"{file.stat().st_size / 1_000_000:.1f} MB"
            line = message(
                "backup.done", lang, target=file, size=size, count=done.count, hash=done.head
            )
        else:
            done = restore(url, file, force=args.force)
            line = message(
                "backup.restored",
                lang,
                source=file,
                database=url,
                count=done.count,
                hash=done.head,
            )
    except BackupError as exc:
        err.write(f"postgate {args.command}: {exc.message(lang)}\n")
        return EXIT_USAGE
    out.write(line + "\n")
    return 0


def _serve(args: argparse.Namespace, err: IO[str]) -> int:
    from bot.app import run
    from bot.config import ConfigError, load_config
    from bot.db_errors import unreachable_as_error
    from sns.common import SnsConfigError
    from storage.engine import Database, database_url
    from storage.migrate import DatabaseNotMigrated, ensure_migrated

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        err.write(f"postgate serve: {exc.message(Lang(args.lang))}\n")
        return EXIT_USAGE
    db = Database(database_url(os.environ))
    try:
        with unreachable_as_error(db.url):
            ensure_migrated(db)
    except DatabaseNotMigrated as exc:
        err.write(f"postgate serve: {exc.message(Lang(args.lang))}\n")
        return EXIT_USAGE
    db.check_writable()  # a read-only database: one line and exit 2 (main), not a start
    try:
        run(config, db, host=args.host, port=args.port, lang=Lang(args.lang))
    except SnsConfigError as exc:  # a malformed POSTGATE_*_API_URL or POSTGATE_SNS_TIMEOUT
        err.write(f"postgate serve: {message('cli.bad_setting', Lang(args.lang), error=exc)}\n")
        return EXIT_USAGE
    except ConfigError as exc:  # an environment variable the web console reads
        err.write(f"postgate serve: {exc.message(Lang(args.lang))}\n")
        return EXIT_USAGE
    return 0


def _db(command: str, lang: Lang, out: IO[str], err: IO[str]) -> int:
    from bot.db_errors import unreachable_as_error
    from storage.engine import Database, database_url
    from storage.migrate import current_revision, head_revision, upgrade

    db = Database(database_url(os.environ))
    try:
        with unreachable_as_error(db.url):
            if command == "upgrade":
                before = current_revision(db)
                upgrade(db)
                after = current_revision(db)
                out.write(
                    message("db.upgraded", lang, url=db.url, before=before or "-", after=after)
                    + "\n"
                )
            else:
                current, head = current_revision(db), head_revision()
                key = "db.up_to_date" if current == head else "db.behind"
                out.write(message(key, lang, url=db.url, current=current or "-", head=head) + "\n")
                return 0 if current == head else 1
    finally:
        db.dispose()
    del err
    return 0


def _slack_manifest(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from bot.config import ConfigError, config_path, load_config
    from bot.slack.manifest import dump, manifest

    mode = args.mode or ("socket" if os.environ.get("SLACK_APP_TOKEN") else "http")
    organisation = None
    path = config_path(args.config)
    if path.is_file():
        try:
            organisation = load_config(path).organisation.name
        except ConfigError:
            organisation = None
    try:
        data = manifest(mode=mode, url=args.url, organisation=organisation)
    except ValueError:
        err.write(f"postgate slack manifest: {message('cli.manifest_url', Lang(args.lang))}\n")
        return EXIT_USAGE
    out.write(dump(data, args.fmt))
    return 0


def _teams_manifest(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from bot.teams.manifest import package

    try:
        data = package(app_id=args.app_id, url=args.url, version=args.version)
    except ValueError as exc:
        err.write(f"postgate teams manifest: {exc}\n")
        return EXIT_USAGE
    Path(args.output).write_bytes(data)
    out.write(
        f"{args.output} を書き出しました。Teams 管理センターで組織のアプリとしてアップロードして"
        f"ください。 / Wrote {args.output}: upload it to the org catalog in the Teams admin "
        "center.\n"
    )
    return 0


def _audit(args: argparse.Namespace, out: TextIO, err: IO[str]) -> int:
    from bot.db_errors import unreachable_as_error
    from storage import audit
    from storage.engine import Database, database_url
    from storage.migrate import DatabaseNotMigrated, ensure_migrated

    lang = Lang(args.lang)
    name = f"postgate audit {args.audit_command}"
    anchor_file: Path | None = None
    if args.audit_command == "anchor":
        anchor_file = _anchor_file(args, err)
        if anchor_file is None:
            return EXIT_USAGE
    anchors: list[audit.Anchor] = []
    if args.audit_command == "verify" and args.anchors:
        try:
            anchors = audit.read_anchors(Path(args.anchors))
        except audit.AnchorFileError as exc:
            err.write(f"{name}: 記録点ファイルを読めません / cannot read the anchors: {exc}\n")
            return EXIT_USAGE
    db = Database(database_url(os.environ))
    try:
        with unreachable_as_error(db.url):
            ensure_migrated(db)
        if args.audit_command == "verify":
            return _verify(db, anchors, args.anchors, lang=lang, out=out, err=err)
        if args.audit_command == "anchor":
            from handlers.anchors import AuditAnchors

            assert anchor_file is not None
            try:
                head = AuditAnchors(db, anchor_file, clock=args.clock).anchor()
            except OSError as exc:
                err.write(f"{name}: {anchor_file}: 書き込めません / cannot write: {exc}\n")
                return EXIT_USAGE
            assert head is not None
            out.write(
                f"監査ログの記録点を追記しました / anchor appended to {anchor_file}: "
                f"{head.line()}\n"
            )
            _announce_anchor(args, head, out, err)
            return 0
        since = _parse_since(args.since)
        if since is None:
            err.write(
                f"postgate audit export: {message('audit.bad_since', lang, value=args.since)}\n"
            )
            return EXIT_USAGE
        stream = open(args.output, "w", encoding="utf-8", newline="") if args.output else out  # noqa: SIM115
        try:
            with db.session(read_only=True) as session:
                count = audit.export(session, since, args.fmt, stream)
        finally:
            if args.output:
                stream.close()
        err.write(message("audit.exported", lang, count=count) + "\n")
        return 0
    except DatabaseNotMigrated as exc:
        err.write(f"postgate audit: {exc.message(lang)}\n")
        return EXIT_USAGE
    finally:
        db.dispose()


def _announce_anchor(args: argparse.Namespace, head: Anchor, out: IO[str], err: IO[str]) -> None:
    """Where Slack is configured (SLACK_BOT_TOKEN, channels.alerts.slack), the anchor's short
    line goes to the alerts channel too; a failure to post is said, the file is already written."""
    import asyncio

    from bot.config import ConfigError, config_path, load_config
    from handlers.anchors import anchor_text

    token = os.environ.get("SLACK_BOT_TOKEN", "")
    path = config_path(args.config)
    if not token or not path.is_file():
        return
    try:
        alerts = load_config(path).channels.alerts
    except ConfigError:
        return
    if alerts is None or not alerts.slack:
        return
    channel = alerts.slack

    async def post() -> None:
        from slack_sdk.web.async_client import AsyncWebClient

        base = os.environ.get("SLACK_API_URL") or "https://slack.com/api/"
        client = AsyncWebClient(token=token, base_url=base if base.endswith("/") else base + "/")
        await client.chat_postMessage(
            channel=channel, text=anchor_text(head), unfurl_links=False, unfurl_media=False
        )

    import aiohttp
    from slack_sdk.errors import SlackApiError

    try:
        asyncio.run(post())
    except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
        err.write(
            "postgate audit anchor: Slack に投稿できませんでした / not posted to Slack: "
            f"{type(exc).__name__}\n"
        )
        return
    out.write(f"Slack の {channel} にも投稿しました / also posted to Slack {channel}\n")


def _anchor_file(args: argparse.Namespace, err: IO[str]) -> Path | None:
    """`audit anchor`'s file: --file, else app.yaml's audit.anchor_file (None: told why)."""
    from bot.config import ConfigError, config_path, load_config

    if args.file:
        return Path(args.file)
    try:
        configured = load_config(config_path(args.config)).audit.anchor_file
    except ConfigError as exc:
        err.write(f"postgate audit anchor: {exc}\n")
        return None
    if configured is None:
        err.write(
            "postgate audit anchor: 記録点ファイルが未設定です。app.yaml の audit.anchor_file "
            "を設定するか --file を指定してください / no anchor file: set audit.anchor_file in "
            "app.yaml or pass --file\n"
        )
    return configured


def _verify(
    db: Database,
    anchors: Sequence[Anchor],
    source: str | None,
    *,
    lang: Lang,
    out: TextIO,
    err: IO[str],
) -> int:
    """`audit verify [--anchors FILE]`: the links, then every anchor against the chain."""
    from storage import audit

    key = audit.audit_key()
    with db.session(read_only=True) as session:
        broken, head = audit.walk(session, key)
        moved = audit.check_anchors(session, anchors)
    if broken is not None:
        err.write(message("audit.broken", lang, broken=broken) + "\n")
    if moved is not None:
        err.write(message("audit.anchors_moved", lang, source=source, moved=moved) + "\n")
    if broken is not None or moved is not None:
        return 1
    extra = message("audit.keyed", lang, plain=head.plain) if key is not None else ""
    if source:
        extra += message("audit.anchors_match", lang, count=len(anchors))
    line = message(
        "audit.intact", lang, count=head.count, seq=head.seq, hash=head.hash, extra=extra
    )
    out.write(line + "\n")
    return 0


def _monitor_run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """`postgate monitor run [--account ID] [--impersonation]`: one poll now, printed."""
    import asyncio

    from bot.app import build_monitor, build_services
    from bot.config import ConfigError, load_config
    from handlers.monitors import report_lines
    from storage.engine import Database, database_url
    from storage.migrate import DatabaseNotMigrated, ensure_migrated

    name = "postgate monitor run"
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        err.write(f"{name}: {exc}\n")
        return EXIT_USAGE
    db = Database(database_url(os.environ))
    try:
        ensure_migrated(db)
        services = build_services(config, db)
        monitor = build_monitor(config, db, os.environ, incidents=services.incidents)
        if args.account and args.account not in monitor.watched:
            watched = ", ".join(monitor.watched) or "-"
            err.write(
                f"{name}: {message('monitor.not_watched', account=args.account, watched=watched)}\n"
            )
            asyncio.run(monitor.close())
            return EXIT_USAGE

        async def poll() -> list[str]:
            try:
                reports = await monitor.run_now(
                    account_id=args.account, impersonation=args.impersonation
                )
            finally:
                await monitor.close()
            return report_lines(reports)

        out.write("\n".join(asyncio.run(poll())) + "\n")
        return 0
    except DatabaseNotMigrated as exc:
        err.write(f"{name}: {exc}\n")
        return EXIT_USAGE
    finally:
        db.dispose()


def _publishing(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from bot.check_command import BadInput, parse_at
    from bot.config import ConfigError, load_config
    from bot.db_errors import unreachable_as_error
    from handlers.drafts import Actor
    from handlers.publishing import PublicationUseCases
    from storage.engine import Database, database_url
    from storage.migrate import DatabaseNotMigrated, ensure_migrated
    from workflows.errors import Refusal
    from workflows.publishing import PublicationState

    lang = Lang(args.lang)
    name = f"postgate {args.command}" + (
        f" {args.posts_command}" if args.command == "posts" else ""
    )
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        err.write(f"{name}: {exc.message(lang)}\n")
        return EXIT_USAGE
    db = Database(database_url(os.environ))
    try:
        with unreachable_as_error(db.url):
            ensure_migrated(db)
        uc = PublicationUseCases(
            db=db, directory=config.directory, calendar_for=config.calendar, clock=args.clock
        )
        if args.command == "posts" and args.posts_command == "list":
            known = [s.value for s in PublicationState]
            unknown = [s for s in args.state if s not in known]
            if unknown:
                names = ", ".join(known)
                err.write(
                    f"{name}: {message('posts.bad_state', lang, value=unknown[0], names=names)}\n"
                )
                return EXIT_USAGE
            rows = uc.list_publications(
                states=[PublicationState(s) for s in args.state],
                account_id=args.account,
                limit=args.limit,
                lang=lang,
            )
            _print_publications(rows, out, lang, as_json=args.json)
            return 0
        actor = Actor("cli", args.member)
        if args.command == "pause":
            paused = uc.pause(actor, account_id=args.account, reason=args.reason)
            line = message(
                "pause.started",
                lang,
                scope=_scope(args.account, lang),
                reason=paused.reason,
                count=len(paused.publication_ids),
            )
        elif args.command == "resume":
            resumed = uc.resume(actor, account_id=args.account)
            line = message(
                "pause.released",
                lang,
                scope=_scope(args.account, lang),
                count=len(resumed.publication_ids),
            )
        elif args.posts_command == "cancel":
            done = uc.cancel(actor, args.id, reason=args.reason).publication
            line = message("posts.cancelled", lang, publication=done.id, account=done.account_id)
        elif args.posts_command in _DELETION_COMMANDS:
            line = _deletions(args, config, db, actor, lang)
        elif args.posts_command == "review":
            done = uc.review(
                actor, args.id, published=args.published, not_published=args.not_published
            ).publication
            if done.state == PublicationState.PUBLISHED.value:
                link = done.permalink or done.platform_post_id or "-"
                line = message(
                    "posts.reviewed_published",
                    lang,
                    publication=done.id,
                    account=done.account_id,
                    link=link,
                )
            else:
                line = message(
                    "posts.reviewed_not_published",
                    lang,
                    publication=done.id,
                    account=done.account_id,
                )
        elif args.posts_command == "reschedule":
            result = uc.reschedule(actor, args.id, at=parse_at(args.at, lang), lang=lang)
            done = result.publication
            line = message(
                "posts.rescheduled",
                lang,
                publication=done.id,
                account=done.account_id,
                at=_tokyo(done.due_at),
            )
            line = "\n".join((line, *result.notes))
        elif args.posts_command == "retry":
            done = uc.retry(actor, args.id).publication
            line = message("posts.retried", lang, publication=done.id, account=done.account_id)
        else:
            done = uc.confirm(actor, args.id).publication
            line = message("posts.confirmed", lang, publication=done.id, account=done.account_id)
        out.write(line + "\n")
        return 0
    except BadInput as exc:
        err.write(f"{name}: {exc}\n")
        return EXIT_USAGE
    except Refusal as refusal:
        err.write(f"{name}: {refusal.message(lang)}\n")
        return 1
    except DatabaseNotMigrated as exc:
        err.write(f"{name}: {exc.message(lang)}\n")
        return EXIT_USAGE
    finally:
        db.dispose()


_DELETION_COMMANDS = ("delete-request", "delete-approve", "delete-reject", "correction")


def _deletions(
    args: argparse.Namespace, config: AppConfig, db: Database, actor: Actor, lang: Lang
) -> str:
    """`posts delete-request|delete-approve|delete-reject|correction`: the reply's lines."""
    from handlers.deletions import DeletionUseCases
    from handlers.drafts import DraftUseCases
    from workflows.deletion import RequestState

    drafts = DraftUseCases(
        db=db,
        directory=config.directory,
        check_settings=config.checks,
        calendar_for=config.calendar,
        clock=args.clock,
    )
    uc = DeletionUseCases(db=db, directory=config.directory, drafts=drafts, clock=args.clock)
    if args.posts_command == "correction":
        opened = uc.open_correction(actor, args.request).draft
        view = uc.get(args.request, lang=lang)
        return message("posts.correction_opened", lang, draft=opened.id, original=view.draft_id)
    if args.posts_command == "delete-request":
        request = uc.request(actor, args.id, reason=args.reason, lang=lang).request
        approvers = "、".join(dict.fromkeys(n for s in request.approvers.values() for n in s))
        accounts = ", ".join(t.account_id for t in request.targets)
        return "\n".join(
            (
                message(
                    "posts.delete_requested",
                    lang,
                    request=request.id,
                    draft=request.draft_id,
                    accounts=accounts,
                    approvers=approvers or "-",
                ),
                request.advice,
                message(
                    "posts.delete_correction_hint", lang, request=request.id, member=args.member
                ),
            )
        )
    if args.posts_command == "delete-reject":
        request = uc.reject(actor, args.request, reason=args.reason, lang=lang).request
        return message("posts.delete_rejected", lang, request=request.id, reason=args.reason)
    request = uc.approve(actor, args.request, lang=lang).request
    if request.state == RequestState.REQUESTED.value:
        sections = "、".join(request.pending_sections)
        return message(
            "posts.delete_approval_recorded", lang, request=request.id, sections=sections
        )
    accounts = ", ".join(t.account_id for t in request.targets)
    return message("posts.delete_approved", lang, request=request.id, accounts=accounts)


def _scope(account: str | None, lang: Lang) -> str:
    if account is None:
        return message("pause.scope_all", lang)
    return message("pause.scope_account", lang, account=account)


def _tokyo(at: datetime) -> str:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")


_POST_COLUMNS = (
    "id",
    "draft",
    "account",
    "state",
    "due",
    "attempts",
    "post_id",
    "permalink",
    "error",
)


def _print_publications(
    rows: Sequence[OutboxRow], out: IO[str], lang: Lang, *, as_json: bool
) -> None:
    """The list as JSON, or as a table (due times in Asia/Tokyo)."""
    import json
    from zoneinfo import ZoneInfo

    tokyo = ZoneInfo("Asia/Tokyo")
    if as_json:
        records = [
            {
                "id": r.id,
                "draft": r.draft_id,
                "revision": r.revision,
                "account": r.account_id,
                "state": r.state,
                "state_label": r.state_label,
                "due_at": r.due_at.astimezone(tokyo).isoformat(),
                "attempts": r.attempts,
                "platform_post_id": r.platform_post_id,
                "permalink": r.permalink,
                "last_error": r.last_error,
                "hold_reason": r.hold_reason,
                "emergency": r.emergency,
            }
            for r in rows
        ]
        out.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
        return
    if not rows:
        out.write(message("posts.empty", lang) + "\n")
        return

    table = [[message(f"posts.column.{c}", lang) for c in _POST_COLUMNS]]
    for r in rows:
        state = r.state_label + ("（緊急）" if r.emergency and lang is Lang.JA else "")
        state += " (emergency)" if r.emergency and lang is Lang.EN else ""
        note = r.last_error or ""
        if r.hold_reason:
            note = message(f"hold_reason.{r.hold_reason}", lang)
        table.append(
            [
                str(r.id),
                f"#{r.draft_id}",
                r.account_id,
                state,
                _tokyo(r.due_at),
                str(r.attempts),
                r.platform_post_id or "-",
                r.permalink or "-",
                note or "-",
            ]
        )
    widths = [max(display_width(line[i]) for line in table) for i in range(len(_POST_COLUMNS))]
    for line in table:
        cells = [cell + " " * (widths[i] - display_width(cell)) for i, cell in enumerate(line)]
        out.write("  ".join(cells).rstrip() + "\n")


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
