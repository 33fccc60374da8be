"""Notification's rules, pure: who must be told of a meeting (rule 2, DOMAIN.md).

Walking-skeleton scope: the recipients of the formal notice on SlotAssigned, one per
(recipient, role, channel). Delivery (SMTP, iCalendar, webhooks) comes with its issue.
"""

from __future__ import annotations

from dataclasses import dataclass

from hnth_contracts import SlotAssigned


@dataclass(frozen=True)
class Recipient:
    recipient: str
    role: str
    channel: str = "email"


def notice_recipients(slot: SlotAssigned) -> list[Recipient]:
    """The IT department, line provider and power company, the host, each endpoint's technician."""
    fixed = [
        Recipient("it_department", "it_department"),
        Recipient("line_provider", "line_provider"),
        Recipient("power_company", "power_company"),
        Recipient(slot.host_unit, "host_unit"),
    ]
    technicians = [Recipient(f"technician:{code}", "technician") for code in slot.endpoints]
    return fixed + technicians


def notice_id(cause_event_id: str, r: Recipient) -> str:
    """A notice is keyed by (cause event, recipient, channel): never sent twice."""
    return f"{cause_event_id}:{r.recipient}:{r.channel}"
