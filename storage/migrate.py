"""Schema migrations (Alembic), run from code: ``postgate db upgrade`` calls ``upgrade``.

The migration scripts ship inside the package (``storage/migrations``); no alembic.ini is read.
Every upgrade runs in one transaction on the Database's own engine, so on SQLite it starts with
``BEGIN IMMEDIATE`` and on PostgreSQL a failed migration leaves nothing half-done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.engine import Database
from workflows.catalogue import Lang, message
from workflows.errors import PostgateError

MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")
UPGRADE_COMMAND: Final = "postgate db upgrade"


class DatabaseNotMigrated(PostgateError):
    """The database schema is not the one this postgate expects; ``str()`` says what to run."""

    def __init__(self, url: str, current: str | None, head: str, *, newer: bool = False) -> None:
        self.url = url
        self.current = current
        self.head = head
        self.newer = newer
        super().__init__(url, current, head)

    def message(self, lang: Lang = Lang.JA) -> str:
        key = "db.newer" if self.newer else "db.not_migrated"
        current = self.current or message("db.none", lang)
        return message(
            key, lang, url=self.url, current=current, head=self.head, command=UPGRADE_COMMAND
        )

    def __str__(self) -> str:
        # Both, for logs and callers without a language; the CLI shows message(lang) alone.
        return f"{self.message(Lang.JA)}\n{self.message(Lang.EN)}"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migrations, without any file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest migration this postgate ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}")
    return head


def current_revision(db: Database) -> str | None:
    """The revision the database is at; None for an empty (never migrated) database."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default: the newest), in one transaction."""
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def ensure_migrated(db: Database) -> None:
    """Raise DatabaseNotMigrated unless the database is at this postgate's newest revision."""
    head = head_revision()
    current = current_revision(db)
    if current == head:
        return
    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    raise DatabaseNotMigrated(
        db.url, current, head, newer=current is not None and current not in known
    )


def new_revision(db: Database, message: str) -> None:
    """For developers: autogenerate a migration script from storage/tables.py against ``db``.

    After editing the tables, with ``db`` migrated to the current head::

        uv run python -c "from storage import engine, migrate; migrate.new_revision(
            engine.Database('sqlite:///dev.db'), 'add incident severity')"

    Read and tidy the generated file in storage/migrations/versions/ before committing it; the
    test comparing the migrations with the tables must still find no difference on SQLite and
    PostgreSQL.
    """
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
