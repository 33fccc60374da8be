"""Notification's subscribers: decode -> domain -> store."""

from __future__ import annotations

from hnth_contracts import SlotAssigned
from hnth_kit.consumer import Handler, RawMessage
from notification import domain
from notification.store import NotificationStore


def build_handlers(store: NotificationStore) -> dict[type, Handler]:
    async def on_assigned(event: SlotAssigned, _: RawMessage) -> None:
        cause = str(event.event_id)
        await store.add_notices(
            [
                {
                    "_id": domain.notice_id(cause, r),
                    "tenant": event.tenant,
                    "meeting_id": event.meeting_id,
                    "cause": cause,
                    "kind": "meeting_notice",
                    "recipient": r.recipient,
                    "role": r.role,
                    "channel": r.channel,
                    "status": "pending",
                    "sent_at": None,
                    "acknowledged_at": None,
                }
                for r in domain.notice_recipients(event)
            ]
        )

    return {SlotAssigned: on_assigned}
