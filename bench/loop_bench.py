"""Client CPU per database round trip on asyncio's own event loop and on uvloop.

    uv run python bench/loop_bench.py [--ops 3000] [--rounds 3]

Starts a FerretDB of its own (the native stack's binary) and times, in this process, the
CPU of PyMongo's `AsyncMongoClient` per command: inserts and `_id` reads one at a time,
then reads eight at a time (as the sender does). The services run on uvloop
(`hnth_kit.runner`); the end-to-end bench cannot resolve the difference through its
between-run scatter, so this one measures the part the loop changes, alternating loops.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import statistics
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import uvloop
from pymongo import AsyncMongoClient

from hnth_kit.ports import free_port
from infra.stack import FERRETDB_SQLITE_QUERY, spawn_ferretdb

CONCURRENT = 8


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def round_trips(url: str, collection: str, ops: int) -> tuple[float, float]:
    """(CPU µs, wall µs) per command."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    coll = client["loop_bench"][collection]
    await coll.insert_one({"_id": "warm-up"})
    cpu, wall = cpu_seconds(), time.perf_counter()
    for n in range(ops):
        await coll.insert_one({"_id": f"d{n}", "n": n, "text": "a" * 200})
        await coll.find_one({"_id": f"d{n}"})

    async def reader(k: int) -> None:
        for n in range(ops // CONCURRENT):
            await coll.find_one({"_id": f"d{(k * 997 + n) % ops}"})

    await asyncio.gather(*(reader(k) for k in range(CONCURRENT)))
    cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
    await client.drop_database("loop_bench")
    await client.close()
    done = 2 * ops + CONCURRENT * (ops // CONCURRENT)
    return 1e6 * cpu / done, 1e6 * wall / done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=3000, help="inserts (and reads) a round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    loops: dict[str, Callable[[Coroutine[Any, Any, tuple[float, float]]], tuple[float, float]]]
    loops = {"asyncio": asyncio.run, "uvloop": uvloop.run}
    with tempfile.TemporaryDirectory() as data:
        port = free_port()
        pid = spawn_ferretdb(port, Path(data), Path(data) / "ferretdb.log", FERRETDB_SQLITE_QUERY)
        try:
            figures: dict[str, list[float]] = {name: [] for name in loops}
            for n in range(args.rounds):
                for name, run in loops.items():
                    cpu, wall = run(
                        round_trips(f"mongodb://127.0.0.1:{port}/", f"{name}{n}", args.ops)
                    )
                    figures[name].append(cpu)
                    print(
                        f"{name:8} round {n + 1}: {cpu:6.1f} µs CPU, {wall:6.1f} µs wall a command"
                    )
            for name, cpus in figures.items():
                print(f"{name:8} median: {statistics.median(cpus):6.1f} µs CPU a command")
        finally:
            os.kill(pid, signal.SIGTERM)


if __name__ == "__main__":
    main()
