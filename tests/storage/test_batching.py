"""Group commit: what waits together is written together; one item's problem stays its own."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from storage.batching import GroupCommit


class Writes:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def __call__(self, items: Sequence[str]) -> list[str | Exception]:
        self.batches.append(list(items))
        if "poison" in items:
            raise RuntimeError("the whole transaction failed")
        return [LookupError(i) if i == "refused" else f"stored {i}" for i in items]


async def test_items_waiting_together_share_one_write_and_problems_stay_their_own() -> None:
    writes = Writes()
    commit: GroupCommit[str, str] = GroupCommit(writes, limit=10)
    items = ["a", "refused", "poison", "b"]
    results = await asyncio.gather(*(commit.submit(i) for i in items), return_exceptions=True)
    assert results[0] == "stored a"
    assert isinstance(results[1], LookupError)
    assert isinstance(results[2], RuntimeError)
    assert results[3] == "stored b"
    # One transaction for all four; it failed, so each was written again on its own.
    assert writes.batches == [items, ["a"], ["refused"], ["poison"], ["b"]]


async def test_batches_are_at_most_the_limit_and_the_first_item_does_not_wait() -> None:
    writes = Writes()
    commit: GroupCommit[str, str] = GroupCommit(writes, limit=2)
    assert await commit.submit("alone") == "stored alone"
    results = await asyncio.gather(*(commit.submit(str(n)) for n in range(5)))
    assert results == [f"stored {n}" for n in range(5)]
    assert writes.batches == [["alone"], ["0", "1"], ["2", "3"], ["4"]]


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        GroupCommit(Writes(), limit=0)
