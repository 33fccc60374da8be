"""Does a FerretDB command cost more when its collection holds a long history, and is it
SQLite's page cache?

    uv run python bench/ferretdb_growth_bench.py                     # 300,000 documents
    uv run python bench/ferretdb_growth_bench.py --documents 50000   # quicker

The e2e bench saw FerretDB's CPU per meeting grow from 110 to 145 ms with 100,000 past
meetings, for the same commands, all of them `_id` reads or inserts. This bench isolates
the two: for each SQLite setting (`--query`, added to FerretDB's SQLite URL; the default
run has none, so SQLite's 2 MB page cache per connection), it starts its own FerretDB and
measures FerretDB's CPU per document for single-document inserts, `_id` reads and `_id`
updates in groups of 24 (as the services make them: random string ids, documents the size
of a notice) on an empty collection, then again after seeding `--documents` past ones.
With `--query "_pragma=synchronous(normal)"` it compares SQLite syncing its log at every
commit (the default) with syncing at checkpoints (`infra.stack.FERRETDB_SQLITE_QUERY`).
Results go to `bench/results/<date>-ferretdb-growth.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import UpdateOne

from hnth_kit.mongo import connect
from infra import stack

ROOT = Path(__file__).resolve().parents[1]
SEED_BATCH = 5000
UPDATE_GROUP = 24
"""Updates a command carries: notification's sender records a group of 24 attempts in one."""
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def document(doc_id: str) -> dict[str, Any]:
    """About the size of a notice: a body, recipients, a few fields."""
    return {
        "_id": doc_id,
        "tenant": "tuyen-quang",
        "meeting_id": f"mtg-{doc_id[:12]}",
        "kind": "meeting_notice",
        "recipient": "technician:TQ-UBND",
        "status": "sent",
        "body": "Kính gửi các đơn vị, cuộc họp trực tuyến được tổ chức như sau. " * 6,
        "created_at": datetime.now(UTC),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def measure(url: str, pid: int, ids: list[str], times: int) -> dict[str, float]:
    """FerretDB CPU µs per single insert, per `_id` read and per `_id` update (24 a
    command) of one of `ids`."""
    client = connect(url)
    coll = client["growth"]["notices"]

    async def inserts() -> None:
        fresh = [uuid.uuid4().hex for _ in range(times)]
        for doc_id in fresh:
            await coll.insert_one(document(doc_id))
        ids.extend(fresh)

    async def reads() -> None:
        for doc_id in random.sample(ids, times):
            assert await coll.find_one({"_id": doc_id}) is not None

    async def updates() -> None:
        picked = random.sample(ids, times)
        for n in range(0, times, UPDATE_GROUP):  # as a sender records its group's attempts
            await coll.bulk_write(
                [
                    UpdateOne({"_id": doc_id}, {"$set": {"status": "sent", "at": time.time()}})
                    for doc_id in picked[n : n + UPDATE_GROUP]
                ],
                ordered=False,
            )

    figures: dict[str, float] = {}
    try:
        for name, work in (("insert", inserts), ("read", reads), ("update", updates)):
            before, started = cpu_seconds(pid), time.perf_counter()
            await work()
            cpu, wall = cpu_seconds(pid) - before, time.perf_counter() - started
            figures[f"{name}_cpu_us"] = round(cpu / times * 1e6)
            figures[f"{name}_wall_us"] = round(wall / times * 1e6)
        return figures
    finally:
        await client.close()


async def seed(url: str, count: int, ids: list[str]) -> float:
    client = connect(url)
    started = time.perf_counter()
    try:
        coll = client["growth"]["notices"]
        for n in range(0, count, SEED_BATCH):
            batch = [uuid.uuid4().hex for _ in range(min(SEED_BATCH, count - n))]
            await coll.insert_many([document(i) for i in batch], ordered=False)
            ids += batch
    finally:
        await client.close()
    return time.perf_counter() - started


async def many_collections(url: str, count: int, database: str) -> None:
    """`count` more collections in `database`, a document each (as scheduling's day
    partitions of claims and releases pile up over the years)."""
    client = connect(url)
    try:
        db = client[database]
        for n in range(count):
            await db[f"claims_{n:05d}"].insert_one({"_id": "k"})
    finally:
        await client.close()


async def history_run(
    url: str, pid: int, documents: int, times: int, collections: int, database: str
) -> dict[str, Any]:
    ids: list[str] = []
    empty = await measure(url, pid, ids, times)
    started = time.perf_counter()
    if collections:
        await many_collections(url, collections, database)
    else:
        await seed(url, documents, ids)
    seeded = time.perf_counter() - started
    full = await measure(url, pid, ids, times)
    return {
        "empty": empty,
        "with_history": full,
        "ratio": {k: round(full[k] / empty[k], 2) for k in empty if empty[k]},
        "seed_s": round(seeded, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=300_000)
    parser.add_argument("--times", type=int, default=2000, help="commands measured each way")
    parser.add_argument(
        "--collections",
        type=int,
        default=0,
        help="history as this many other collections instead of documents in the same one",
    )
    parser.add_argument(
        "--collections-in",
        default="growth",
        help="the database given the other collections (the measured one is `growth`)",
    )
    parser.add_argument(
        "--query",
        action="append",
        help="a SQLite URL query to compare (repeatable); the defaults always run first",
    )
    args = parser.parse_args()
    queries = ["", *(args.query or ["_pragma=cache_size(-262144)"])]
    runs = []
    for query in queries:
        with tempfile.TemporaryDirectory(prefix="hnth-growth-") as folder:
            port = free_port()
            pid = stack.spawn_ferretdb(
                port, Path(folder) / "data", Path(folder) / "ferretdb.log", query
            )
            try:
                run = asyncio.run(
                    history_run(
                        f"mongodb://127.0.0.1:{port}/",
                        pid,
                        args.documents,
                        args.times,
                        args.collections,
                        args.collections_in,
                    )
                )
            finally:
                stack.stop_pid(pid)
        run = {"sqlite_query": query or "(FerretDB's defaults)", **run}
        print(json.dumps(run, ensure_ascii=False), flush=True)
        runs.append(run)
    name = "ferretdb-growth"
    if args.collections:
        name += "-collections" + ("" if args.collections_in == "growth" else "-elsewhere")
    out = ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y-%m-%d}-{name}.json"
    result = {
        "date": datetime.now(UTC).isoformat(),
        "history": f"{args.collections} collections in database {args.collections_in}"
        if args.collections
        else f"{args.documents} documents",
        "commands_each_way": args.times,
        "loadavg": os.getloadavg(),
        "runs": runs,
    }
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
