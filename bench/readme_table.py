"""The README's benchmark tables, generated from the results files (never typed in).

    uv run python bench/readme_table.py            # print the tables of the newest results
    uv run python bench/readme_table.py --write    # and put them into README.md

Reads the newest `bench/results/*-e2e.json` and `*-history.json` (or those given) and
replaces what README.md holds between `<!-- bench:e2e -->` / `<!-- bench:history -->` and
the matching `<!-- /bench:... -->`.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def ms(value: float) -> str:
    return (
        "–" if value != value else f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"
    )


def offered(run: dict[str, Any]) -> str:
    """A run's offered load as the tables say it: `50/s`, or `flat out`."""
    return run["rate"] if isinstance(run["rate"], str) else f"{run['rate']:g}/s"


def e2e_table(results: dict[str, Any], name: str) -> str:
    relay = results["bare_relay_per_s"]
    load = f"{results['loadavg_start']} → {results['loadavg_end']}"
    meetings = f"{results['meetings_per_scenario']} meetings a scenario"
    flat_out = results.get("meetings_per_flat_out_run", results["meetings_per_scenario"])
    if flat_out != results["meetings_per_scenario"]:
        meetings += f", {flat_out} a flat-out run"
    lines = [
        f"From `bench/results/{name}` ({results['date'][:10]}, {results['machine']}; "
        f"load average {load}; {meetings}). "
        f"Bare aiokafka relay: {relay:,} msgs/s; Kafka `ProducerPerformance`: "
        f"{results['kafka_producer_perf_per_s']:,} records/s, same run.",
        "",
        "| mix | provinces | past meetings | replicas | offered | assigned / refused | decided/s | → SlotAssigned p50 / p95 / p99 "
        "| fully processed/s | → last notice p50 / p95 / p99 | events/s (vs relay) "
        "| db commands / meeting | Kafka requests / meeting |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    if results.get("warm_up"):
        lines[1:1] = [
            "",
            "A warm-up run came first and is not counted: "
            + "; ".join(
                f"{run['meetings']} meetings, {offered(run)}, "
                f"{run['fully_processed_per_s']} fully processed/s, {run['decided_per_s']} decided/s"
                for run in results["warm_up"]
            )
            + ".",
        ]
    for run in results["runs"]:
        lines.append(
            f"| {run['mix']} | {len(run.get('provinces', [1]))} | {run.get('past_meetings', 0):,} "
            f"| {run['replicas']} | {offered(run)} | {run['assigned']} / {run['rejected']} "
            f"| {run['decided_per_s']} | {ms(run['assigned_p50_ms'])} / {ms(run['assigned_p95_ms'])} / "
            f"{ms(run['assigned_p99_ms'])} | {run['fully_processed_per_s']} "
            f"| {ms(run['last_notice_p50_ms'])} / {ms(run['last_notice_p95_ms'])} / "
            f"{ms(run['last_notice_p99_ms'])} | {run['events_per_s']} "
            f"({run['events_per_s'] / relay:.2%}) | {run['db_calls_per_meeting']} "
            f"| {run['kafka_requests_per_meeting']} |"
        )
    for replicas, ratio in results.get("history_ratio", {}).items():
        empty_runs, full_runs = ratio["runs_each"]
        lines += [
            "",
            f"History ratio, {replicas} replica(s) (medians of {empty_runs} flat-out runs "
            f"without history and {full_runs} with): "
            + ", ".join(
                f"{label} {ratio[what]['history']}/s against {ratio[what]['empty']}/s "
                f"= {ratio[what]['ratio']:.0%}"
                for what, label in (
                    ("fully_processed_per_s", "fully processed"),
                    ("decided_per_s", "decided"),
                )
            )
            + ".",
        ]
    lines += ["", "CPU ms per meeting:", ""]
    for run in results["runs"]:
        cpu = ", ".join(f"{k} {v}" for k, v in run["cpu_ms_per_meeting"].items())
        speed = run.get("machine_speed_ms")  # runs before 2026-12-05 did not measure it
        machine = f" (machine: {speed} ms for the fixed work)" if speed else ""
        lines.append(
            f"- {run['mix']}, {run['rate']}, {run['replicas']} replica(s), "
            f"{len(run.get('provinces', [1]))} province(s), {run.get('past_meetings', 0):,} past: {cpu}{machine}"
        )
    return "\n".join(lines)


def history_table(results: dict[str, Any], name: str) -> str:
    lines = [
        f"From `bench/results/{name}` ({results['date'][:10]}, {results['database']}, "
        f"{results['past_meetings']:,} past meetings; load average {results['loadavg_start']} → "
        f"{results['loadavg_end']}): median ms per call.",
        "",
        "| read | empty | with history | ratio |",
        "|---|---|---|---|",
    ]
    for what, empty in results["empty"].items():
        full = results["history"][what]
        ratio = full["median_ms"] / max(empty["median_ms"], 0.001)
        lines.append(f"| {what} | {empty['median_ms']} | {full['median_ms']} | {ratio:.2f} |")
    return "\n".join(lines)


def newest(pattern: str) -> Path:
    return sorted(RESULTS.glob(pattern))[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--e2e", type=Path)
    parser.add_argument("--history", type=Path)
    parser.add_argument("--write", action="store_true", help="replace the tables in README.md")
    args = parser.parse_args()
    tables = {}
    for key, given, pattern, render in (
        ("e2e", args.e2e, "*-e2e.json", e2e_table),
        ("history", args.history, "*-history.json", history_table),
    ):
        path = given or newest(pattern)
        tables[key] = render(json.loads(path.read_text(encoding="utf-8")), path.name)
        print(tables[key], end="\n\n")
    if args.write:
        readme = ROOT / "README.md"
        text = readme.read_text(encoding="utf-8")
        for key, table in tables.items():
            text = re.sub(
                rf"(<!-- bench:{key} -->\n).*?(<!-- /bench:{key} -->)",
                lambda m, t=table: m.group(1) + t + "\n" + m.group(2),
                text,
                flags=re.S,
            )
        readme.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
