"""Requests from integrating systems on `hnth.inbound.<tenant>` (issue 21): registered
exactly as `POST /meetings` is, and answered on the system's own replies topic."""

from __future__ import annotations

import json

import pytest
import registration_samples as samples
from registration_samples import TENANT, meeting_body

from hnth_contracts import (
    MeetingRequested,
    MeetingSubmitted,
    SubmissionAccepted,
    SubmissionRefused,
    decode_event,
)
from hnth_contracts.policy import load_policy
from hnth_kit.kafka import OutMessage, Producer
from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import read_exactly
from registration.usecases.meetings import meeting_id_for

POLICY = load_policy(REPO_ROOT / "policies", TENANT)


async def registered(registration, name: str, unit: str) -> tuple[str, str]:
    """A system registered with the province (`POST /systems`): its client id and the
    `authorization` header of the access token it gets with its secret."""
    made = await registration.http.post(
        "/systems", json={"name": name, "unit": unit}, headers=registration.headers("operator")
    )
    assert made.status_code == 201, made.text
    client = {k: made.json()[k] for k in ("client_id", "client_secret")}
    token = await registration.http.post(
        "/auth/token", data={"grant_type": "client_credentials", **client}
    )
    assert token.status_code == 200, token.text
    return client["client_id"], f"Bearer {token.json()['access_token']}"


TOKENS: dict[str, str] = {}
"""Each system's `authorization` header, by client id (each test registers its own)."""


@pytest.fixture
async def system(registration) -> str:
    """A system filing for VP-UBND: its client id (its token in TOKENS)."""
    client_id, TOKENS[client_id] = await registered(registration, "VPĐT", "VP-UBND")
    return client_id


async def publish(registration, *requests: MeetingSubmitted, bearer: str | None = None) -> None:
    """Send each request on the province's inbound topic as its system does: with its own
    token (or the `authorization` header `bearer`)."""
    producer = Producer(registration.bootstrap, client_id="inbound-test")
    await producer.start()
    try:
        await producer.send(
            [
                OutMessage(
                    registration.topics.inbound(TENANT),
                    r.request_id.encode(),
                    r.to_json(),
                    (("authorization", bearer or TOKENS[r.system]),),
                )
                for r in requests
            ]
        )
    finally:
        await producer.stop()


def submitted(
    system: str, request_id: str, tenant: str = TENANT, **meeting: object
) -> MeetingSubmitted:
    return samples.submitted(
        system, request_id, json.loads(json.dumps(meeting or meeting_body())), tenant
    )


async def replies(registration, system: str, count: int) -> list:
    """The first `count` answers on `system`'s own replies topic."""
    messages = await read_exactly(
        registration.bootstrap, registration.topics.replies(TENANT, system), count
    )
    return [decode_event(m.value) for m in messages]


async def test_a_systems_request_is_registered_and_accepted(registration, system) -> None:
    await publish(
        registration, submitted(system, "VPDT-1", **meeting_body(document_number="1/UBND"))
    )

    [accepted] = await replies(registration, system, 1)
    assert isinstance(accepted, SubmissionAccepted)
    assert (accepted.request_id, accepted.system, accepted.repeated) == ("VPDT-1", system, False)
    [message] = await read_exactly(registration.bootstrap, registration.topics.meetings, 1)
    requested = decode_event(message.value)
    assert isinstance(requested, MeetingRequested)
    assert requested.meeting_id == accepted.meeting_id
    assert requested.requested_by == f"system:{system}"
    assert requested.document_number == "1/UBND"
    shown = await registration.http.get(
        f"/meetings/{accepted.meeting_id}", headers=registration.headers("operator")
    )
    assert shown.json()["status"] == "requested"


async def test_the_same_request_sent_twice_is_registered_once_and_answered_twice(
    registration, system
) -> None:
    await publish(registration, submitted(system, "VPDT-2"))
    await publish(registration, submitted(system, "VPDT-2"))

    first, second = await replies(registration, system, 2)
    assert isinstance(first, SubmissionAccepted)
    assert isinstance(second, SubmissionAccepted)
    assert first.meeting_id == second.meeting_id
    assert (first.repeated, second.repeated) == (False, True)
    await read_exactly(registration.bootstrap, registration.topics.meetings, 1)


async def test_inside_the_lead_time_a_system_is_refused_naming_the_rule(
    registration, system
) -> None:
    urgent = meeting_body(days_ahead=1, urgent_reason="Họp khẩn")
    await publish(registration, submitted(system, "VPDT-3", **urgent))

    [refused] = await replies(registration, system, 1)
    assert isinstance(refused, SubmissionRefused)
    assert (refused.status, refused.code) == (422, "notice.urgent_override")
    [rule] = [e for e in refused.errors if e.rule == "notice.urgent_override"]
    assert rule.field == "urgent_reason"
    assert rule.source == POLICY.ref("notice.urgent_override").source
    assert rule.message_vi
    assert rule.message_en
    # the reply is staged after the use case refused: no meeting was stored
    would_be = meeting_id_for(f"{TENANT}:system:{system}:VPDT-3")
    missing = await registration.http.get(
        f"/meetings/{would_be}", headers=registration.headers("operator")
    )
    assert missing.status_code == 404


