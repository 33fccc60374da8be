"""A meeting request or change as scheduling sees it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from hnth_contracts import BackupSwitch, MeetingChanged, MeetingRequested
from hnth_contracts.groups import Group, Member, expand


@dataclass(frozen=True)
class Request:
    """A meeting request or change, as scheduling sees it (revision 0 = the request)."""

    tenant: str
    meeting_id: str
    revision: int
    title: str
    host_unit: str
    main_endpoint: str
    endpoints: tuple[str, ...]
    start: datetime
    end: datetime
    late_notice: bool = False
    urgent_reason: str | None = None
    requested_at: datetime | None = None
    """When the request (or change) was made: the notice lead counts from there."""
    document_number: str | None = None
    """The host unit's official letter, when the request names one."""
    document_date: date | None = None
    groups: tuple[str, ...] = ()
    """The endpoint groups the meeting names."""
    excluded: tuple[str, ...] = ()
    """Endpoints its groups reach that the meeting leaves out (a backup switch)."""
    expanded: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """What each group expanded to when the meeting was decided (`with_groups`)."""
    external_host: str | None = None
    """The host outside the province of a national meeting it receives and relays."""
    priority: str | None = None
    """Its level in `meeting.priorities` (None: the province's default level)."""
    preempt_reason: str | None = None
    """An operator ordered this revision to displace the lower-priority meetings in its way."""
    backup: BackupSwitch | None = None
    """The backup switch the change made, passed on to its assignment."""
    change_reason: str | None = None
    """Why the meeting changed (`MeetingChanged.reason`), passed on to its assignment."""

    @property
    def rooms(self) -> tuple[str, ...]:
        """Every endpoint the meeting occupies (the main one included), each once, sorted."""
        return tuple(sorted({*self.endpoints, self.main_endpoint}))

    @property
    def ports(self) -> int:
        """Bridge ports needed: one per connected endpoint."""
        return len(self.rooms)

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def request_of(event: MeetingRequested | MeetingChanged) -> Request:
    return Request(
        tenant=event.tenant,
        meeting_id=event.meeting_id,
        revision=event.revision if isinstance(event, MeetingChanged) else 0,
        title=event.title,
        host_unit=event.host_unit,
        main_endpoint=event.main_endpoint,
        endpoints=event.endpoints,
        start=event.start,
        end=event.end,
        late_notice=event.late_notice,
        urgent_reason=event.urgent_reason,
        requested_at=event.occurred_at,
        document_number=event.document_number,
        document_date=event.document_date,
        groups=event.groups,
        excluded=event.excluded,
        external_host=event.external_host,
        priority=event.priority,
        preempt_reason=event.preempt_reason if isinstance(event, MeetingChanged) else None,
        backup=event.backup if isinstance(event, MeetingChanged) else None,
        change_reason=event.reason if isinstance(event, MeetingChanged) else None,
    )


def with_groups(
    request: Request,
    groups: Mapping[str, Group | None],
    endpoints: Iterable[Member],
    unit_kinds: Mapping[str, str],
) -> Request:
    """The request with each group it names expanded to the group's ACTIVE endpoints
    (a group scheduling does not know expands to none) but those the meeting leaves out
    (`excluded`), added to its endpoints."""
    members = list(endpoints)
    left_out = set(request.excluded)
    expanded = tuple(
        (code, () if group is None else expand(group, members, unit_kinds))
        for code, group in ((c, groups.get(c)) for c in request.groups)
    )
    expanded = tuple(
        (code, tuple(c for c in codes if c not in left_out)) for code, codes in expanded
    )
    named = dict.fromkeys(request.endpoints)
    for _, codes in expanded:
        named.update(dict.fromkeys(codes))
    return replace(request, endpoints=tuple(named), expanded=expanded)


def asked_at(request: Request, now: datetime) -> datetime:
    """When the notice period started: the request's own time, never later than `now`
    (a request waiting in the topic or for the directory is not made later by waiting)."""
    return min(request.requested_at or now, now)
