"""What a consumer batch hands over to be published behind it: nothing stays in flight
for a part with nothing new, whose announced updates are left to a relay pass."""

from __future__ import annotations

from hnth_kit import outbox
from hnth_kit.auth import StaticKeys
from hnth_kit.outbox import staging
from hnth_kit.service import Outputs, Service
from hnth_kit.settings import REPO_ROOT, ServiceSettings


def _service() -> Service:
    settings = ServiceSettings(
        service_name="behind",
        kafka_bootstrap_servers="127.0.0.1:1",  # nothing connects: no task starts
        mongodb_url="mongodb://127.0.0.1:1",
        policy_dir=REPO_ROOT / "policies",
    )
    return Service(
        settings,
        title="behind",
        description="a service that publishes behind its batches",
        inputs=[],
        outputs=Outputs(),
        outbox_collections=[],
        verify_with=StaticKeys({"keys": []}),
    )


async def test_a_part_with_nothing_new_leaves_nothing_in_flight_and_wakes_the_relay() -> None:
    service, woken = _service(), []
    service.relay.wake = lambda: woken.append(True)  # type: ignore[method-assign]
    with staging() as staged:
        staged.announced = 2  # two updates' announcements: a pass publishes them
        service.publish_behind(staged)
        assert (staged.announced, staged.fresh) == (0, []), "the next part starts afresh"
        assert list(outbox._open.values()) == [staged], "only the batch's own staging"
    assert outbox._open == {}
    assert woken == [True]
    await service.published_behind()  # no task was started
