"""`postgate doctor`: what works and what blocks publishing, in one table.

Each check is one row: ✓ works, ✗ blocks publishing, ! needs attention, – not applicable; every
✗ and ! says what to do. Calls to the platforms are read-only (the same clients the outbox and the
monitors use, with their base-URL and proxy settings): X ``users/me``, the Facebook page, the
Instagram user, LINE ``bot/info``, Slack ``auth.test`` and ``conversations.info``. The clock is
compared with the ``Date`` header of each platform's API host.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.cli_lang import display_width
from bot.config import AppConfig, ConfigError, config_path, load_config
from bot.slack.app import SlackSettings, web_client
from bot.teams.auth import Http, TeamsSettings, TokenSource
from sns.base import ErrorKind, SnsError
from sns.common import SnsConfigError
from sns.factory import REQUIRED_CREDENTIALS, SnsSettings, build_client
from storage.engine import Database, database_url
from storage.migrate import current_revision, head_revision
from workflows.catalogue import Lang, message
from workflows.org import Account

Clock = Callable[[], datetime]
Text = tuple[str, Mapping[str, object]]  # a catalogue key under doctor. and its parameters

# Below this much free disk beside a SQLite database, publishing is at risk (✗); below the second,
# a warning.
DISK_BLOCKING: Final = 100 * 1024 * 1024
DISK_WARNING: Final = 1024 * 1024 * 1024
# Clock skew: Slack refuses signatures over 300 s off and OAuth 1.0a (X) about as much.
SKEW_BLOCKING: Final = 300.0
SKEW_WARNING: Final = 30.0
DATE_TIMEOUT: Final = 10.0
CERT_WARNING: Final = timedelta(days=30)  # a Teams certificate this close to expiry: renew it


class Status(StrEnum):
    OK = "✓"
    BLOCKING = "✗"
    WARNING = "!"
    NOT_APPLICABLE = "–"


@dataclass(frozen=True, slots=True)
class Row:
    status: Status
    item: str
    result: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    rows: tuple[Row, ...]

    @property
    def blocking(self) -> int:
        return sum(1 for row in self.rows if row.status is Status.BLOCKING)


async def diagnose(
    *,
    config_file: str | None,
    environ: Mapping[str, str],
    clock: Clock,
    lang: Lang = Lang.JA,
) -> Report:
    """Every check, in the order an administrator fixes things."""
    say = _Say(lang)
    rows: list[Row] = []
    path = config_path(config_file)
    config: AppConfig | None = None
    try:
        config = load_config(path)
        rows.append(
            say.row(
                Status.OK,
                ("item.config", {"path": path}),
                (
                    "config.ok",
                    {
                        "sections": len(config.sections),
                        "members": len(config.members),
                        "accounts": len(config.accounts),
                    },
                ),
            )
        )
    except ConfigError as exc:
        first = exc.lines(lang)[0] if exc.problems else ""
        rows.append(
            say.row(
                Status.BLOCKING,
                ("item.config", {"path": path}),
                ("config.bad", {"count": len(exc.problems), "first": first}),
                ("config.fix", {}),
            )
        )
    rows += _database(database_url(environ), say)
    hosts: dict[str, None] = {}
    if config is not None:
        settings: SnsSettings | None = None
        try:
            settings = SnsSettings.from_env(environ)
        except SnsConfigError as exc:
            rows.append(
                say.row(
                    Status.BLOCKING,
                    ("item.account", {"account": "-", "platform": "-", "handle": "-"}),
                    ("account.bad_settings", {"error": exc}),
                )
            )
        if settings is not None:
            checks = [_account(a, environ, settings, say) for a in config.accounts]
            for account_rows, host in await asyncio.gather(*checks):
                rows += account_rows
                if host:
                    hosts[host] = None
    slack_rows, slack_host = await _slack(config, environ, say)
    rows += slack_rows
    if slack_host:
        hosts[slack_host] = None
    rows.append(await _teams(environ, clock, say))
    rows += await asyncio.gather(*(_clock(url, clock, say) for url in hosts))
    return Report(tuple(rows))


class _Say:
    """Catalogue texts in one language, for rows."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def __call__(self, key: str, **params: object) -> str:
        return message(f"doctor.{key}", self.lang, **params)

    def row(
        self,
        status: Status,
        item: Text,
        result: Text,
        fix: Text | None = None,
    ) -> Row:
        return Row(
            status,
            self(item[0], **item[1]),
            self(result[0], **result[1]),
            self(fix[0], **fix[1]) if fix else "",
        )


