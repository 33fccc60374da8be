"""What a service's Kafka principal is granted follows from what it declares."""

from __future__ import annotations

from hnth_kit.kafka_accounts import service_grants


def test_a_service_is_granted_its_inputs_outputs_dead_letters_and_groups() -> None:
    grants = service_grants(
        ["hnth.meetings", "hnth.inbound.tq"], ["hnth.slots"], ["hnth-x", "hnth-x-prompt"]
    )
    assert grants.reads == ("hnth.meetings", "hnth.inbound.tq")
    assert grants.writes == ("hnth.slots", "hnth.meetings.dlq", "hnth.inbound.tq.dlq")
    assert grants.groups == ("hnth-x", "hnth-x-prompt")


def test_a_test_platform_s_group_renames_the_lanes_groups_after_it() -> None:
    grants = service_grants([], [], ["hnth-x", "hnth-x-prompt"]).for_group("hnth-x-1f2e")
    assert grants.groups == ("hnth-x-1f2e", "hnth-x-1f2e-prompt")


def test_a_service_creates_and_writes_the_per_system_topics_under_its_prefixes() -> None:
    grants = service_grants([], [], ["hnth-x"], creates=["hnth.inbound.tq.replies."])
    assert grants.create_prefixes == ("hnth.inbound.tq.replies.",)
    assert grants.prefixed("t1.").create_prefixes == ("t1.hnth.inbound.tq.replies.",)
    assert grants.writes == ()  # no literal topic: each system's is made as it is needed
