"""Loading the YAML data that sits beside each rule module."""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

RULES_DIR = Path(__file__).with_name("rules")


class RuleDataError(Exception):
    """A rule's data file is malformed or one of its specs fails (names file and entry)."""


_METHODS = ("search", "match", "fullmatch", "finditer", "sub")


class LazyPattern:
    """A regular expression compiled on first use, pickled as its source.

    The rule-data cache keeps rule data as a pickle, and unpickling a compiled pattern compiles it
    again: long patterns that most drafts never reach would cost every `postgate check` at start.
    The first call of any method compiles the pattern and puts the compiled pattern's own methods
    in place, so later calls cost what a compiled pattern's do.
    """

    __slots__ = ("finditer", "fullmatch", "match", "pattern", "search", "sub")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.search: Callable[..., re.Match[str] | None] = functools.partial(self._first, "search")
        self.match: Callable[..., re.Match[str] | None] = functools.partial(self._first, "match")
        self.fullmatch: Callable[..., re.Match[str] | None] = functools.partial(
            self._first, "fullmatch"
        )
        self.finditer: Callable[..., Iterator[re.Match[str]]] = functools.partial(
            self._first, "finditer"
        )
        self.sub: Callable[..., str] = functools.partial(self._first, "sub")

    def __reduce__(self) -> tuple[type[LazyPattern], tuple[str]]:
        return (LazyPattern, (self.pattern,))

    def compile(self) -> re.Pattern[str]:
        compiled = re.compile(self.pattern)
        for name in _METHODS:
            setattr(self, name, getattr(compiled, name))
        return compiled

    def _first(self, name: str, *args: Any) -> Any:
        return getattr(self.compile(), name)(*args)


def load_yaml(path: str | Path) -> Any:
    """Parse a YAML file; a bare name is looked up beside the rule modules."""
    import yaml  # noqa: PLC0415 - a warm cache never parses YAML: `postgate check` starts faster

    p = resolve(path)
    try:
        return yaml.load(p.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise RuleDataError(f"{p}: {exc}") from exc


def resolve(path: str | Path) -> Path:
    """A bare name is a file beside the rule modules."""
    p = Path(path)
    return RULES_DIR / p if not p.is_absolute() and p.parent == Path(".") else p


def cache_dir() -> Path | None:
    """Where built rule data is kept between runs: $POSTGATE_CACHE_DIR ("" turns it off), else
    the user's cache directory."""
    configured = os.environ.get("POSTGATE_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "postgate"


def cached(name: str, inputs: list[bytes], build: Callable[[], T]) -> T:
    """``build()``, or what it returned before for exactly these inputs.

    The key is a hash of ``inputs`` (the data file, the code that reads it, ...), the Python
    version and every module of ``workflows`` (a loader may build with another rule's helpers),
    so an edited file or a new release builds (and validates) again. A missing, unreadable or
    unwritable cache only costs the build.
    """
    digest = hashlib.sha256(sys.version.encode())
    digest.update(_code_digest())
    for part in inputs:
        digest.update(hashlib.sha256(part).digest())
    folder = cache_dir()
    path = folder / f"{name}-{digest.hexdigest()[:32]}.pickle" if folder else None
    if path is not None:
        try:
            with path.open("rb") as f:
                value: T = pickle.load(f)  # noqa: S301 - the user's own cache, written below
            return value
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass
    value = build()
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as out:
                pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(out.name, path)
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            pass
    return value


@functools.cache
def _code_digest() -> bytes:
    """A hash of the source of every module of the ``workflows`` package (about 1 ms)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parents[1].rglob("*.py")):
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(str(path).encode())
    return digest.digest()


def cached_data(*files: str) -> Callable[[Callable[[], T]], Callable[[], T]]:
    """Decorate a rule's zero-argument loader so that its result is kept in the cache.

    The key covers the data ``files``, the loader's module source and the shared checker code
    its specs run through: editing any of them loads, compiles and runs the specs again.
    Use with ``functools.cache`` on top.
    """

    def decorate(load: Callable[[], T]) -> Callable[[], T]:
        module = sys.modules[load.__module__]

        def loader() -> T:
            try:
                inputs = [resolve(f).read_bytes() for f in files]
                inputs += [Path(str(m.__file__)).read_bytes() for m in (module, *_shared())]
            except OSError:
                return load()  # the loader reports the missing file its own way
            return cached(f"{load.__module__}.{load.__name__}", inputs, load)

        return loader

    return decorate


def _shared() -> tuple[Any, ...]:
    from workflows.checks import hits, text  # noqa: PLC0415 - they import this module

    return (sys.modules[__name__], hits, text)
