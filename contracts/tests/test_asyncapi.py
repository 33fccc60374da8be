"""The checked-in AsyncAPI documents match what the code generates (run `make docs`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hnth_contracts import EVENT_TYPES
from hnth_kit.asyncapi import SERVICES, render

DOCS = Path(__file__).resolve().parents[2] / "docs" / "asyncapi"


@pytest.mark.parametrize("service", SERVICES)
def test_checked_in_asyncapi_is_current(service: str) -> None:
    checked_in = (DOCS / f"{service}.json").read_text(encoding="utf-8")
    assert checked_in == render(service), f"docs/asyncapi/{service}.json is stale: run `make docs`"


def _consumes(name: str) -> bool:
    """Whether a channel or message is a consumer's (`registration:consume-prompt:<topic>`),
    not a published event's (`<topic>:<event>`)."""
    return name.split(":")[1].startswith("consume")


def _documented(spec: dict) -> set[str]:
    """Event types a service's document names: those it sends (one channel each) and those
    it acts on (the `oneOf` of each topic it consumes)."""
    sent = {name.split(":")[-1] for name in spec["channels"] if not _consumes(name)}
    consumed = {
        ref["$ref"].rsplit("/", 1)[-1]
        for key, message in spec["components"]["messages"].items()
        if _consumes(key)
        for ref in message["payload"]["oneOf"]
    }
    return sent | consumed


def test_asyncapi_documents_every_event_type() -> None:
    documented: set[str] = set()
    for service in SERVICES:
        spec = json.loads((DOCS / f"{service}.json").read_text(encoding="utf-8"))
        documented |= _documented(spec)
    assert documented == set(EVENT_TYPES)


def test_a_consumed_topic_names_the_events_the_service_acts_on() -> None:
    spec = json.loads((DOCS / "inspection.json").read_text(encoding="utf-8"))
    checks = spec["components"]["messages"]["inspection:consume:hnth.checks:SubscribeMessage"]
    assert checks["payload"] == {"oneOf": [{"$ref": "#/components/schemas/CheckSubmitted"}]}
    assert "items" in spec["components"]["schemas"]["CheckSubmitted"]["properties"]
    spec = json.loads((DOCS / "registration.json").read_text(encoding="utf-8"))
    key = "registration:consume-prompt:hnth.inbound.tuyen-quang:SubscribeMessage"
    submissions = spec["components"]["messages"][key]["payload"]["oneOf"]
    assert {"$ref": "#/components/schemas/MeetingSubmitted"} in submissions


def test_rendering_leaves_the_environment_as_it_was() -> None:
    """The documents are rendered in the test process that also starts services: a
    placeholder left in the environment (an empty key set) once locked every service."""
    before = dict(os.environ)
    for service in SERVICES:
        render(service)
    assert dict(os.environ) == before
