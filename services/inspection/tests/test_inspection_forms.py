"""What the readiness forms take and say, on the real broker and database: a retried
submission with the same Idempotency-Key, the line's latency and loss, a problem without a
note, and every decision naming its rule and the policy's source."""

from __future__ import annotations

from datetime import timedelta

import pytest
from inspection_samples import (
    ITEMS_OK,
    T0,
    TENANT,
    auth,
    board,
    body,
    by_endpoint,
    check_submitted,
    completed,
    handled,
    no_more,
    slot_assigned,
)

from hnth_contracts import ItemResult, RuleRef
from hnth_contracts.policy import load_policy
from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import eventually

pytestmark = pytest.mark.integration
START = T0 + timedelta(days=3)
POLICY = load_policy(REPO_ROOT / "policies", TENANT)


async def test_a_retry_with_the_same_idempotency_key_gives_the_same_result_once(
    infra, service, http, publish, topics
) -> None:
    await publish([slot_assigned("m-idem", START, ["TQ-A"])], topics)
    await board(http, "m-idem", until=lambda b: len(b) == 1)
    path, key = "/meetings/m-idem/checks/TQ-A", {**auth(), "Idempotency-Key": "kt-a-0305"}
    first = await http.post(path, json={"items": ITEMS_OK}, headers=key)
    assert first.status_code == 201, first.text
    retried = await http.post(path, json={"items": ITEMS_OK}, headers=key)
    assert retried.status_code == 200, retried.text
    assert retried.json() == first.json()
    assert await service.db["check_results"].count_documents({}) == 1
    [event] = await completed(infra, topics, expect=1)
    await no_more(infra, topics.checks, 1)
    assert event.outcome == "passed"

    other_key = await http.post(
        path, json={"items": ITEMS_OK}, headers={**auth(), "Idempotency-Key": "kt-a-0305-b"}
    )
    assert other_key.status_code == 201, "another key is another submission"
    assert await service.db["check_results"].count_documents({}) == 2


async def test_the_line_records_latency_and_loss_and_a_problem_needs_a_note_on_http(
    infra, service, http, publish, topics
) -> None:
    await publish([slot_assigned("m-line", START, ["TQ-A", "TQ-B"])], topics)
    await board(http, "m-line", until=lambda b: len(b) == 2)
    line = {"ok": True, "latency_ms": 38.5, "loss_pct": 0.2}
    silent = {**ITEMS_OK, "line": line, "audio": {"ok": False}}
    refused = await http.post(
        "/meetings/m-line/checks/TQ-A",
        json={"items": silent},
        headers={**auth(), "Accept-Language": "en"},
    )
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error == {
        "field": "items.audio.note",
        "rule": "check.problem_note",
        "source": POLICY.ref("check.problem_note").source,
        "message": "Item 'audio' is not ok: say what the problem is (note).",
    }
    assert await service.db["check_results"].count_documents({}) == 0
    bad_loss = {**ITEMS_OK, "line": {"ok": True, "loss_pct": 140}}
    too_much = await http.post(
        "/meetings/m-line/checks/TQ-A", json={"items": bad_loss}, headers=auth()
    )
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["field"] == "items.line.loss_pct"

    noted = {**silent, "audio": {"ok": False, "note": "micro rè"}}
    done = body(
        await http.post("/meetings/m-line/checks/TQ-A", json={"items": noted}, headers=auth())
    )
    assert done["items"]["line"] == {"ok": True, "note": None, "latency_ms": 38.5, "loss_pct": 0.2}
    assert (done["state"], done["failed_items"]) == ("failed", ["audio"])

    # a probe on Kafka may say "not ok" without a note, and measure the line
    probe = check_submitted("m-line", "TQ-B", T0, failing=("line",))
    probe = probe.model_copy(
        update={"items": {**probe.items, "line": ItemResult(ok=False, latency_ms=900, loss_pct=12)}}
    )
    await publish([probe], topics)
    items = by_endpoint(await board(http, "m-line", until=lambda b: b[1]["state"] == "failed"))
    assert items["TQ-B"]["items"]["line"] == {
        "ok": False,
        "note": "độ trễ đo được 900 ms vượt giới hạn 300 ms (check.line_max_latency_ms); "
        "mất gói đo được 12% vượt giới hạn 1% (check.line_max_loss_pct)",
        "latency_ms": 900,
        "loss_pct": 12,
    }


async def test_a_line_measured_beyond_the_provinces_limits_fails_whatever_was_ticked(
    infra, service, http, publish, topics
) -> None:
    await publish([slot_assigned("m-slow", START, ["TQ-A"])], topics)
    await board(http, "m-slow", until=lambda b: len(b) == 1)
    slow = {**ITEMS_OK, "line": {"ok": True, "note": "đã đo", "latency_ms": 420, "loss_pct": 0.5}}
    done = body(
        await http.post("/meetings/m-slow/checks/TQ-A", json={"items": slow}, headers=auth())
    )
    assert (done["state"], done["failed_items"]) == ("failed", ["line"])
    assert done["items"]["line"]["note"] == (
        "đã đo. độ trễ đo được 420 ms vượt giới hạn 300 ms (check.line_max_latency_ms)"
    )
    [event] = await completed(infra, topics, expect=1)
    assert (event.outcome, event.failed_items) == ("failed", ("line",))


async def test_checklists_boards_and_outcomes_name_the_deadline_rule_and_its_source(
    infra, service, http, publish, topics
) -> None:
    cited = RuleRef(rule="check.lead_time", source="QĐ 345/QĐ-UBND 2017 (Tuyên Quang), Điều 7")
    with_rules = slot_assigned("m-cited", START, ["TQ-A"]).model_copy(update={"rules": (cited,)})
    await publish([with_rules, slot_assigned("m-policy", START, ["TQ-A"])], topics)
    await eventually(lambda: handled(service, topics.slots), until=lambda n: n == 2)
    [from_slot] = await board(http, "m-cited", until=lambda b: len(b) == 1)
    [from_policy] = await board(http, "m-policy", until=lambda b: len(b) == 1)
    assert from_slot["rule"] == cited.model_dump()
    assert from_policy["rule"] == POLICY.ref("check.lead_time").model_dump()
    assert POLICY.ref("check.lead_time").source.startswith("QĐ 345/QĐ-UBND 2017")

    await http.post("/meetings/m-cited/checks/TQ-A", json={"items": ITEMS_OK}, headers=auth())
    [event] = await completed(infra, topics, expect=1)
    assert event.rule == cited


async def test_the_service_s_own_refusals_cite_the_policy_and_are_unwrapped(
    service, http, publish, topics
) -> None:
    future = (T0 + timedelta(days=1)).isoformat()
    await publish([slot_assigned("m-err", START, ["TQ-A"])], topics)
    await board(http, "m-err", until=lambda b: len(b) == 1)
    early = await http.post(
        "/incidents", json={"endpoint": "TQ-A", "what": "x", "opened_at": future}, headers=auth()
    )
    assert early.status_code == 422
    assert early.json()["errors"][0] | {"message": ""} == {
        "field": "opened_at",
        "rule": "record.not_in_future",
        "source": POLICY.ref("record.not_in_future").source,
        "message": "",
    }
    missing = await http.post(
        "/meetings/m-err/checks/TQ-X",
        json={"items": ITEMS_OK},
        headers={**auth(), "Accept-Language": "en"},
    )
    assert missing.status_code == 404
    assert set(missing.json()) == {"code", "message", "message_vi", "message_en"}
    assert missing.json()["code"] == "unknown_endpoint"
    assert missing.json()["message"] == "Endpoint TQ-X is not part of meeting m-err."
