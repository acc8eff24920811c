"""Loading the YAML data that sits beside each rule module."""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import pickle
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

RULES_DIR = Path(__file__).with_name("rules")


class RuleDataError(Exception):
    """A rule's data file is malformed or one of its specs fails (names file and entry)."""


_METHODS = ("search", "match", "fullmatch", "finditer", "sub")


class LazyPattern:
    """A regular expression of rule data, compiled on first use or when the data is cached.

    Rule data built without the cache (``POSTGATE_CACHE_DIR=""``, an unwritable cache) compiles
    only the patterns its specs and the drafts reach. The cache keeps them all compiled: a
    compiled pattern is pickled as its program (see ``_Pickler``), which loads in microseconds
    where compiling a wide pattern of Japanese text takes milliseconds. The first call of any
    method compiles the pattern and puts the compiled pattern's own methods in place, so later
    calls cost what a compiled pattern's do.
    """

    __slots__ = ("compiled", "finditer", "fullmatch", "match", "pattern", "search", "sub")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.compiled: re.Pattern[str] | None = None
        self.search: Callable[..., re.Match[str] | None] = functools.partial(self._first, "search")
        self.match: Callable[..., re.Match[str] | None] = functools.partial(self._first, "match")
        self.fullmatch: Callable[..., re.Match[str] | None] = functools.partial(
            self._first, "fullmatch"
        )
        self.finditer: Callable[..., Iterator[re.Match[str]]] = functools.partial(
            self._first, "finditer"
        )
        self.sub: Callable[..., str] = functools.partial(self._first, "sub")

    @classmethod
    def of(cls, compiled: re.Pattern[str]) -> LazyPattern:
        """A LazyPattern of a pattern compiled already."""
        lazy = cls(compiled.pattern)
        lazy._use(compiled)
        return lazy

    def __reduce__(self) -> tuple[Callable[[re.Pattern[str]], LazyPattern], tuple[Any]]:
        return (LazyPattern.of, (self.compiled or self.compile(),))

    def compile(self) -> re.Pattern[str]:
        compiled = re.compile(self.pattern)
        self._use(compiled)
        return compiled

    def _use(self, compiled: re.Pattern[str]) -> None:
        self.compiled = compiled
        for name in _METHODS:
            setattr(self, name, getattr(compiled, name))

    def _first(self, name: str, *args: Any) -> Any:
        return getattr(self.compile(), name)(*args)


# CPython's regular-expression compiler in its parts (internal): the parser, and the code
# generator whose output re.compile hands to _sre.compile last.
_parser: Any = importlib.import_module("re._parser")
_compiler: Any = importlib.import_module("re._compiler")


class _Pickler(pickle.Pickler):
    """Pickles a compiled pattern as its compiled program, not (as pickle does) as its source.

    Unpickling a pattern pickled as its source runs the regular-expression compiler again, which
    in Python is slow for the wide character classes of Japanese text (a class of the CJK
    ideographs alone takes about 1.5 ms): tens of milliseconds of every `postgate check`. The
    program is what CPython's compiler (``re._compiler.compile``) hands to ``_sre.compile``
    last; the cache key holds the Python version, which fixes that format.
    """

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, re.Pattern) and isinstance(obj.pattern, str):
            return _program(obj) or NotImplemented
        return NotImplemented


def _program(
    pattern: re.Pattern[str],
) -> tuple[Callable[..., re.Pattern[str]], tuple[Any, ...]] | None:
    """``(_sre.compile, its arguments)`` as ``re._compiler.compile`` computes them, if they
    make a pattern equal to ``pattern`` (same source, flags and code); else None."""
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
        code = [int(op) for op in _compiler._code(tree, pattern.flags)]
        state = tree.state
        indexgroup: list[str | None] = [None] * state.groups
        for name, index in state.groupdict.items():
            indexgroup[index] = name
        args = (
            pattern.pattern,
            pattern.flags | state.flags,
            code,
            state.groups - 1,
            dict(state.groupdict),
            tuple(indexgroup),
        )
        rebuilt = _compiler._sre.compile(*args)
    except (AttributeError, TypeError, ValueError, re.error):  # another Python's internals
        return None
    if rebuilt != pattern or rebuilt.groupindex != pattern.groupindex:
        return None
    return _compiler._sre.compile, args


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
            import tempfile  # noqa: PLC0415 - only on a build: it imports random, shutil, bz2, lzma

            with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False) as out:
                _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
            os.replace(out.name, path)
        except (OSError, pickle.PicklingError, TypeError, AttributeError, re.error):
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
