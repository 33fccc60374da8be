"""What a service gathers for its consumer batch (`held_in_batch`): made once per batch,
written when the batch ends, in the order first used."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from pymongo.asynchronous.collection import AsyncCollection

from hnth_kit.batch_writes import batch_writes, flush_in_batch, held_in_batch, settle
from hnth_kit.mongo import Document


class Gathered:
    def __init__(self, name: str, written: list[tuple[str, list[int]]]) -> None:
        self.name, self.items, self._written = name, list[int](), written

    async def flush(self) -> None:
        self._written.append((self.name, self.items))


async def test_outside_a_batch_nothing_is_held() -> None:
    assert held_in_batch("notices", lambda: Gathered("notices", [])) is None


async def test_a_batch_gathers_once_per_key_and_writes_at_its_end_in_first_use_order() -> None:
    written: list[tuple[str, list[int]]] = []
    async with batch_writes():
        for n in range(3):
            for key in ("b", "a"):
                held = held_in_batch(key, lambda key=key: Gathered(key, written))
                assert held is not None
                held.items.append(n)
        assert written == [], "held until the batch ends"
    assert written == [("b", [0, 1, 2]), ("a", [0, 1, 2])]


async def test_a_flush_writes_what_is_held_so_far_and_the_rest_is_gathered_afresh() -> None:
    written: list[tuple[str, list[int]]] = []
    async with batch_writes():
        first = held_in_batch("a", lambda: Gathered("a", written))
        assert first is not None
        first.items.append(1)
        await flush_in_batch()
        second = held_in_batch("a", lambda: Gathered("a", written))
        assert second is not None
        assert second is not first
        second.items.append(2)
    assert written == [("a", [1]), ("a", [2])]


async def test_what_a_write_holds_while_the_batch_settles_is_written_too() -> None:
    written: list[tuple[str, list[int]]] = []

    class Decisions(Gathered):
        async def flush(self) -> None:
            await super().flush()  # then what follows from them, held as any write is
            timers = held_in_batch("timers", lambda: Gathered("timers", written))
            if timers is None:  # the batch has ended: written at once
                written.append(("timers", self.items))
            else:
                timers.items.extend(self.items)

    async with batch_writes():
        held = held_in_batch("decisions", lambda: Decisions("decisions", written))
        assert held is not None
        held.items.append(7)
        await flush_in_batch()
        assert written == [("decisions", [7]), ("timers", [7])]
        held = held_in_batch("decisions", lambda: Decisions("decisions", written))
        assert held is not None
        held.items.append(8)
    assert written[2:] == [("decisions", [8]), ("timers", [8])]


async def test_settling_a_collection_makes_what_is_held_for_it() -> None:
    written: list[tuple[str, list[int]]] = []
    decisions, other = _collection("decisions"), _collection("other")
    async with batch_writes():
        held = held_in_batch("a", lambda: Gathered("a", written), writes=decisions)
        assert held is not None
        held.items.append(1)
        await settle(other)
        assert written == [], "nothing held writes that collection"
        await settle(decisions)
        assert written == [("a", [1])]
    assert written == [("a", [1])], "written once"


def _collection(name: str) -> AsyncCollection[Document]:
    """Enough of a collection for the batch's bookkeeping, which only names it."""
    fake = SimpleNamespace(name=name, database=SimpleNamespace(name="db"))
    return cast("AsyncCollection[Document]", fake)


async def test_what_a_failed_flush_did_not_write_stays_held_for_the_next() -> None:
    """A settle whose write fails (the database away) raises into the handler that asked,
    which is retried: the earlier messages' rows must still be written, not dropped while
    their messages count as handled."""
    written: list[tuple[str, list[int]]] = []
    decisions = _collection("decisions")

    class Flaky(Gathered):
        failures = 1

        async def flush(self) -> None:
            if Flaky.failures:
                Flaky.failures -= 1
                raise ConnectionError("database away")
            await super().flush()

    async with batch_writes():
        first = held_in_batch("a", lambda: Gathered("a", written))
        flaky = held_in_batch("b", lambda: Flaky("b", written), writes=decisions)
        assert first is not None
        assert flaky is not None
        first.items.append(1)
        flaky.items.append(2)
        try:
            await settle(decisions)
        except ConnectionError:
            pass
        assert written == [("a", [1])]
        later = held_in_batch("c", lambda: Gathered("c", written))
        assert later is not None
        later.items.append(3)
        await settle(decisions)  # the handler's retry: still held for that collection
        assert written == [("a", [1]), ("b", [2]), ("c", [3])]
    assert written == [("a", [1]), ("b", [2]), ("c", [3])], "each written once"
