"""Registration's consumers: the events it records gathered, the integrating systems'
submissions fetched at once by a consumer of their own."""

from __future__ import annotations

from hnth_kit.service import consumer_options
from hnth_kit.settings import REPO_ROOT
from hnth_kit.testing import TEST_SIGNING_KEYS
from registration.app import RegistrationSettings, build

PROVINCES = sorted(path.stem for path in (REPO_ROOT / "policies").glob("*.yaml"))


def test_submissions_are_fetched_at_once_and_events_gathered() -> None:
    settings = RegistrationSettings(  # type: ignore[call-arg]
        kafka_bootstrap_servers="127.0.0.1:9092",
        mongodb_url="mongodb://127.0.0.1:27017",
        policy_dir=REPO_ROOT / "policies",
        signing_keys=TEST_SIGNING_KEYS,
    )
    service = build(settings)  # connects to nothing
    gathered, prompt = service.lanes
    inbound = {settings.topics.inbound(p) for p in PROVINCES}
    assert inbound
    assert set(prompt.topics) == inbound
    assert settings.topics.slots in gathered.topics
    assert not inbound & set(gathered.topics)
    assert consumer_options(settings, prompt=prompt.prompt)["fetch_min_bytes"] == 1
    assert consumer_options(settings, prompt=gathered.prompt)["fetch_min_bytes"] == 32 * 1024
    # its own group: rewinding registration's group replays events, not answered requests
    assert (gathered.group, prompt.group) == ("hnth-registration", "hnth-registration-prompt")
    assert set(service.kafka_grants().groups) == {gathered.group, prompt.group}
