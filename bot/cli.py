"""The `postgate` command: serve, check, config check, db, audit, posts (the outbox, reviews and
deletions), pause and resume.

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

from workflows.catalogue import Lang, message
from workflows.checks import Platform

if TYPE_CHECKING:
    from bot.config import AppConfig
    from handlers.drafts import Actor
    from handlers.views import OutboxRow
    from storage.engine import Database

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
    for command in (cancel, reschedule, confirm, review, delete_request):
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
    args = _parser().parse_args(argv)
    args.clock = clock
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
    if args.command == "slack":
        return _slack_manifest(args, sys.stdout, sys.stderr)
    if args.command in ("posts", "pause", "resume"):
        return _publishing(args, sys.stdout, sys.stderr)
    if args.command == "web":
        from bot.web.cli import web_link

        return web_link(args, sys.stdout, sys.stderr)
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
        at = parse_at(args.at, lang) if args.at else args.clock().astimezone(calendar.tz)
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
    try:
        run(config, db, host=args.host, port=args.port)
    except ConfigError as exc:  # an environment variable the web console reads
        err.write(f"postgate serve: {exc}\n")
        return EXIT_USAGE
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
    except ValueError as exc:
        err.write(f"postgate slack manifest: {exc}\n")
        return EXIT_USAGE
    out.write(dump(data, args.fmt))
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


def _publishing(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from bot.check_command import BadInput, parse_at
    from bot.config import ConfigError, load_config
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
        err.write(f"{name}: {exc}\n")
        return EXIT_USAGE
    db = Database(database_url(os.environ))
    try:
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
        err.write(f"{name}: {exc}\n")
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
    import unicodedata
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

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

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
    widths = [max(width(line[i]) for line in table) for i in range(len(_POST_COLUMNS))]
    for line in table:
        cells = [cell + " " * (widths[i] - width(cell)) for i, cell in enumerate(line)]
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
