"""`hnth province merge|rename`: ask registration to record the change, then follow each
service's progress (`GET /tenant-changes/{tenant}`) until every one has moved its
documents. Running it again after an interruption picks up where it stopped: the change
is recorded once and every service finishes its own move."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_URLS = {
    "registration": "http://127.0.0.1:8001",
    "scheduling": "http://127.0.0.1:8002",
    "notification": "http://127.0.0.1:8003",
    "inspection": "http://127.0.0.1:8004",
}


class ChangeFailed(Exception):
    """The change could not be recorded or did not finish (the message says why)."""


@dataclass
class Progress:
    """Each service's last answer: done, and how many documents remain per collection."""

    done: dict[str, bool] = field(default_factory=dict)
    remaining: dict[str, int] = field(default_factory=dict)
    moved: dict[str, int] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)

    def line(self, service: str) -> str:
        if service in self.unreachable:
            return f"{service}: không trả lời / does not answer"
        if service not in self.done:
            return f"{service}: chưa nhận / not yet heard of it"
        state = "xong / done" if self.done[service] else "đang chuyển / moving"
        return f"{service}: {state}, moved {self.moved[service]}, left {self.remaining[service]}"


def record(
    http: httpx.Client,
    registration: str,
    former: str,
    into: str,
    rename: bool,
    source: str | None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """POST the change to registration; its answer (202 new, or `waiting_for` the other
    province of a merge to ask too; 200 recorded before)."""
    body: dict[str, str] = {"into": into}
    if source:
        body["source"] = source
    verb = "rename" if rename else "merge"
    try:
        answer = http.post(f"{registration}/tenants/{former}/{verb}", json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise ChangeFailed(f"registration at {registration} does not answer: {exc}") from None
    if answer.status_code not in (200, 202):
        raise ChangeFailed(f"{answer.status_code} {answer.text[:500]}")
    recorded: dict[str, Any] = answer.json()
    return recorded


def follow(
    http: httpx.Client,
    urls: Mapping[str, str],
    former: str,
    *,
    timeout: float,
    poll: float = 0.5,
    show: Callable[[Progress], None] = lambda progress: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Progress:
    """Poll every service until all report done; ChangeFailed on timeout (naming those
    still moving) or an error answer."""
    progress = Progress()
    deadline = clock() + timeout
    while True:
        for service, url in urls.items():
            try:
                answer = http.get(f"{url}/tenant-changes/{former}")
            except httpx.HTTPError as exc:  # down for now: it finishes the move once back
                progress.unreachable[service] = f"{url} does not answer: {exc}"
                continue
            progress.unreachable.pop(service, None)
            if answer.status_code == 404:
                continue  # not consumed yet
            if answer.status_code != 200:
                raise ChangeFailed(f"{service}: {answer.status_code} {answer.text[:300]}")
            row = answer.json()
            progress.done[service] = bool(row["done"])
            progress.remaining[service] = sum(row["remaining"].values())
            progress.moved[service] = sum(row["moved"].values())
        show(progress)
        if all(progress.done.get(service) for service in urls):
            return progress
        if clock() > deadline:
            waiting = [
                f"{s} ({progress.unreachable[s]})" if s in progress.unreachable else s
                for s in urls
                if not progress.done.get(s)
            ]
            raise ChangeFailed(
                f"not finished after {timeout:.0f} s: {', '.join(waiting)} "
                "(run the same command again to go on)"
            )
        sleep(poll)
