"""Contract tests: golden samples round-trip, and readers tolerate newer writers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from samples import GOLDEN, samples

from hnth_contracts import EVENT_TYPES, MeetingRequested, Topics, dead_letter, decode_event, key_of

GOLDEN_FILES = sorted(GOLDEN.glob("*.json"))


def test_every_event_type_has_a_golden_sample() -> None:
    assert {p.stem for p in GOLDEN_FILES} == set(EVENT_TYPES)


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_golden_sample_round_trips(path: Path) -> None:
    event = decode_event(path.read_bytes())
    assert type(event).__name__ == path.stem
    assert decode_event(event.to_json()) == event
    assert json.loads(event.to_json()) == json.loads(path.read_text(encoding="utf-8"))


def test_golden_samples_match_the_current_models() -> None:
    """A model change that alters the wire format must update golden/ deliberately."""
    for event in samples():
        golden = json.loads((GOLDEN / f"{event.type}.json").read_text(encoding="utf-8"))
        assert json.loads(event.to_json()) == golden, event.type


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: p.stem)
def test_older_reader_accepts_newer_message_with_extra_fields(path: Path) -> None:
    newer = json.loads(path.read_text(encoding="utf-8"))
    newer["schema_version"] = 7
    newer["field_from_the_future"] = {"nested": [1, 2, 3]}
    event = decode_event(json.dumps(newer))
    assert event.schema_version == 7
    assert not hasattr(event, "field_from_the_future")


def test_a_contact_from_an_older_writer_reads_in_vietnamese() -> None:
    """Contacts gained `language` later; an entry written without it means Vietnamese."""
    body = json.loads((GOLDEN / "EndpointUpdated.json").read_text(encoding="utf-8"))
    del body["technician"]["language"]
    event = decode_event(json.dumps(body))
    assert event.technician.language == "vi"
    body["technician"]["language"] = "fr"
    with pytest.raises(ValidationError, match="language"):
        decode_event(json.dumps(body))


def test_unknown_event_type_is_refused() -> None:
    body = json.loads((GOLDEN / "MeetingCancelled.json").read_text(encoding="utf-8"))
    body["type"] = "MeetingTeleported"
    with pytest.raises(ValidationError):
        decode_event(json.dumps(body))


def test_naive_datetime_is_refused() -> None:
    body = json.loads((GOLDEN / "MeetingCancelled.json").read_text(encoding="utf-8"))
    body["occurred_at"] = "2026-11-30T09:15:00"
    with pytest.raises(ValidationError, match="occurred_at"):
        decode_event(json.dumps(body))


def test_a_time_utc_cannot_hold_is_a_field_error_not_a_crash() -> None:
    body = json.loads((GOLDEN / "MeetingCancelled.json").read_text(encoding="utf-8"))
    body["occurred_at"] = "0001-01-01T00:00:00+14:00"  # was an OverflowError
    with pytest.raises(ValidationError, match="occurred_at"):
        decode_event(json.dumps(body))


def test_wrong_types_are_refused_not_coerced() -> None:
    body = json.loads((GOLDEN / "MeetingRequested.json").read_text(encoding="utf-8"))
    body["endpoints"] = "TQ-UBND"
    with pytest.raises(ValidationError, match="endpoints"):
        decode_event(json.dumps(body))


def test_times_with_offsets_are_stored_in_utc() -> None:
    body = json.loads((GOLDEN / "MeetingRequested.json").read_text(encoding="utf-8"))
    body["start"] = "2026-12-03T08:00:00+07:00"
    event = decode_event(json.dumps(body))
    assert isinstance(event, MeetingRequested)
    assert event.start == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
    assert event.start.tzinfo == UTC


def test_meeting_requests_are_keyed_by_province_and_other_meeting_events_by_meeting() -> None:
    """A province's requests share a partition (one scheduling replica owns its calendar);
    what follows from them is spread by meeting."""
    topics = Topics(prefix="t1.")
    requests = {"MeetingRequested", "MeetingChanged", "MeetingCancelled", "HoldDecided"}
    keyed_otherwise = {"ReportDue", "ReportSubmitted", "SubmissionAccepted"}
    seen = set()
    for event in samples():
        topic = topics.of(event)
        assert topic.startswith("t1.hnth.")
        assert dead_letter(topic) == topic + ".dlq"
        if event.type in requests:
            assert topic == "t1.hnth.meetings"
            assert key_of(event) == b"tuyen-quang"
            seen.add(event.type)
        elif hasattr(event, "meeting_id") and event.type not in keyed_otherwise:
            assert key_of(event) == b"mtg-2026-0001"
    assert seen == requests


def test_report_and_directory_events_are_keyed_by_their_subject() -> None:
    keys = {event.type: key_of(event) for event in samples()}
    assert keys["ReportDue"] == keys["ReportSubmitted"] == b"TQ-STTTT"
    assert keys["EndpointUpdated"] == b"tuyen-quang:TQ-STTTT"
    assert keys["UnitUpdated"] == b"tuyen-quang:STTTT"
    assert keys["ContactsUpdated"] == b"tuyen-quang:contacts"


def test_a_systems_answer_goes_to_its_own_replies_topic() -> None:
    """Kafka's ACLs name topics, not keys: each system reads a topic no other system may."""
    topics = Topics(prefix="t1.")
    answers = [e for e in samples() if e.type in ("SubmissionAccepted", "SubmissionRefused")]
    assert answers
    for event in answers:
        system = getattr(event, "system")  # noqa: B009
        assert topics.of(event) == f"t1.hnth.inbound.{event.tenant}.replies.{system}"
        assert topics.of(event).startswith(topics.replies_prefix(event.tenant))
