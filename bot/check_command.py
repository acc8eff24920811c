"""`postgate check`: the standalone checker (DESIGN.md §4), single or batch."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
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
# The limit is in characters; UTF-8 takes at most 4 bytes for one, plus a BOM and a line end.
MAX_INPUT_BYTES = MAX_DRAFT_CHARS * 4 + 8
# Dates outside these years are not a publish time; the calendar arithmetic is kept well inside
# what Python's dates can hold.
FIRST_YEAR, LAST_YEAR = 1900, 2999
# A batch line holds one draft as JSON: its text escaped (\\uXXXX is 6 bytes) and a few fields.
MAX_LINE_BYTES = MAX_DRAFT_CHARS * 6 + 4096
# JSON nested deeper than this is not a batch line (json.loads would recurse out of stack).
MAX_JSON_DEPTH = 64

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
    if not value.strip():
        raise BadInput(message("cli.bad_at", lang, value=value))
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadInput(message("cli.bad_at", lang, value=value)) from None
    if not FIRST_YEAR <= at.year <= LAST_YEAR:
        raise BadInput(
            message("cli.at_out_of_range", lang, value=value, first=FIRST_YEAR, last=LAST_YEAR)
        )
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
    if has_surrogates(text):
        raise BadInput(message("cli.surrogate", lang))
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
    stripped = raw.strip().removeprefix("\ufeff")
    items: Any
    try:
        if stripped.startswith("["):
            items = parse_json(stripped, lang)
        else:
            items = [parse_json(line, lang) for line in stripped.split("\n") if line.strip()]
    except BadInput as exc:
        raise BadInput(message("cli.history_bad", lang, path=path, error=exc)) from None
    if not isinstance(items, list):
        raise BadInput(message("cli.history_bad", lang, path=path, error="[...]"))
    posts: list[PastPost] = []
    for index, item in enumerate(items, 1):
        if not (isinstance(item, dict) and isinstance(item.get("text"), str)):
            raise BadInput(message("cli.history_bad", lang, path=path, error=f"#{index}: text"))
        if not isinstance(item.get("at"), str) or has_surrogates(item["text"]):
            raise BadInput(message("cli.history_bad", lang, path=path, error=f"#{index}: at"))
        at = parse_at(item["at"], lang)
        account = item.get("account")
        posts.append(PastPost(item["text"], at, account if isinstance(account, str) else None))
    return tuple(posts)


def has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (from JSON's \\ud800 or undecodable argv)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def parse_json(line: str, lang: Lang) -> Any:
    """One JSON value, refusing what json.loads would choke on or echo as invalid JSON.

    Control characters inside strings (a raw CR from a spreadsheet) are taken as they are.
    NaN and Infinity are not JSON; nesting past MAX_JSON_DEPTH and integers past Python's
    digit limit are refused with a message instead of an exception from the parser.
    """
    opened = line.count("[") + line.count("{")
    if opened > MAX_JSON_DEPTH and _nesting(line) > MAX_JSON_DEPTH:
        raise BadInput(message("cli.json_too_deep", lang, limit=MAX_JSON_DEPTH))
    try:
        return json.loads(line, parse_constant=_no_constant, strict=False)
    except json.JSONDecodeError as exc:
        raise BadInput(message("cli.batch_bad_json", lang, error=exc.msg)) from None
    except (ValueError, RecursionError) as exc:
        # parse_constant (NaN, Infinity) or an integer longer than Python reads.
        raise BadInput(message("cli.batch_bad_json", lang, error=str(exc)[:80])) from None


def _nesting(line: str) -> int:
    """How deep brackets nest in ``line``, outside strings (linear, never recursive)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in line:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


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
                message("cli.unreadable", lang, path=printable(source), error=exc.strerror)
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
    result = checked(checker, draft)
    draft_id = None if source in (None, "-") else source
    if as_json:
        out.write(_json_line(result.to_dict(draft_id)))
    else:
        out.write(printable(render_text(text, result, lang)))
    return EXIT_OK if result.ok else EXIT_ERRORS