# ---------------------------------------------------------------- the database


def _database(url: str, say: _Say) -> list[Row]:
    parsed = make_url(url)
    sqlite_file = (
        Path(parsed.database)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
        else None
    )
    item = ("item.database", {"url": parsed.render_as_string(hide_password=True)})
    if sqlite_file is not None and not sqlite_file.exists():
        return [
            say.row(Status.BLOCKING, item, ("database.missing", {}), ("database.missing_fix", {})),
            *_disk(sqlite_file.parent, say),
        ]
    db = Database(url)
    try:
        try:
            current = current_revision(db)
        except OperationalError as exc:
            reason = _first_line(exc.orig or exc)
            return [
                say.row(
                    Status.BLOCKING,
                    item,
                    ("database.unreachable", {"reason": reason}),
                    ("database.unreachable_fix", {}),
                )
            ]
        head = head_revision()
        if current != head:
            row = say.row(
                Status.BLOCKING,
                item,
                ("database.behind", {"current": current or "-", "head": head}),
                ("database.behind_fix", {}),
            )
        else:
            refused = _write_refused(db)
            row = (
                say.row(
                    Status.BLOCKING,
                    item,
                    ("database.read_only", {"reason": refused}),
                    ("database.read_only_fix", {}),
                )
                if refused
                else say.row(Status.OK, item, ("database.ok", {"head": head}))
            )
    finally:
        db.dispose()
    if sqlite_file is None:
        disk = say.row(Status.NOT_APPLICABLE, ("item.disk", {"path": "-"}), ("disk.postgres", {}))
        return [row, disk]
    return [row, *_disk(sqlite_file.parent, say)]


def _write_refused(db: Database) -> str | None:
    """Why a write would fail, or None: a no-op UPDATE in a transaction that is rolled back."""
    try:
        with db.engine.connect() as connection:
            transaction = connection.begin()
            try:
                connection.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
            finally:
                transaction.rollback()
    except OperationalError as exc:
        return _first_line(exc.orig or exc)
    return None


def _disk(directory: Path, say: _Say) -> list[Row]:
    item = ("item.disk", {"path": directory.resolve()})
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return []  # the directory is missing: the database row already says what to do
    status = (
        Status.BLOCKING
        if free < DISK_BLOCKING
        else Status.WARNING
        if free < DISK_WARNING
        else Status.OK
    )
    if status is Status.OK:
        return [say.row(status, item, ("disk.ok", {"free": _size(free)}))]
    fix = ("disk.low_fix", {"minimum": _size(DISK_WARNING)})
    return [say.row(status, item, ("disk.low", {"free": _size(free)}), fix)]


def _size(count: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count / 1024:.0f} KB"


# ---------------------------------------------------------------- the accounts


