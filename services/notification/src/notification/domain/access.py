"""The one-time link to set an account's password (`AccessLinkIssued`), as a notice.

Registration issues the link (a new account, or a reset by the IT department) and names
the person, their address and language; this service only delivers it, through the same
queue, claims and retries as every notice. The notice is keyed by the event's id: a
redelivered event finds the notice already there and the link is mailed once.

The link is a credential until it is used or expires: it lives in the notice's `data`
(the sender needs it) and nowhere else; nothing logs a notice's `data`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hnth_contracts import AccessLinkIssued, RuleRef
from notification.domain.notices import PERSONAL_KINDS, Kind, Notice, Recipient

RULE = RuleRef(rule="access.set_password_link", source="HNTH Ops: sign-in (issue 16)")
"""Not a province rule: what the notice records as its reason."""


def access_cause(event_id: str) -> str:
    return f"access:{event_id}"


def account(subject: str) -> Recipient:
    """The account holder (never a directory role: the event carries the address)."""
    return Recipient(f"account:{subject}", "account")


def plan_access_link(event: AccessLinkIssued) -> Notice:
    """One e-mail to the account holder, keyed by the event."""
    return Notice(
        cause=access_cause(str(event.event_id)),
        kind=Kind.ACCESS_LINK,
        recipient=account(event.subject),
        tenant=event.tenant,
        rule=RULE,
        data={
            "subject": event.subject,
            "display_name": event.display_name,
            "email": event.email,
            "language": event.language,
            "purpose": event.purpose.value,
            "link": event.link,
            "expires_at": event.expires_at,
        },
    )


def own_contact(kind: str, data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The contact a personal notice carries (name, address, language), or None for a
    notice whose recipient the directory resolves."""
    if kind not in PERSONAL_KINDS:
        return None
    return {
        "person": data.get("display_name") or data.get("subject"),
        "email": data.get("email"),
        "language": data.get("language"),
    }