async def test_a_broken_field_and_a_wrong_province_are_refused(registration, system) -> None:
    no_title = {k: v for k, v in meeting_body().items() if k != "title"}
    await publish(registration, submitted(system, "VPDT-4", **no_title))
    # Lào Cai's request on Tuyên Quang's topic
    await publish(registration, submitted(system, "VPDT-5", tenant="lao-cai"))

    schema, province = await replies(registration, system, 2)
    assert isinstance(schema, SubmissionRefused)
    assert isinstance(province, SubmissionRefused)
    assert schema.status == 422
    assert [(e.field, e.rule) for e in schema.errors] == [("title", "schema.missing")]
    assert (province.status, province.code, province.tenant) == (403, "wrong_province", TENANT)


async def test_a_system_cannot_file_in_another_systems_name(registration, system) -> None:
    """Kafka lets every system of the province write its topic and tells nobody who wrote:
    the request's token says which system sent it."""
    other, TOKENS[other] = await registered(registration, "Lịch công tác", "STTTT")
    # in VPĐT's name, with the other system's token; then the other in its own name
    await publish(registration, submitted(system, "VPDT-6"), bearer=TOKENS[other])
    await publish(registration, submitted(other, "LICH-1", **meeting_body(host_unit="STTTT")))

    [refused] = await replies(registration, system, 1)
    [accepted] = await replies(registration, other, 1)
    assert isinstance(refused, SubmissionRefused)
    assert (refused.status, refused.code, refused.system) == (401, "unauthenticated_system", system)
    assert isinstance(accepted, SubmissionAccepted)
    assert accepted.system == other
    [message] = await read_exactly(registration.bootstrap, registration.topics.meetings, 1)
    assert decode_event(message.value).requested_by == f"system:{other}"


async def test_a_request_naming_no_system_of_the_province_is_dead_lettered(registration) -> None:
    """No replies topic to answer it on (a system reads its own only): the dead-letter
    topic, with the reason, and nothing registered."""
    stranger = "sys-tuyen-quang-unknown-0000"
    TOKENS[stranger] = "Bearer not-a-token"
    await publish(registration, submitted(stranger, "X-1"))

    inbound = registration.topics.inbound(TENANT)
    [dead] = await read_exactly(registration.bootstrap, inbound + ".dlq", 1)
    assert dict(dead.headers)["hnth-dlq-reason"] == b"unknown_system"
    would_be = meeting_id_for(f"{TENANT}:system:{stranger}:X-1")
    missing = await registration.http.get(
        f"/meetings/{would_be}", headers=registration.headers("operator")
    )
    assert missing.status_code == 404


async def test_a_malformed_request_goes_to_the_dead_letter_topic(registration) -> None:
    inbound = registration.topics.inbound(TENANT)
    producer = Producer(registration.bootstrap, client_id="inbound-test")
    await producer.start()
    try:
        body = b'{"type": "MeetingSubmitted", "request_id": 7}'
        await producer.send([OutMessage(inbound, b"bad", body)])
    finally:
        await producer.stop()

    [dead] = await read_exactly(registration.bootstrap, inbound + ".dlq", 1)
    assert dict(dead.headers)["hnth-dlq-reason"] == b"invalid_schema"


async def test_a_broken_envelope_is_dead_lettered_and_answered_to_its_system(
    registration, system
) -> None:
    """A system cannot read the dead-letter topic: it is told what is broken on its replies
    topic, when its request still names itself and carries its token."""
    request = json.loads(submitted(system, "VPDT-7").to_json())
    request["occurred_at"] = "2026-12-01T08:00:00"  # no time zone
    producer = Producer(registration.bootstrap, client_id="inbound-test")
    await producer.start()
    try:
        message = OutMessage(
            registration.topics.inbound(TENANT),
            b"VPDT-7",
            json.dumps(request).encode(),
            (("authorization", TOKENS[system]),),
        )
        await producer.send([message])
    finally:
        await producer.stop()

    [refused] = await replies(registration, system, 1)
    assert isinstance(refused, SubmissionRefused)
    assert (refused.status, refused.request_id, refused.system) == (422, "VPDT-7", system)
    assert [(e.field, e.rule) for e in refused.errors] == [("occurred_at", "schema.timezone_aware")]
    assert refused.errors[0].message_en == "The time zone is needed, e.g. +07:00."
    inbound = registration.topics.inbound(TENANT)
    [dead] = await read_exactly(registration.bootstrap, inbound + ".dlq", 1)
    assert dict(dead.headers)["hnth-dlq-reason"] == b"invalid_schema"
