"""`postgate backup FILE` and `postgate restore FILE` for the SQLite database.

Both copy with SQLite's online backup API (``sqlite3.Connection.backup``): a backup may run while
postgate serves (it sees one consistent snapshot, WAL included); a restore replaces the database
page by page and must run with postgate stopped. Every copy is checked afterwards the way
``postgate audit verify`` checks the database: the whole hash chain, and the migration revision.
PostgreSQL is backed up with pg_dump (see the README).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from storage import audit
from storage.engine import Database
from storage.migrate import current_revision, head_revision
from workflows.catalogue import Lang, message
from workflows.errors import PostgateError


class BackupError(PostgateError):
    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(key, params)

    def message(self, lang: Lang = Lang.JA) -> str:
        return message(f"backup.{self.key}", lang, **self.params)

    def __str__(self) -> str:
        return self.message()


@dataclass(frozen=True, slots=True)
class Verified:
    count: int
    head: str


def sqlite_file(url: str) -> Path:
    """The database file of a ``sqlite:///FILE`` URL; BackupError for anything else."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError("postgres")
    if parsed.database in (None, "", ":memory:"):
        raise BackupError("memory")
    return Path(parsed.database)


def backup(url: str, target: Path, *, force: bool = False) -> Verified:
    source = sqlite_file(url)
    if not source.is_file():
        raise BackupError("no_database", path=source)
    if target.exists() and not force:
        raise BackupError("target_exists", path=target)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    _copy(source, partial)
    try:
        verified = verify(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)  # the backup file appears only once it is whole and verified
    return verified


def restore(url: str, source: Path, *, force: bool = False) -> Verified:
    target = sqlite_file(url)
    if not source.is_file():
        raise BackupError("no_file", path=source)
    verify(source)  # never replace a database with a broken copy
    if target.exists() and not force:
        raise BackupError("replace_needs_force", path=target)
    _copy(source, target)
    return verify(target)


def verify(path: Path) -> Verified:
    """The file is a postgate database at this revision whose audit chain is whole."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as check:
            check.execute("PRAGMA schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError("not_sqlite", path=path, error=exc) from None
    db = Database(f"sqlite:///{path}")
    try:
        current, head = current_revision(db), head_revision()
        if current != head:
            raise BackupError("not_migrated", path=path, current=current or "-", head=head)
        with db.session(read_only=True) as session:
            broken, chain = audit.walk(session)
    finally:
        db.dispose()
    if broken is not None:
        raise BackupError("broken", path=path, broken=broken)
    return Verified(chain.count, chain.hash)


def _copy(source: Path, target: Path) -> None:
    try:
        with (
            closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)
    except sqlite3.DatabaseError as exc:
        raise BackupError("failed", error=exc) from None