async def _account(
    account: Account, environ: Mapping[str, str], settings: SnsSettings, say: _Say
) -> tuple[list[Row], str | None]:
    """The account's row, and the API host whose clock it would compare against."""
    item = (
        "item.account",
        {"account": account.id, "platform": account.platform.value, "handle": account.handle},
    )
    platform = account.platform.value
    if not account.credentials:
        names = ", ".join(REQUIRED_CREDENTIALS[account.platform])
        row = say.row(
            Status.BLOCKING,
            item,
            ("account.no_credentials", {}),
            ("account.no_credentials_fix", {"names": names}),
        )
        return [row], None
    unset = [env for env in account.credentials.values() if not (environ.get(env) or "").strip()]
    if unset:
        variables = ", ".join(unset)
        row = say.row(
            Status.BLOCKING,
            item,
            ("account.unset", {"variables": variables}),
            ("account.unset_fix", {"variables": variables}),
        )
        return [row], None
    credentials = account.credentials_from(environ) or {}
    host = _api_url(account, settings)
    try:
        client = build_client(account, credentials, settings)
    except SnsConfigError as exc:
        return [say.row(Status.BLOCKING, item, ("account.bad_settings", {"error": exc}))], None
    try:
        profile = await client.profile()
    except SnsError as exc:
        if exc.kind is ErrorKind.AUTH or exc.status in (401, 403):
            row = say.row(
                Status.BLOCKING,
                item,
                ("account.refused", {"error": exc.platform_message}),
                ("account.refused_fix", {"platform": platform}),
            )
        else:
            row = say.row(
                Status.BLOCKING,
                item,
                ("account.unreachable", {"error": exc}),
                ("account.unreachable_fix", {}),
            )
        return [row], host
    finally:
        await client.close()
    actual = profile.handle.lstrip("@")
    expected = account.handle.lstrip("@")
    if (
        account.platform.value in ("x", "instagram")
        and actual
        and actual.lower() != (expected.lower())
    ):
        row = say.row(
            Status.WARNING,
            item,
            ("account.other_handle", {"actual": actual, "handle": account.handle}),
            ("account.other_handle_fix", {}),
        )
    else:
        row = say.row(Status.OK, item, ("account.ok", {"name": profile.name, "actual": actual}))
    return [row], host


def _api_url(account: Account, settings: SnsSettings) -> str:
    match account.platform.value:
        case "x":
            return settings.x_api_url
        case "line":
            return settings.line_api_url
        case _:
            return settings.graph_api_url


# ---------------------------------------------------------------- chat


async def _slack(
    config: AppConfig | None, environ: Mapping[str, str], say: _Say
) -> tuple[list[Row], str | None]:
    item: Text = ("item.slack", {})
    settings = SlackSettings.from_env(environ)
    if settings is None:  # a city on Teams only does not need Slack
        status = Status.NOT_APPLICABLE if _teams_configured(environ) else Status.BLOCKING
        return [say.row(status, item, ("slack.off", {}), ("slack.off_fix", {}))], None
    client = web_client(settings)
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error", "")) or exc.response.status_code
        fix: Text = ("slack.refused_fix", {})
        return [say.row(Status.BLOCKING, item, ("slack.refused", {"error": error}), fix)], (
            settings.api_url
        )
    except (aiohttp.ClientError, TimeoutError) as exc:
        error = type(exc).__name__
        fix = ("slack.unreachable_fix", {})
        return [say.row(Status.BLOCKING, item, ("slack.unreachable", {"error": error}), fix)], None
    mode = settings.mode
    rows = [
        say.row(
            Status.OK,
            item,
            ("slack.ok", {"team": auth.get("team"), "user": auth.get("user"), "mode": mode}),
        )
    ]
    if config is not None:
        for channel, role in _channels(config):
            rows.append(await _channel(client, channel, role, say))
    return rows, settings.api_url


def _channels(config: AppConfig) -> Iterable[tuple[str, str]]:
    seen: set[str] = set()
    targets = [
        *((d.slack, "drafts") for d in config.channels.drafts),
        (config.channels.approvals.slack if config.channels.approvals else None, "approvals"),
        (config.channels.alerts.slack if config.channels.alerts else None, "alerts"),
    ]
    for channel, role in targets:
        if channel and channel not in seen:
            seen.add(channel)
            yield channel, role


async def _channel(client: AsyncWebClient, channel: str, role: str, say: _Say) -> Row:
    item = ("item.channel", {"channel": channel, "role": say(f"channel.role.{role}")})
    # Publishing needs the drafts and approvals channels; an alerts channel the bot cannot post
    # to loses the @channel card, not a post (the contacts still get DMs).
    missing = Status.BLOCKING if role != "alerts" else Status.WARNING
    try:
        answer = await client.conversations_info(channel=channel)
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        fix: Text = ("channel.not_found_fix", {})
        return say.row(missing, item, ("channel.not_found", {"error": error}), fix)
    data = answer.get("channel") or {}
    name = data.get("name") or channel
    if data.get("is_member"):
        return say.row(Status.OK, item, ("channel.ok", {"name": name}))
    fix = ("channel.not_member_fix", {})
    return say.row(missing, item, ("channel.not_member", {"name": name}), fix)


