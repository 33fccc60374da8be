"""The test helpers themselves: a check that cannot fail proves nothing."""

from __future__ import annotations

import pytest

from hnth_kit.kafka import OutMessage
from hnth_kit.testing import read_exactly
from hnth_kit.topics_admin import ensure_topics

pytestmark = pytest.mark.integration


async def test_reading_exactly_fails_on_one_more_and_on_too_few(infra, producer, topics) -> None:
    await ensure_topics(infra.bootstrap_servers, [topics.meetings])
    message = OutMessage(topic=topics.meetings, key=b"k", value=b"{}", headers=())
    await producer.send([message, message])

    assert len(await read_exactly(infra.bootstrap_servers, topics.meetings, 2)) == 2
    with pytest.raises(AssertionError, match="1 more than the 1 expected"):
        await read_exactly(infra.bootstrap_servers, topics.meetings, 1)
    with pytest.raises(AssertionError, match="only 2 of the 3"):
        await read_exactly(infra.bootstrap_servers, topics.meetings, 3, timeout=2)
