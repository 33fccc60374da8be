"""End-to-end throughput and latency on the real stack, next to the broker's and a bare
Python relay's ceilings. Starts its own native stack and services; leaves nothing running.

    uv run python bench/e2e_bench.py                 # quick: 100 meetings, replicas 1 and 2
    uv run python bench/e2e_bench.py --meetings 300 --rate 5 50

For each replica count: meetings are published as an external system would (straight onto
`hnth.meetings`), at each fixed `--rate`, then flat out. Figures: meetings/s until every
one has its `SlotAssigned`/`SlotRejected`, p50/p95/p99 from publish to the decision on
the slots topic (broker timestamps); meetings/s fully processed (every notice due sent to
the SMTP sink, a checklist open per endpoint) and the latency to a meeting's last notice;
CPU seconds and RSS of every service process, FerretDB and Kafka; where the database
time went (`hnth_db_command_seconds`).
Baselines on the same broker: Kafka's `ProducerPerformance` (the broker's ceiling) and a
bare aiokafka consume->produce relay with no database (a Python service's ceiling).
Results go to `bench/results/<date>.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient

from hnth_contracts import (
    MeetingRequested,
    SlotAssigned,
    SlotRejected,
    Topics,
    decode_event,
    key_of,
)
from hnth_kit.auth import Role, SigningKeys, issue_token
from hnth_kit.topics_admin import ensure_topics
from infra import stack

ROOT = Path(__file__).resolve().parents[1]

SERVICES = ("registration", "scheduling", "notification", "inspection")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def requests(count: int, prefix: str) -> list[MeetingRequested]:
    rng = random.Random(1)
    codes = [
        f"TQ-{c}"
        for c in ("SNV", "STP", "SKHDT", "STC", "SCT", "SGTVT", "SXD", "STNMT", "SYT", "TTT")
    ]
    base = (datetime.now(UTC) + timedelta(days=5)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    made = []
    for n in range(count):
        start = base + timedelta(days=n // 40, minutes=30 * (n % 40))
        made.append(
            MeetingRequested.create(
                tenant="tuyen-quang",
                correlation_id=f"{prefix}-{n}",
                producer="bench",
                meeting_id=f"{prefix}-{n}",
                title=f"Bench {n}",
                host_unit="VP-UBND",
                chair="Bench",
                start=start,
                end=start + timedelta(minutes=30),
                main_endpoint="TQ-UBND",
                endpoints=("TQ-UBND", *rng.sample(codes, 2)),
            )
        )
    return made


class Platform:
    def __init__(self, state: stack.StackState, replicas: int, prefix: str) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.ports: dict[str, int] = {}
        self.infra = {name: state.pids[name] for name in ("ferretdb", "kafka")}
        registration_port = stack.free_port()
        envs = stack.service_env(state, f"http://127.0.0.1:{registration_port}")
        keys = SigningKeys.load(stack.signing_keys_file(Path(state.run_dir)))
        token = issue_token(keys, role=Role.OPERATOR, tenant="tuyen-quang", subject="bench")
        self.operator = {"Authorization": f"Bearer {token}"}
        for service in SERVICES:
            for n in range(replicas if service in ("scheduling", "notification") else 1):
                port = registration_port if service == "registration" else stack.free_port()
                penv = {
                    **os.environ,
                    **envs[service],
                    "HNTH_TOPIC_PREFIX": prefix,
                    "HNTH_HTTP_PORT": str(port),
                    "HNTH_DATABASE": f"bench_{prefix[:-1]}_{service}",
                }
                log = open(Path(state.run_dir) / f"{prefix}{service}-{n}.log", "wb")  # noqa: SIM115
                proc = subprocess.Popen(
                    [sys.executable, "-m", service], env=penv, stdout=log, stderr=log
                )
                self.procs.append((f"{service}-{n}", proc))
                self.ports[f"{service}-{n}"] = port
                self._wait(port)

    @staticmethod
    def _wait(port: int) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"service on {port} never ready")

    def usage(self) -> dict[str, dict[str, float]]:
        """CPU seconds so far and resident memory of every service, FerretDB and Kafka."""
        found = {}
        pids = [(name, proc.pid) for name, proc in self.procs]
        pids += [(name, pid) for name, pid in self.infra.items()]
        for name, pid in pids:
            stat = Path(f"/proc/{pid}/stat").read_text().split()
            ticks = os.sysconf("SC_CLK_TCK")
            rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf(
                "SC_PAGE_SIZE"
            )
            found[name] = {"cpu_s": (int(stat[13]) + int(stat[14])) / ticks, "rss_mb": rss / 2**20}
        return found

    def db_time(self) -> dict[str, dict[str, float]]:
        """Seconds and calls per (instance, database command, collection), from /metrics."""
        found: dict[str, dict[str, float]] = {}
        for name, port in self.ports.items():
            text = httpx.get(
                f"http://127.0.0.1:{port}/metrics", headers=self.operator, timeout=10
            ).text
            for family in text_string_to_metric_families(text):
                if family.name != "hnth_db_command_seconds":
                    continue
                for sample in family.samples:
                    if sample.name.endswith(("_sum", "_count")):
                        what = f"{name} {sample.labels['command']} {sample.labels['collection']}"
                        kind = "seconds" if sample.name.endswith("_sum") else "calls"
                        found.setdefault(what, {})[kind] = sample.value
        return found

    def stop(self) -> None:
        for _, proc in self.procs:
            proc.terminate()
        for _, proc in self.procs:
            proc.wait(timeout=20)


async def run_load(
    bootstrap: str, topics: Topics, meetings: list[MeetingRequested], rate: float | None
) -> tuple[dict[str, float], dict[str, Any]]:
    """Publish, then wait for every decision; latency from publish to decision timestamp."""
    consumer = AIOKafkaConsumer(
        topics.slots, bootstrap_servers=bootstrap, auto_offset_reset="latest", group_id=None
    )
    await consumer.start()
    await consumer.seek_to_end()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    sent: dict[str, float] = {}
    decided: dict[str, float] = {}
    started = time.time()

    async def publish() -> None:
        for n, meeting in enumerate(meetings):
            if rate:
                await asyncio.sleep(max(0.0, started + n / rate - time.time()))
            sent[meeting.meeting_id] = time.time()
            await producer.send(topics.meetings, meeting.to_json(), key=key_of(meeting))
        await producer.flush()

    async def collect() -> None:
        while len(decided) < len(meetings):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    event = decode_event(record.value)
                    if isinstance(event, SlotAssigned | SlotRejected) and event.meeting_id in sent:
                        decided.setdefault(event.meeting_id, record.timestamp / 1000)

    try:
        await asyncio.wait_for(asyncio.gather(publish(), collect()), timeout=900)
    finally:
        await producer.stop()
        await consumer.stop()
    latencies = [(decided[m] - sent[m]) * 1000 for m in decided]
    elapsed = max(decided.values()) - started
    return sent, {
        "meetings": len(meetings),
        "rate": rate or "flat out",
        "meetings_per_s": round(len(meetings) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    }


async def completion(
    mongo_url: str, prefix: str, sent: dict[str, float], timeout: float = 900
) -> dict[str, Any]:
    """Wait until every meeting is fully processed: each notice due by now sent (or given
    up), and a checklist open per endpoint of each assigned meeting. Returns meetings/s
    fully processed and the latency from publish to the meeting's last notice sent."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    notices = client[f"bench_{prefix[:-1]}_notification"]["notices"]
    checklists = client[f"bench_{prefix[:-1]}_inspection"]["checklists"]
    decisions = client[f"bench_{prefix[:-1]}_scheduling"]["decisions"]
    deadline = time.monotonic() + timeout
    try:
        while True:
            now = datetime.now(UTC)
            mine = [n async for n in notices.find({}, {"data": 0}) if n["meeting_id"] in sent]
            waiting = [n for n in mine if n["status"] == "pending" and n["next_attempt_at"] <= now]
            wanted = 0
            async for d in decisions.find({"outcome": "assigned"}, {"meeting_id": 1, "held": 1}):
                if d["meeting_id"] in sent:
                    wanted += 1
            opened = {c["meeting_id"] async for c in checklists.find({}, {"meeting_id": 1})}
            done = not waiting and len(opened & set(sent)) >= wanted
            if done or time.monotonic() > deadline:
                break
            await asyncio.sleep(2)
    finally:
        await client.close()
    last: dict[str, float] = {}
    for n in mine:
        if n.get("sent_at") is not None:
            at = n["sent_at"].timestamp()
            last[n["meeting_id"]] = max(last.get(n["meeting_id"], 0.0), at)
    latencies = [(last[m] - sent[m]) * 1000 for m in last]
    return {
        "complete": done,
        "fully_processed_per_s": round(len(sent) / (max(last.values()) - min(sent.values())), 1)
        if last
        else 0.0,
        "notices_sent": sum(1 for n in mine if n["status"] == "sent"),
        "last_notice_p50_ms": round(percentile(latencies, 0.50), 1),
        "last_notice_p99_ms": round(percentile(latencies, 0.99), 1),
    }