def _teams_configured(environ: Mapping[str, str]) -> bool:
    try:
        return TeamsSettings.from_env(environ) is not None
    except ConfigError:  # configured, with a certificate that cannot be used (its own row)
        return True


async def _teams(environ: Mapping[str, str], clock: Clock, say: _Say) -> Row:
    """Teams: the bot's own token, by the same client-credentials call the adapter makes (with
    the secret, or the certificate's signed assertion — whose expiry is checked first)."""
    item: Text = ("item.teams", {})
    try:
        settings = TeamsSettings.from_env(environ)
    except ConfigError as exc:
        problem = ("teams.bad_certificate", {"problem": " ".join(exc.lines(say.lang))})
        return say.row(Status.BLOCKING, item, problem, ("teams.bad_certificate_fix", {}))
    if settings is None:
        return say.row(Status.NOT_APPLICABLE, item, ("teams.off", {}))
    certificate = settings.certificate
    until = certificate.not_after.date().isoformat() if certificate else ""
    if certificate is not None and certificate.not_after <= clock():
        expired = ("teams.cert_expired", {"until": until})
        return say.row(Status.BLOCKING, item, expired, ("teams.cert_renew_fix", {}))
    host = urlsplit(settings.token_url).netloc
    http = Http()
    try:
        await TokenSource(settings=settings, http=http, clock=clock).token()
    except aiohttp.ClientResponseError as exc:
        refused = ("teams.refused", {"status": exc.status})
        return say.row(Status.BLOCKING, item, refused, ("teams.refused_fix", {}))
    except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
        unreachable = ("teams.unreachable", {"host": host, "error": type(exc).__name__})
        return say.row(Status.BLOCKING, item, unreachable, ("teams.unreachable_fix", {}))
    finally:
        await http.close()
    if certificate is None:
        return say.row(Status.OK, item, ("teams.ok", {"host": host}))
    issued = ("teams.ok_certificate", {"host": host, "until": until})
    if certificate.not_after - clock() < CERT_WARNING:
        return say.row(Status.WARNING, item, issued, ("teams.cert_renew_fix", {}))
    return say.row(Status.OK, item, issued)


# ---------------------------------------------------------------- the clock


async def _clock(base_url: str, clock: Clock, say: _Say) -> Row:
    host = urlsplit(base_url).netloc
    item = ("item.clock", {"host": host})
    timeout = aiohttp.ClientTimeout(total=DATE_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout, trust_env=True) as session,
            session.get(base_url, allow_redirects=False) as response,
        ):
            header = response.headers.get("Date", "")
        theirs = parsedate_to_datetime(header)
    except (aiohttp.ClientError, TimeoutError, TypeError, ValueError) as exc:
        return say.row(Status.WARNING, item, ("clock.no_date", {"error": type(exc).__name__}))
    skew = abs((clock() - theirs).total_seconds())
    shown = f"{skew:.0f}"
    if skew <= SKEW_WARNING:
        return say.row(Status.OK, item, ("clock.ok", {"skew": shown}))
    status = Status.BLOCKING if skew > SKEW_BLOCKING else Status.WARNING
    return say.row(status, item, ("clock.off", {"skew": shown}), ("clock.off_fix", {}))


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# ---------------------------------------------------------------- the table


def print_report(report: Report, out: IO[str], lang: Lang, *, at: datetime) -> None:
    say = _Say(lang)
    shown = at.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M")
    out.write(say("title", at=shown) + "\n")
    out.write(say("legend") + "\n\n")
    width = max((display_width(row.item) for row in report.rows), default=0)
    for row in report.rows:
        pad = " " * (width - display_width(row.item))
        out.write(f"{row.status.value} {row.item}{pad}  {row.result}\n")
        if row.fix and row.status in (Status.BLOCKING, Status.WARNING):
            out.write(say("fix", fix=row.fix) + "\n")
    out.write("\n")
    if report.blocking:
        out.write(say("summary_blocked", count=report.blocking) + "\n")
    else:
        out.write(say("summary_ok") + "\n")
