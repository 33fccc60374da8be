"""What a service gathers for its consumer batch (`held_in_batch`): made once per batch,
written when the batch ends, in the order first used."""

from __future__ import annotations

from hnth_kit.batch_writes import batch_writes, flush_in_batch, held_in_batch


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