async def bare_relay(bootstrap: str, count: int) -> float:
    """A consume->produce loop with no database: messages/s."""
    source, sink = f"bench-relay-in-{time.time_ns()}", f"bench-relay-out-{time.time_ns()}"
    await ensure_topics(bootstrap, [source, sink], partitions=4)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    body = requests(1, "relay")[0].to_json()
    for n in range(count):
        await producer.send(source, body, key=str(n).encode())
    await producer.flush()
    consumer = AIOKafkaConsumer(
        source, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id="bench-relay"
    )
    await consumer.start()
    done, started = 0, time.time()
    while done < count:
        batch = await consumer.getmany(timeout_ms=500)
        for records in batch.values():
            for record in records:
                decode_event(record.value)
                await producer.send(sink, record.value, key=record.key)
                done += 1
    await producer.flush()
    elapsed = time.time() - started
    await consumer.stop()
    await producer.stop()
    return count / elapsed


def producer_performance(bootstrap: str, count: int) -> float:
    """Kafka's own ProducerPerformance with acks=all and 1 KiB records: records/s."""
    libs = stack.kafka_libs()
    topic = f"bench-perf-{time.time_ns()}"
    asyncio.run(ensure_topics(bootstrap, [topic], partitions=4))
    out = subprocess.run(
        stack._java_cmd(
            libs, "org.apache.kafka.tools.ProducerPerformance", "--topic", topic, "--num-records", str(count),
            "--record-size", "1024", "--throughput", "-1", "--producer-props", f"bootstrap.servers={bootstrap}", "acks=all",
            heap="512m",
        ),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = [line for line in out.stdout.splitlines() if "records sent" in line][-1]
    return float(summary.split("(")[0].split(",")[1].split()[0])


def print_db_time(found: dict[str, dict[str, float]], top: int = 12) -> None:
    """Where the database time went: the costliest commands of the replica count's runs."""
    print(f"  {'database time (s)':>18} {'calls':>8} {'ms/call':>8}  instance command collection")
    ranked = sorted(found.items(), key=lambda item: -item[1].get("seconds", 0.0))
    for what, figures in ranked[:top]:
        seconds, calls = figures.get("seconds", 0.0), figures.get("calls", 0.0)
        print(f"  {seconds:>18.1f} {calls:>8.0f} {1000 * seconds / max(calls, 1):>8.1f}  {what}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=100)
    parser.add_argument(
        "--rate", type=float, nargs="+", default=[20.0], help="meetings/s of the fixed-rate runs"
    )
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, help="results file (default bench/results/<date>.json)")
    args = parser.parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="hnth-bench-"))
    print(f"starting a native stack in {run_dir} ...", flush=True)
    state = stack.up(run_dir)
    state.smtp_port = stack.free_port()  # notices really go out, to the stack's sink
    os.environ["HNTH_SMTP_WEB_PORT"] = str(stack.free_port())
    stack.start_smtp_sink(state)
    stack.save_state(state)  # so that `down` stops the sink too
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(),
        "machine": f"{os.cpu_count()} cores",
        "runs": [],
    }
    try:
        print("baseline: Kafka ProducerPerformance ...", flush=True)
        results["kafka_producer_perf_per_s"] = round(
            producer_performance(state.bootstrap_servers, 50_000)
        )
        print("baseline: bare aiokafka relay ...", flush=True)
        results["bare_relay_per_s"] = round(asyncio.run(bare_relay(state.bootstrap_servers, 5_000)))
        for replicas in args.replicas:
            prefix = f"b{replicas}x{int(time.time())}."
            platform = Platform(state, replicas, prefix)
            try:
                for rate in (*args.rate, None):
                    print(
                        f"replicas={replicas} rate={rate or 'flat out'}: {args.meetings} meetings ...",
                        flush=True,
                    )
                    before = platform.usage()
                    sent, run = asyncio.run(
                        run_load(
                            state.bootstrap_servers,
                            Topics(prefix),
                            requests(args.meetings, f"{prefix}{rate}"),
                            rate,
                        )
                    )
                    run |= asyncio.run(completion(state.mongodb_url, prefix, sent))
                    after = platform.usage()
                    run["replicas"] = replicas
                    run["cpu_s"] = {
                        k: round(after[k]["cpu_s"] - before[k]["cpu_s"], 1) for k in after
                    }
                    run["rss_mb"] = {k: round(v["rss_mb"]) for k, v in after.items()}
                    results["runs"].append(run)
                print_db_time(platform.db_time())
            finally:
                platform.stop()
    finally:
        stack.down(run_dir)
    print()
    print(
        f"broker ceiling (ProducerPerformance, 1 KiB, acks=all): {results['kafka_producer_perf_per_s']}/s"
    )
    print(f"Python relay ceiling (bare aiokafka consume->produce): {results['bare_relay_per_s']}/s")
    print("to SlotAssigned/SlotRejected:                    to the meeting's last notice sent:")
    print(
        f"{'replicas':>8} {'rate':>9} {'decided/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f"  {'done/s':>6} {'p50 ms':>8} {'p99 ms':>8} {'notices':>7} {'vs relay':>8}"
    )
    for run in results["runs"]:
        ratio = run["meetings_per_s"] / results["bare_relay_per_s"]
        print(
            f"{run['replicas']:>8} {run['rate']!s:>9} {run['meetings_per_s']:>9} {run['p50_ms']:>8} "
            f"{run['p95_ms']:>8} {run['p99_ms']:>8}  {run['fully_processed_per_s']:>6} "
            f"{run['last_notice_p50_ms']:>8} {run['last_notice_p99_ms']:>8} "
            f"{run['notices_sent']:>7} {ratio:>8.4f}" + ("" if run["complete"] else "  INCOMPLETE")
        )
    print("CPU seconds per process over each run (FerretDB, Kafka, services):")
    for run in results["runs"]:
        cpu = ", ".join(f"{k} {v}" for k, v in run["cpu_s"].items())
        print(f"  replicas={run['replicas']} rate={run['rate']}: {cpu}")
    out = args.out or ROOT / "bench" / "results" / f"{datetime.now(UTC).date()}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
