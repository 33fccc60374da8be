"""Rule 5, "known to all", on the real broker and database: a burst of directory changes
(a technician, a standing contact, one of them delivered twice) sends every technician of
the province the updated list once; the directory's first load sends nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from notification_samples import ADDRESSES, ENDPOINTS, TENANT, directory

from hnth_contracts import Contact, ContactsUpdated, EndpointUpdated
from hnth_kit.testing import eventually
from hnth_kit.timers import QUEUE
from notification.domain.notices import Kind

pytestmark = pytest.mark.integration


def all_sent(count: int):
    def check(notices: list) -> bool:
        lists = [n for n in notices if n["kind"] == Kind.TECHNICIAN_LIST]
        return len(lists) == count and all(n["status"] == "sent" for n in lists)

    return check


async def test_a_burst_of_directory_changes_sends_every_technician_the_list_once(
    notification, smtp
) -> None:
    h = await notification(smtp_port=smtp.port, technician_list_window_seconds=2)
    loaded = directory()
    await h.publish_directory(loaded)
    assert await h.db[QUEUE].count_documents({}) == 0  # the first load is no change

    now = datetime.now(UTC)
    env = {"tenant": TENANT, "correlation_id": "directory", "producer": "registration"}
    [endpoint] = [e for e in loaded if isinstance(e, EndpointUpdated) and e.code == "TQ-UBND"]
    technician = Contact(name="Trần Văn Mới", phone="0912 111 222", email=ADDRESSES[
        "technician:TQ-UBND"])  # fmt: skip
    changed = EndpointUpdated.create(
        **env, occurred_at=now, **endpoint.model_dump(include={"code", "name", "unit"}),
        technician=technician)  # fmt: skip
    [contacts] = [e for e in loaded if isinstance(e, ContactsUpdated)]
    line = contacts.line_provider.model_copy(update={"phone": "0207 9999 888"})
    standing = ContactsUpdated.create(
        **env, occurred_at=now, line_provider=line,
        **contacts.model_dump(include={"it_department", "power_company", "duty"}))  # fmt: skip
    await h.publish(changed, changed, standing)  # the first one redelivered

    notices = await eventually(h.all_notices, until=all_sent(len(ENDPOINTS)))
    assert len({n["_id"].split("|")[0] for n in notices}) == 1  # one list, one cause
    for code in ENDPOINTS:
        [mail] = smtp.inbox.to(ADDRESSES[f"technician:{code}"])
        assert mail["Subject"] == "Danh bạ kỹ thuật Tỉnh Tuyên Quang đã cập nhật"
        text = mail.get_body(("plain",)).get_content()
        assert "TQ-UBND · Điểm cầu TQ-UBND: Trần Văn Mới, ĐT 0912 111 222" in text
        assert "Đơn vị cung cấp đường truyền: VNPT Tuyên Quang" in text
        assert "0207 9999 888" in text  # both changes, in the one list
        assert "directory.technician_list" in text

    assert await h.fire_timers() == 0  # nothing else is due: no second list
    assert len([n for n in await h.all_notices() if n["kind"] == Kind.TECHNICIAN_LIST]) == 3
