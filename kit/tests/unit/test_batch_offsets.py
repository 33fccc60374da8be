"""What a handled batch commits: each partition it holds, past its last record there."""

from __future__ import annotations

from types import SimpleNamespace

from hnth_kit.service import next_offsets


def _record(topic: str, partition: int, offset: int) -> SimpleNamespace:
    return SimpleNamespace(topic=topic, partition=partition, offset=offset)


def test_each_partition_held_is_committed_past_its_last_record() -> None:
    records = [
        _record("meetings", 3, 41),
        _record("slots", 0, 7),
        _record("meetings", 3, 42),
        _record("meetings", 5, 0),
    ]
    assert next_offsets(records) == {("meetings", 3): 43, ("slots", 0): 8, ("meetings", 5): 1}


def test_an_empty_batch_commits_nothing() -> None:
    assert next_offsets([]) == {}
