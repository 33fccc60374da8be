"""`hnth province`: following every service's progress until all are done, and failing
with a clear message (naming those still moving) when they are not in time."""

from __future__ import annotations

import httpx
import pytest
from hnth_cli import province

URLS = {"registration": "http://r", "scheduling": "http://s"}


def _services(answers: dict[str, list[dict[str, object] | None]]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        queue = answers[request.url.host]
        row = queue.pop(0) if len(queue) > 1 else queue[0]
        return httpx.Response(404) if row is None else httpx.Response(200, json=row)

    return httpx.Client(transport=httpx.MockTransport(answer))


def _row(done: bool, left: int) -> dict[str, object]:
    return {"done": done, "moved": {"meetings": 3}, "remaining": {"meetings": left}}


def test_following_waits_until_every_service_has_moved_its_documents() -> None:
    http = _services(
        {"r": [_row(False, 2), _row(True, 0)], "s": [None, _row(False, 1), _row(True, 0)]}
    )
    seen: list[str] = []
    done = province.follow(
        http, URLS, "bien-dong", timeout=10, show=lambda p: seen.append(p.line("scheduling"))
    )
    assert done.done == {"registration": True, "scheduling": True}
    assert seen[0].startswith("scheduling: chưa nhận")
    assert seen[-1] == "scheduling: xong / done, moved 3, left 0"


def test_a_service_that_does_not_finish_in_time_is_named() -> None:
    http = _services({"r": [_row(True, 0)], "s": [_row(False, 5)]})
    ticks = iter(range(100))
    with pytest.raises(province.ChangeFailed, match="scheduling") as failed:
        province.follow(
            http, URLS, "bien-dong", timeout=3, clock=lambda: next(ticks), sleep=lambda s: None
        )
    assert "run the same command again" in str(failed.value)
    assert "registration" not in str(failed.value)


def test_a_service_that_is_down_is_waited_for_and_named_if_it_stays_down() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "s":
            raise httpx.ConnectError("refused")
        return httpx.Response(200, json=_row(True, 0))

    http = httpx.Client(transport=httpx.MockTransport(answer))
    ticks = iter(range(100))
    with pytest.raises(province.ChangeFailed, match=r"scheduling \(http://s does not answer"):
        province.follow(
            http, URLS, "bien-dong", timeout=3, clock=lambda: next(ticks), sleep=lambda s: None
        )
