"""Group commit: many small writes from concurrent tasks, one transaction per batch.

A task ``await``s ``GroupCommit.submit(item)``; whatever items are waiting when the writer is free
go to ``write(items)`` together, in a worker thread, and each task gets its own result (or its
own exception) back once that transaction has committed. Nothing waits on a timer: the first item
is written at once, and only what arrives while a batch is being written shares the next one.

``write`` returns one result per item, in order; an item it could not apply gets an exception in
its place, so one item's problem does not fail the others. If ``write`` raises for a batch of
several, each of its items is written again on its own, so a poisoned item fails alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Batches submitted items into ``write`` calls (one transaction each), ``limit`` at most."""

    def __init__(self, write: Callable[[Sequence[T]], Sequence[R | Exception]], limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._write = write
        self._limit = limit
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write ``item`` with whatever else is waiting; its result once committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain(), name="group-commit")
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._limit]
                del self._waiting[: self._limit]
                try:
                    results = await asyncio.to_thread(self._write_safely, [i for i, _ in batch])
                except asyncio.CancelledError:
                    for _, future in (*batch, *self._waiting):
                        future.cancel()
                    self._waiting.clear()
                    raise
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue  # its task was cancelled meanwhile
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._writer = None

    def _write_safely(self, items: Sequence[T]) -> list[R | Exception]:
        try:
            results = list(self._write(items))
        except Exception as error:
            if len(items) == 1:
                return [error]
            return [self._write_safely([item])[0] for item in items]
        if len(results) != len(items):
            raise AssertionError("write must return one result per item")
        return results