def run_batch(
    checker: Checker,
    lines: Iterable[bytes | None],
    defaults: Defaults,
    out: IO[str],
    progress: IO[str] | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """One result line per input line, in order; a bad line gets an error object, the rest go on.

    ``lines`` are raw bytes split at LF only (a CR inside a line is part of it), so that invalid
    UTF-8 spoils only its own line; None stands for a line longer than MAX_LINE_BYTES.
    ``progress``, when given, gets a count and rate now and then.
    """
    any_errors = any_bad = False
    lang = checker.lang
    meter = _Progress(progress, lang, clock) if progress is not None else None
    for number, raw in enumerate(lines, 1):
        line = raw[3:] if number == 1 and raw and raw.startswith(b"\xef\xbb\xbf") else raw
        if line is not None and not line.strip():
            continue
        draft_id: Any = None
        try:
            if line is None:
                raise BadInput(message("cli.batch_line_too_long", lang, limit=MAX_LINE_BYTES))
            obj = parse_json(_decode_line(line, lang), lang)
            if isinstance(obj, dict):
                draft_id = _echoable_id(obj.get("id"))
            result = checked(checker, draft_from_json(obj, defaults, lang))
        except BadInput as exc:
            any_bad = True
            error = str(exc)
            record = {"id": draft_id, "ok": False, "line": number, "error": error, "findings": []}
            out.write(_json_line(record))
        else:
            any_errors |= not result.ok
            out.write(_json_line(result.to_dict(draft_id)))
        if meter is not None:
            meter.tick(number)
    if meter is not None:
        meter.done()
    if any_bad:
        return EXIT_USAGE
    return EXIT_ERRORS if any_errors else EXIT_OK


def checked(checker: Checker, draft: DraftToCheck) -> CheckResult:
    """The checker's result; a fault inside a rule becomes this draft's error, not a crash.

    This is the checker's error boundary for the command line: one draft that trips a bug in a
    rule must not cost the other lines of a batch their answers.
    """
    try:
        return checker.check(draft)
    except Exception as exc:  # the boundary: reported, never a traceback
        raise BadInput(message("cli.check_failed", checker.lang, error=type(exc).__name__)) from exc


def _decode_line(line: bytes, lang: Lang) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(message("cli.not_utf8", lang, offset=exc.start + 1)) from None


def _echoable_id(value: Any) -> Any:
    """The draft's id as the result repeats it: a lone surrogate cannot be written as UTF-8."""
    if isinstance(value, str) and has_surrogates(value):
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
    return value


# Characters that str.splitlines and some JSON-lines readers take as a line end; JSON only has
# them inside strings, where they may as well be escaped.
_LINE_BREAKS = re.compile("[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _json_line(record: Any) -> str:
    """One JSON line; text that cannot be UTF-8 (a quoted lone surrogate) is written escaped."""
    line = json.dumps(record, ensure_ascii=False, allow_nan=False)
    if has_surrogates(line):
        line = json.dumps(record, ensure_ascii=True, allow_nan=False)
    return _LINE_BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", line) + "\n"


class _Progress:
    """ "N件 (M件/秒)" on a terminal's stderr, at most twice a second, cleared at the end."""

    def __init__(self, err: IO[str], lang: Lang, clock: Callable[[], float]) -> None:
        self.err, self.lang, self.clock = err, lang, clock
        self.started = self.shown = clock()
        self.count = 0

    def tick(self, count: int) -> None:
        self.count = count
        now = self.clock()
        if now - self.shown >= 0.5:
            self.shown = now
            rate = count / max(now - self.started, 1e-9)
            self.err.write("\r" + message("cli.batch_progress", self.lang, count=count, rate=rate))
            self.err.flush()

    def done(self) -> None:
        if self.shown > self.started:
            self.err.write("\r\033[K")
            self.err.flush()


def batch_lines(path: str, lang: Lang) -> Iterator[bytes | None]:
    """The lines of a batch file or stdin as bytes, split at LF only; None for one too long."""
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise BadInput(
            message("cli.unreadable", lang, path=printable(path), error=exc.strerror)
        ) from None
    with stream:
        yield from split_lines(stream)


def split_lines(stream: IO[bytes]) -> Iterator[bytes | None]:
    """Lines split at LF only (CRLF loses its CR too); None for a line over MAX_LINE_BYTES."""
    while line := stream.readline(MAX_LINE_BYTES + 1):
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                pass  # skip the rest of the line, a bounded piece at a time
            yield None
            continue
        yield line.removesuffix(b"\n").removesuffix(b"\r")


def printable(text: str) -> str:
    """``text`` safe to write as UTF-8 (undecodable bytes from argv become \\xNN escapes)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


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
            lines = batch_lines(batch, checker.lang)
            return run_batch(checker, lines, defaults, out, err if err.isatty() else None)
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
        err.write(printable(f"postgate check: {exc}\n"))
        return EXIT_USAGE
