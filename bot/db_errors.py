"""The database cannot be reached: one error with a message for people, no traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import OperationalError

from workflows.catalogue import Lang, message
from workflows.errors import PostgateError


class DatabaseUnreachable(PostgateError):
    """The database cannot be opened or reached; says which and what to check."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(url, reason)

    def message(self, lang: Lang = Lang.JA) -> str:
        return message("cli.database_unreachable", lang, url=self.url, reason=self.reason)

    def __str__(self) -> str:
        return self.message()


@contextmanager
def unreachable_as_error(url: str) -> Iterator[None]:
    """SQLAlchemy's connection failures as a ``DatabaseUnreachable`` (no traceback for people)."""
    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise DatabaseUnreachable(url, reason) from None
