"""Which notices also go by SMS, and to whom: the policy's `notice.sms`.

In the last hour before a meeting e-mail is not read in a commune hall or at the line
provider's dispatch desk; a text message is. `notice.sms` names, per notice kind, the
roles that also get it by SMS (`technician`: the technicians of the endpoints concerned;
a standing role such as `line_provider`: that contact's duty phone), and
`last_minute_minutes`: a change or cancellation goes by SMS only when the meeting starts
within that many minutes (an earlier one is no emergency; e-mail carries it).

An SMS is a notice of its own, keyed (cause, recipient, `sms`) like any other: sent once,
retried with backoff, its failure recorded, over the same queue as e-mail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hnth_contracts.policy import Policy
from notification.domain.notices import Channel, Kind, Notice, Recipient, technician

RULE = "notice.sms"
LAST_MINUTE_KINDS = (Kind.MEETING_CHANGED, Kind.MEETING_CANCELLED)
"""Kinds that go by SMS only close to the meeting (`last_minute_minutes`)."""


def sms_roles(policy: Policy, kind: str) -> tuple[str, ...]:
    """The roles `notice.sms` sends this kind to by SMS (none where the policy has no rule)."""
    if RULE not in policy.rules:
        return ()
    kinds: Mapping[str, Sequence[str]] = policy.value(RULE).get("kinds") or {}
    return tuple(kinds.get(kind) or ())


def last_minute(policy: Policy) -> timedelta:
    """How close to the opening a change or cancellation is an emergency."""
    return timedelta(minutes=int(policy.value(RULE).get("last_minute_minutes", 60)))


def recipients(roles: Sequence[str], data: Mapping[str, Any]) -> list[Recipient]:
    """Technicians of the endpoint concerned (a check) or of every endpoint (a meeting),
    then the standing roles' duty phones."""
    found: list[Recipient] = []
    for role in roles:
        if role == "technician":
            endpoints = [data["endpoint"]] if data.get("endpoint") else data.get("endpoints", [])
            found += [technician(str(code)) for code in endpoints]
        else:
            found.append(Recipient(role, role))
    return [Recipient(r.key, r.role, Channel.SMS) for r in found]


def _starts_within(data: Mapping[str, Any], now: datetime, window: timedelta) -> bool:
    start = data.get("start")
    if not isinstance(start, datetime):
        return False
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    return start - window <= now <= start


def plan_sms(notices: Sequence[Notice], policy: Policy, now: datetime) -> list[Notice]:
    """The SMS copies `notice.sms` asks for, of the e-mailed notices given (once each)."""
    found: dict[str, Notice] = {}
    for n in notices:
        roles = sms_roles(policy, n.kind.value)
        if n.recipient.channel is not Channel.EMAIL or not roles:
            continue
        if n.kind in LAST_MINUTE_KINDS and not _starts_within(n.data, now, last_minute(policy)):
            continue
        for r in recipients(roles, n.data):
            sms = Notice(
                cause=n.cause,
                kind=n.kind,
                recipient=r,
                tenant=n.tenant,
                rule=policy.ref(RULE),
                meeting_id=n.meeting_id,
                data=n.data,
            )
            found.setdefault(sms.id, sms)
    return list(found.values())


def with_sms(
    notices: Sequence[Notice], policy_for: Callable[[str], Policy], now: datetime
) -> list[Notice]:
    """The notices, then their SMS copies (each tenant's by its own policy)."""
    extra: list[Notice] = []
    for tenant in dict.fromkeys(n.tenant for n in notices):
        own = [n for n in notices if n.tenant == tenant]
        extra += plan_sms(own, policy_for(tenant), now)
    return [*notices, *extra]
