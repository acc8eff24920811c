"""`postgate check`: the standalone checker (DESIGN.md §4), single or batch."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from workflows.catalogue import Lang, message
from workflows.checks import (
    Checker,
    CheckResult,
    DraftToCheck,
    Finding,
    MediaItem,
    PastPost,
    Platform,
    Severity,
)
from workflows.errors import PostgateError

TOKYO = ZoneInfo("Asia/Tokyo")
# Facebook's 63,206 characters is the longest post any platform takes; anything far beyond it is
# not a draft (a pasted file, a log) and is refused before any rule runs.
MAX_DRAFT_CHARS = 70_000
MAX_INPUT_BYTES = MAX_DRAFT_CHARS * 4

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


class BadInput(PostgateError):
    """The input is not a draft the checker can read; says what is wrong with it."""


@dataclass(frozen=True, slots=True)
class Defaults:
    """What a draft gets when it doesn't say: the command line's --platform, --at, ..."""

    platforms: tuple[Platform, ...]
    at: datetime
    emergency: bool
    media: tuple[MediaItem, ...]
    history: tuple[PastPost, ...]


def parse_at(value: str, lang: Lang) -> datetime:
    """ISO-8601; a time without an offset is read as Asia/Tokyo."""
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadInput(message("cli.bad_at", lang, value=value)) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=TOKYO)


def decode_draft(data: bytes, lang: Lang) -> str:
    """Bytes from a file or stdin -> draft text, refusing what is not a plausible draft."""
    if len(data) > MAX_INPUT_BYTES:
        raise BadInput(message("cli.too_large", lang, size=len(data), limit=MAX_DRAFT_CHARS))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(message("cli.not_utf8", lang, offset=exc.start + 1)) from None
    return validate_text(text, lang)


def validate_text(text: str, lang: Lang) -> str:
    if not text.strip():
        raise BadInput(message("cli.empty", lang))
    if len(text) > MAX_DRAFT_CHARS:
        raise BadInput(message("cli.too_long", lang, length=len(text), limit=MAX_DRAFT_CHARS))
    controls = sum(1 for ch in text if ch < " " and ch not in "\n\r\t")
    if "\x00" in text or controls > max(2, len(text) // 100):
        raise BadInput(message("cli.binary", lang))
    return text


def read_history(path: Path, lang: Lang) -> tuple[PastPost, ...]:
    """Recent posts for the duplicate rule: JSON lines (or one JSON array) of {text, at}."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(message("cli.history_unreadable", lang, path=path, error=exc)) from None
    stripped = raw.strip()
    items: list[Any]
    try:
        if stripped.startswith("["):
            items = json.loads(stripped)
        else:
            items = [json.loads(line) for line in raw.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise BadInput(message("cli.history_bad", lang, path=path, error=exc.msg)) from None
    posts: list[PastPost] = []
    for index, item in enumerate(items, 1):
        if not (isinstance(item, dict) and isinstance(item.get("text"), str)):
            raise BadInput(message("cli.history_bad", lang, path=path, error=f"#{index}: text"))
        at = parse_at(str(item.get("at", "")), lang)
        posts.append(PastPost(item["text"], at, item.get("account")))
    return tuple(posts)


def draft_from_json(obj: Any, defaults: Defaults, lang: Lang) -> DraftToCheck:
    """One batch line ({"id", "text", "platforms", "at", "emergency", "media"}) -> a draft."""
    if not isinstance(obj, dict):
        raise BadInput(message("cli.batch_not_object", lang))
    text = obj.get("text")
    if not isinstance(text, str):
        raise BadInput(message("cli.batch_field", lang, field="text", expected="string"))
    platforms = defaults.platforms
    if "platforms" in obj:
        raw = obj["platforms"]
        if not isinstance(raw, list) or not raw or not all(isinstance(p, str) for p in raw):
            raise BadInput(message("cli.batch_field", lang, field="platforms", expected="[x, ...]"))
        platforms = tuple(parse_platform(p, lang) for p in raw)
    at = defaults.at
    if obj.get("at") is not None:
        if not isinstance(obj["at"], str):
            raise BadInput(message("cli.batch_field", lang, field="at", expected="ISO-8601"))
        at = parse_at(obj["at"], lang)
    emergency = obj.get("emergency", defaults.emergency)
    if not isinstance(emergency, bool):
        raise BadInput(message("cli.batch_field", lang, field="emergency", expected="true|false"))
    media = defaults.media
    if "media" in obj:
        raw_media = obj["media"]
        if not isinstance(raw_media, list) or not all(isinstance(m, str) for m in raw_media):
            raise BadInput(message("cli.batch_field", lang, field="media", expected="[url, ...]"))
        media = tuple(MediaItem(m) for m in raw_media)
    return DraftToCheck(
        text=validate_text(text, lang),
        at=at,
        platforms=platforms,
        emergency=emergency,
        media=media,
        history=defaults.history,
    )


def parse_platform(value: str, lang: Lang) -> Platform:
    try:
        return Platform(value.strip().lower())
    except ValueError:
        names = ", ".join(p.value for p in Platform)
        raise BadInput(message("cli.bad_platform", lang, value=value, names=names)) from None


def run_single(
    checker: Checker,
    *,
    source: str | None,
    stdin: IO[bytes],
    defaults: Defaults,
    as_json: bool,
    out: IO[str],
) -> int:
    lang = checker.lang
    if source in (None, "-"):
        data = stdin.read(MAX_INPUT_BYTES + 1)
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise BadInput(
                message("cli.unreadable", lang, path=source, error=exc.strerror)
            ) from None
    text = decode_draft(data, lang)
    draft = DraftToCheck(
        text=text,
        at=defaults.at,
        platforms=defaults.platforms,
        emergency=defaults.emergency,
        media=defaults.media,
        history=defaults.history,
    )
    result = checker.check(draft)
    draft_id = None if source in (None, "-") else source
    if as_json:
        out.write(json.dumps(result.to_dict(draft_id), ensure_ascii=False) + "\n")
    else:
        out.write(render_text(text, result, lang))
    return EXIT_OK if result.ok else EXIT_ERRORS


def run_batch(checker: Checker, lines: Iterable[str], defaults: Defaults, out: IO[str]) -> int:
    """One result line per input line; a bad line gets an error object, the rest go on."""
    any_errors = any_bad = False
    lang = checker.lang
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        draft_id: Any = None
        try:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInput(message("cli.batch_bad_json", lang, error=exc.msg)) from None
            if isinstance(obj, dict):
                draft_id = obj.get("id")
            result = checker.check(draft_from_json(obj, defaults, lang))
        except BadInput as exc:
            any_bad = True
            record = {
                "id": draft_id,
                "ok": False,
                "line": number,
                "error": str(exc),
                "findings": [],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            continue
        any_errors |= not result.ok
        out.write(json.dumps(result.to_dict(draft_id), ensure_ascii=False) + "\n")
    if any_bad:
        return EXIT_USAGE
    return EXIT_ERRORS if any_errors else EXIT_OK


def batch_lines(path: str, lang: Lang) -> Iterator[str]:
    try:
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise BadInput(message("cli.unreadable", lang, path=path, error=exc.strerror)) from None
    with stream:
        try:
            yield from stream
        except UnicodeDecodeError as exc:
            raise BadInput(message("cli.not_utf8", lang, offset=exc.start + 1)) from None


_LABEL = {
    Severity.ERROR: "cli.label_error",
    Severity.WARNING: "cli.label_warning",
    Severity.INFO: "cli.label_info",
}


def render_text(text: str, result: CheckResult, lang: Lang) -> str:
    """Findings for a person at a terminal: severity, place, message, suggestion."""
    lines: list[str] = []
    for f in result.findings:
        where = _line_col(text, f) if f.end > f.start else "-"
        lines.append(f"{message(_LABEL[f.severity], lang)}  {f.rule}  {where}  {f.message}")
        if f.suggestion:
            lines.append(f"    → {message('cli.suggestion', lang)}: {f.suggestion}")
    counts = {s: sum(1 for f in result.findings if f.severity is s) for s in Severity}
    lines.append(
        message(
            "cli.summary",
            lang,
            errors=counts[Severity.ERROR],
            warnings=counts[Severity.WARNING],
            infos=counts[Severity.INFO],
        )
    )
    return "\n".join(lines) + "\n"


def _line_col(text: str, f: Finding) -> str:
    line = text.count("\n", 0, f.start) + 1
    col = f.start - (text.rfind("\n", 0, f.start) + 1) + 1
    return f"{line}:{col}"


def check_main(
    checker: Checker,
    *,
    sources: Sequence[str],
    batch: str | None,
    defaults: Defaults,
    as_json: bool,
    out: IO[str],
    err: IO[str],
) -> int:
    try:
        if batch is not None:
            return run_batch(checker, batch_lines(batch, checker.lang), defaults, out)
        if len(sources) > 1:
            raise BadInput(message("cli.one_file", checker.lang))
        return run_single(
            checker,
            source=sources[0] if sources else None,
            stdin=sys.stdin.buffer,
            defaults=defaults,
            as_json=as_json,
            out=out,
        )
    except BadInput as exc:
        err.write(f"postgate check: {exc}\n")
        return EXIT_USAGE
