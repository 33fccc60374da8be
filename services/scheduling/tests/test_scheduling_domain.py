"""The pure slot and calendar rules: buckets, buffers, overlaps, capacity, alternatives,
due dates, and local time around midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling_samples import DAY, NOW, changed, requested, small_bridges

from hnth_contracts import ConflictKind, RuleRef, Window
from hnth_contracts.policy import DEFAULT_SOURCE, INVARIANTS, Rule
from scheduling import domain
from scheduling.domain import Holder, Occupancy

LOCAL_MIDNIGHT = datetime(2026, 12, 10, 17, 0, tzinfo=UTC)  # 00:00 on 11/12 in Tuyên Quang


def test_reserved_window_adds_setup_and_teardown_buffers(policy) -> None:
    window = domain.reserved_window(DAY, DAY + timedelta(hours=2), policy)
    assert window.start == DAY - timedelta(hours=1)
    assert window.end == DAY + timedelta(hours=2, minutes=15)


def test_buckets_round_outward_to_quarter_hours() -> None:
    odd = Window(
        start=datetime(2026, 12, 10, 1, 7, tzinfo=UTC),
        end=datetime(2026, 12, 10, 1, 31, tzinfo=UTC),
    )
    spans = domain.buckets(odd)
    assert domain.bucket_start(spans[0]) == datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
    assert domain.bucket_start(spans[-1] + 1) == datetime(2026, 12, 10, 1, 45, tzinfo=UTC)
    aligned = Window(start=DAY, end=DAY + timedelta(hours=1))
    assert len(domain.buckets(aligned)) == 4


def test_windows_that_only_touch_do_not_share_a_bucket_but_near_ones_do() -> None:
    first = Window(start=DAY, end=DAY + timedelta(hours=1))
    touching = Window(start=DAY + timedelta(hours=1), end=DAY + timedelta(hours=2))
    near = Window(start=DAY + timedelta(minutes=70), end=DAY + timedelta(hours=2))
    late_end = Window(start=DAY, end=DAY + timedelta(minutes=65))
    assert not set(domain.buckets(first)) & set(domain.buckets(touching))
    assert set(domain.buckets(late_end)) & set(domain.buckets(near)), "conservative rounding"


def test_buckets_across_local_midnight_are_contiguous() -> None:
    window = Window(
        start=LOCAL_MIDNIGHT - timedelta(hours=1), end=LOCAL_MIDNIGHT + timedelta(hours=1)
    )
    spans = domain.buckets(window)
    assert len(spans) == 8
    assert domain.bucket_start(spans[4]) == LOCAL_MIDNIGHT


def test_setup_buffer_makes_back_to_back_meetings_conflict(policy) -> None:
    morning = domain.reserved_window(DAY, DAY + timedelta(hours=2), policy)
    right_after = domain.reserved_window(DAY + timedelta(hours=2), DAY + timedelta(hours=3), policy)
    assert set(domain.buckets(morning)) & set(domain.buckets(right_after))


def test_endpoint_conflicts_name_each_other_meeting_once_with_its_local_time(policy) -> None:
    request = domain.request_of(requested("m-new"))
    other = Holder("m-old", 0, Window(start=DAY, end=DAY + timedelta(hours=1)))
    busy = [("TQ-UBND", other), ("TQ-UBND", other), ("TQ-STTTT", other)]
    conflicts = domain.endpoint_conflicts(request, busy, policy)
    assert [(c.kind, c.resource, c.other_meeting_id) for c in conflicts] == [
        (ConflictKind.ENDPOINT_BUSY, "TQ-STTTT", "m-old"),
        (ConflictKind.ENDPOINT_BUSY, "TQ-UBND", "m-old"),
    ]
    assert "(08:00 - 09:00 10/12/2026)" in conflicts[0].message
    assert conflicts[0].message_en == (
        "Endpoint TQ-STTTT is already booked for meeting m-old (08:00 - 09:00 10/12/2026)"
    )
    assert conflicts[0].rule == policy.ref("slot.endpoint_exclusive"), (
        "the rule broken is one meeting per endpoint at a time, not the setup buffer"
    )


def test_a_conflict_only_the_buffers_make_says_so(policy) -> None:
    """16:30 after a 14:00-16:00 meeting does not overlap it: the endpoint is still held
    (an hour for the checks before, a quarter after), and the words say why."""
    request = domain.request_of(requested("m-new", start=DAY + timedelta(hours=2, minutes=30)))
    other = Holder("m-old", 0, Window(start=DAY, end=DAY + timedelta(hours=2)))
    [conflict] = domain.endpoint_conflicts(request, [("TQ-UBND", other)], policy)
    assert conflict.message_en.endswith(
        "; each meeting holds its endpoints from 60 minutes before it opens until 15 minutes "
        "after it ends"
    )
    assert "giữ điểm cầu từ 60 phút trước khai mạc đến 15 phút sau" in conflict.message
    # said once for a refusal whose endpoints are all held so
    both = domain.endpoint_conflicts(request, [("TQ-UBND", other), ("TQ-STTTT", other)], policy)
    assert ["giữ điểm cầu" in c.message for c in both] == [True, False]


def test_own_meeting_is_never_a_conflict(policy) -> None:
    request = domain.request_of(requested("m-1"))
    mine = Holder("m-1", 0, Window(start=DAY, end=DAY + timedelta(hours=1)))
    assert domain.endpoint_conflicts(request, [("TQ-UBND", mine)], policy) == []


def test_a_meeting_that_already_started_is_refused(policy) -> None:
    started = domain.request_of(requested(start=NOW - timedelta(minutes=5)))
    [found] = domain.policy_violations(started, policy, None, NOW)
    assert found.rule.rule == "meeting.not_in_past"


def test_policy_violations_name_rule_and_source(policy) -> None:
    backwards = domain.request_of(requested(hours=-1))
    short = domain.request_of(requested(hours=0.1))
    long = domain.request_of(requested(hours=13))
    assert [c.rule.rule for c in domain.policy_violations(backwards, policy, None, NOW)] == [
        "meeting.start_before_end"
    ]
    [too_short] = domain.policy_violations(short, policy, None, NOW)
    assert too_short.rule.rule == "meeting.min_duration"
    assert too_short.rule.source == policy.rules["meeting.min_duration"].source
    assert too_short.kind is ConflictKind.POLICY
    assert [c.rule.rule for c in domain.policy_violations(long, policy, None, NOW)] == [
        "meeting.max_duration"
    ]


def test_endpoints_must_be_known_and_active_once_the_directory_knows_the_province(policy) -> None:
    request = domain.request_of(requested(endpoints=("TQ-UBND", "TQ-STTTT", "TQ-NEW")))
    assert domain.policy_violations(request, policy, None, NOW) == []
    found = domain.policy_violations(
        request, policy, {"TQ-UBND": True, "TQ-STTTT": False, "TQ-NEW": None}, NOW
    )
    assert [(c.resource, c.rule.rule) for c in found] == [
        ("TQ-NEW", "directory.endpoint_active"),
        ("TQ-STTTT", "directory.endpoint_active"),
    ]


def test_unknown_endpoints_wait_for_the_grace_period_and_inactive_ones_do_not(policy) -> None:
    request = domain.request_of(requested(endpoints=("TQ-UBND", "TQ-STTTT", "TQ-NEW")))
    directory = {"TQ-UBND": True, "TQ-STTTT": False}
    assert domain.unknown_endpoints(request, directory) == ("TQ-NEW",)
    assert domain.unknown_endpoints(request, None) == (), "no directory yet: nothing checked"
    grace = policy.duration("directory.unknown_endpoint_grace")
    assert grace == timedelta(minutes=10)
    assert domain.grace_ends(NOW, policy) == NOW + grace
    assert domain.must_wait(request, directory, None, policy, NOW), "first sight: park"
    assert domain.must_wait(request, directory, NOW, policy, NOW + grace - timedelta(seconds=1))
    assert not domain.must_wait(request, directory, NOW, policy, NOW + grace)
    known = {**directory, "TQ-NEW": True}
    assert not domain.must_wait(request, known, None, policy, NOW), "inactive: reject at once"


def test_the_grace_period_has_a_default_where_the_province_wrote_none(policy) -> None:
    rules = {k: v for k, v in policy.rules.items() if k != "directory.unknown_endpoint_grace"}
    bare = policy.model_copy(update={"rules": rules})
    assert domain.grace_ends(NOW, bare) == NOW + timedelta(minutes=10)
    assert bare.ref("directory.unknown_endpoint_grace").source == DEFAULT_SOURCE


def test_an_unknown_endpoint_rejected_after_the_grace_is_called_unknown(policy) -> None:
    request = domain.request_of(requested(endpoints=("TQ-UBND", "TQ-NEW")))
    [found] = domain.policy_violations(request, policy, {"TQ-UBND": True}, NOW)
    assert (found.resource, found.rule) == ("TQ-NEW", policy.ref("directory.endpoint_active"))
    assert found.message == "Điểm cầu TQ-NEW không xác định: không có trong danh bạ"


def test_more_endpoints_than_the_largest_bridge_has_ports_is_a_capacity_violation(policy) -> None:
    cascading = small_bridges(policy, 2, 3)
    request = domain.request_of(requested(endpoints=("A", "B", "C", "D")))
    [found] = domain.policy_violations(request, cascading, None, NOW)
    assert (found.kind, found.rule.rule) == (ConflictKind.BRIDGE_CAPACITY, "bridge.cascade")
    assert "Cần 4 cổng" in found.message, "even cascaded, the bridges hold only 3"
    cascade = Rule(value=False, source=policy.rules["bridge.cascade"].source)
    one_each = cascading.model_copy(update={"rules": {**policy.rules, "bridge.cascade": cascade}})
    [found] = domain.policy_violations(request, one_each, None, NOW)
    assert (found.kind, found.resource, found.rule.rule) == (
        ConflictKind.BRIDGE_CAPACITY,
        "MCU-2",
        "bridge.ports",
    )


def test_free_needs_every_endpoint_and_enough_ports_on_one_bridge(policy) -> None:
    province = small_bridges(policy, 4, 4)
    request = domain.request_of(requested("m-1", hours=1))
    window = domain.reserved_window(request.start, request.end, province)
    spans = domain.buckets(window)
    occupancy = Occupancy()
    for b in spans:
        for room in request.rooms:
            occupancy.endpoints[(room, b)] = None
        occupancy.free_ports[("MCU-1", b)] = 2
        occupancy.free_ports[("MCU-2", b)] = 2
    bridges = province.all_bridges
    assert domain.is_free(request, window, occupancy, bridges)
    occupancy.free_ports[("MCU-1", spans[0])] = 1
    assert domain.is_free(request, window, occupancy, bridges), "MCU-2 still fits"
    occupancy.free_ports[("MCU-2", spans[-1])] = 1
    assert not domain.is_free(request, window, occupancy, bridges), "no bridge free throughout"
    occupancy.free_ports[("MCU-1", spans[0])] = 2
    occupancy.endpoints[("TQ-UBND", spans[3])] = Holder("other", 0, window)
    assert not domain.is_free(request, window, occupancy, bridges)
    occupancy.endpoints[("TQ-UBND", spans[3])] = Holder("m-1", 0, window)
    assert domain.is_free(request, window, occupancy, bridges), "its own slot is free to it"


URGENT = {"urgent_reason": "Ứng phó bão số 3", "late_notice": True}


def test_alternatives_are_nearest_first_and_never_in_the_past(policy) -> None:
    soon = NOW + timedelta(hours=1, minutes=10)
    request = domain.request_of(requested(start=soon, **URGENT))
    candidates = domain.alternative_candidates(request, policy, NOW)
    starts = [c.start - request.start for c in candidates[:3]]
    assert starts == [timedelta(minutes=15), timedelta(minutes=30), timedelta(minutes=45)], (
        "earlier ones would start their setup buffer in the past"
    )
    later = domain.request_of(requested(start=NOW + timedelta(days=1), **URGENT))
    near = domain.alternative_candidates(later, policy, NOW)[:2]
    assert [c.start - later.start for c in near] == [timedelta(minutes=-15), timedelta(minutes=15)]
    assert all(c.end - c.start == later.length for c in near)


def test_alternatives_keep_the_notice_lead_time_a_clerk_could_not_book_inside(policy) -> None:
    """A meeting asked for 2 days and 1 hour ahead is offered nothing sooner than 2 days
    from now (its clerk could not book it); an urgent one is offered the hour before."""
    lead = policy.duration("notice.lead_time")
    asked = NOW + lead + timedelta(hours=1)
    request = domain.request_of(requested(start=asked))
    candidates = domain.alternative_candidates(request, policy, NOW)
    assert candidates
    assert all(c.start >= NOW + lead for c in candidates)
    assert min(c.start for c in candidates) == NOW + lead
    urgent = domain.request_of(requested(start=asked, **URGENT))
    assert min(c.start for c in domain.alternative_candidates(urgent, policy, NOW)) < NOW + lead


def test_alternatives_keep_office_hours_for_a_meeting_asked_for_inside_them(policy) -> None:
    zone = ZoneInfo(policy.timezone)
    friday = datetime(2026, 12, 4, 7, 30, tzinfo=UTC)  # Friday 14:30 local, to 16:30
    request = domain.request_of(requested(start=friday))
    for c in domain.alternative_candidates(request, policy, NOW):
        start, end = c.start.astimezone(zone), c.end.astimezone(zone)
        assert start.isoweekday() <= 5, f"{start} is a weekend"
        assert (start.hour, start.minute) >= (7, 30), f"{start} is before office hours"
        assert (end.hour, end.minute) <= (17, 0), f"{end} is after office hours"
    first = domain.alternative_candidates(request, policy, NOW)[:2]
    assert [c.start.astimezone(zone).strftime("%a %H:%M") for c in first] == [
        "Fri 14:15",
        "Fri 14:45",
    ]
    # an evening's urgent meeting is offered times near it, whatever the hour
    evening = datetime(2026, 12, 4, 13, 0, tzinfo=UTC)  # 20:00 local
    urgent = domain.request_of(requested(start=evening, hours=1))
    near = domain.alternative_candidates(urgent, policy, NOW)[:2]
    assert [c.start.astimezone(zone).strftime("%H:%M") for c in near] == ["19:45", "20:15"]


def test_port_order_is_a_stable_rotation() -> None:
    order = domain.port_order("m-1", 10)
    assert sorted(order) == list(range(10))
    assert order == domain.port_order("m-1", 10)


def test_a_changes_assignment_carries_why_it_changed_for_the_notices(policy) -> None:
    change = changed("m-9", 1, reason="Lãnh đạo tỉnh bận đột xuất")
    decision = domain.assign(domain.request_of(change), policy, policy.bridge, change, NOW)
    assert decision.change_reason == "Lãnh đạo tỉnh bận đột xuất"
    first = requested("m-9")
    assert (
        domain.assign(domain.request_of(first), policy, policy.bridge, first, NOW).change_reason
        is None
    )


def test_assignment_carries_room_dial_in_deadlines_and_rules(policy) -> None:
    event = requested("m-7")
    decision = domain.assign(domain.request_of(event), policy, policy.bridge, event, NOW)
    assert decision.slot.dial_in == "sip:VR-m-7@mcu.tuyenquang.gov.vn"
    assert decision.check_deadline == DAY - timedelta(hours=1)
    assert decision.notice_deadline == DAY - timedelta(days=2)
    assert decision.slot.reserved.start == DAY - timedelta(hours=1)
    assert {r.rule for r in decision.rules} >= {
        "check.lead_time",
        "notice.lead_time",
        "bridge.ports",
    }
    assert decision.causation_id == str(event.event_id)


def test_annual_report_is_due_at_the_end_of_the_local_day_and_announced_ahead(policy) -> None:
    due = domain.annual_report(policy, 2026)
    assert due.due_at == datetime(2026, 12, 15, 17, 0, tzinfo=UTC)  # 16/12 00:00 local
    assert due.announce_at == due.due_at - timedelta(days=30)
    assert due.period == "2026"
    assert domain.next_annual_report(policy, NOW).period == "2026"
    after = datetime(2026, 12, 15, 17, 30, tzinfo=UTC)  # 00:30 on 16/12 local
    assert domain.next_annual_report(policy, after).period == "2027"


def test_inspections_follow_calendar_quarters_in_local_time(policy) -> None:
    # 23:30 UTC on 31/12 is already 06:30 on 1/1 in Tuyên Quang: the first quarter
    new_year_local = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    index = domain.inspection_index(policy, new_year_local)
    due = domain.inspection(policy, index)
    assert due.period == "2027-Q1"
    assert due.due_at == datetime(2027, 3, 31, 17, 0, tzinfo=UTC)  # 1/4 00:00 local
    assert due.announce_at == due.due_at - timedelta(days=14)
    assert domain.inspection(policy, index - 1).period == "2026-Q4"


def test_meeting_record_is_announced_at_the_end_and_dated_by_the_local_day(policy) -> None:
    start = LOCAL_MIDNIGHT - timedelta(minutes=30)  # 23:30 on 10/12 local
    due = domain.meeting_record(policy, start, start + timedelta(hours=1))
    assert due.period == "2026-12-10"
    assert due.announce_at == start + timedelta(hours=1)
    assert due.due_at == start + timedelta(hours=1, days=3)


def test_report_ids_are_deterministic(policy) -> None:
    due = domain.annual_report(policy, 2026)
    first, second = (
        domain.report_due(
            policy,
            tenant="tuyen-quang",
            kind=domain.ReportKind.ANNUAL_ENDPOINT_REPORT,
            due=due,
            rule="report.annual.due",
            now=NOW,
            endpoint="TQ-UBND",
            unit="VP-UBND",
        )
        for _ in range(2)
    )
    assert first.report_id == second.report_id == "annual_endpoint_report:tuyen-quang:TQ-UBND:2026"
    assert first.rule.rule == "report.annual.due"


def test_capacity_conflicts_name_every_meeting_holding_ports_up_to_ten(policy) -> None:
    bridge = small_bridges(policy, 3).bridge
    holders = [
        Holder(f"m-{n:02d}", 0, Window(start=DAY + n * domain.BUCKET, end=DAY + timedelta(hours=3)))
        for n in range(12)
    ]
    found = domain.capacity_conflicts(bridge, [*holders, holders[0]], policy)
    assert [c.other_meeting_id for c in found] == [f"m-{n:02d}" for n in range(10)]
    assert {(c.kind, c.resource, c.rule.rule) for c in found} == {
        (ConflictKind.BRIDGE_CAPACITY, "MCU-1", "bridge.ports")
    }
    assert found[0].message == (
        "Cầu MCU-1 (3 cổng) không đủ cổng trống: cuộc họp m-00 đang giữ cổng "
        "(08:00 - 11:00 10/12/2026)"
    )
    assert found[0].message_en == (
        "Bridge MCU-1 (3 ports) has too few free ports: meeting m-00 holds ports "
        "(08:00 - 11:00 10/12/2026)"
    )
    [nobody] = domain.capacity_conflicts(bridge, [], policy)
    assert nobody.other_meeting_id is None
    assert nobody.message_en


def test_every_policy_conflict_has_an_english_reason(policy) -> None:
    request = domain.request_of(requested(hours=0.1, endpoints=("TQ-UBND", "TQ-OLD", "TQ-NEW")))
    found = domain.policy_violations(
        request,
        small_bridges(policy, 2),
        {"TQ-UBND": True, "TQ-OLD": False},
        NOW,
        {"VP-UBND": False},
    )
    assert [(c.resource, c.rule.rule) for c in found] == [
        (request.meeting_id, "meeting.min_duration"),
        ("VP-UBND", "directory.unit_active"),
        ("TQ-NEW", "directory.endpoint_active"),
        ("TQ-OLD", "directory.endpoint_active"),
        ("MCU-1", "bridge.ports"),
    ]
    assert [c.message_en for c in found] == [
        "The meeting is shorter than the minimum 15 min",
        "Unit VP-UBND is inactive",
        "Endpoint TQ-NEW is unknown: not in the directory",
        "Endpoint TQ-OLD is inactive",
        "3 ports are needed, bridge MCU-1 has only 2",
    ]
    assert all(c.message and c.message != c.message_en for c in found)
    for started in (requested(hours=-1), requested(start=NOW - timedelta(minutes=1))):
        [one] = domain.policy_violations(domain.request_of(started), policy, None, NOW)
        assert one.message_en


def test_inside_the_notice_lead_time_needs_an_urgent_reason_and_is_flagged_late(policy) -> None:
    soon = NOW + timedelta(days=1)
    late = requested(start=soon, occurred_at=NOW)
    [found] = domain.policy_violations(domain.request_of(late), policy, None, NOW)
    assert (found.kind, found.rule) == (ConflictKind.POLICY, policy.ref("notice.lead_time"))
    assert "2 ngày" in found.message
    assert found.message_en.startswith("Meetings must be registered at least 2 days ahead")

    urgent = requested(start=soon, occurred_at=NOW, urgent_reason="Chỉ đạo khẩn của tỉnh")
    request = domain.request_of(urgent)
    assert not urgent.late_notice, "the other publisher did not flag it"
    assert domain.policy_violations(request, policy, None, NOW) == []
    assert domain.assign(request, policy, policy.bridge, urgent, NOW).late_notice

    on_time = requested(start=NOW + timedelta(days=2), occurred_at=NOW)
    assert domain.policy_violations(domain.request_of(on_time), policy, None, NOW) == []
    assert not domain.assign(
        domain.request_of(on_time), policy, policy.bridge, on_time, NOW
    ).late_notice


def test_a_meeting_first_decided_inside_the_check_hour_is_checked_by_its_opening(
    policy,
) -> None:
    """Registered at 08:22 for 09:00: T-1h (08:00) has passed, so its endpoints are due by
    the opening, not missed at once; a change inside the hour keeps T-1h (the checks
    already done stand)."""
    start = NOW + timedelta(minutes=38)
    urgent = requested(start=start, occurred_at=NOW, urgent_reason="Họp khẩn")
    first = domain.assign(domain.request_of(urgent), policy, policy.bridge, urgent, NOW)
    assert first.check_deadline == start
    change = changed("m-1", 1, start=start, occurred_at=NOW, urgent_reason="Họp khẩn")
    moved = domain.assign(domain.request_of(change), policy, policy.bridge, change, NOW)
    assert moved.check_deadline == start - timedelta(hours=1)
    # asked for at 07:55 for 09:00, decided at 08:05 after a backlog: the request's time
    # counts (a replay decides the same), and 08:00 could be met when it was asked
    waited = requested(start=NOW + timedelta(minutes=65), occurred_at=NOW, urgent_reason="x")
    later = NOW + timedelta(minutes=10)
    backlog = domain.assign(domain.request_of(waited), policy, policy.bridge, waited, later)
    assert backlog.check_deadline == NOW + timedelta(minutes=5)
    ahead = requested(start=NOW + timedelta(days=3), occurred_at=NOW)
    usual = domain.assign(domain.request_of(ahead), policy, policy.bridge, ahead, NOW)
    assert usual.check_deadline == NOW + timedelta(days=3, hours=-1)


def test_the_notice_lead_counts_from_the_request_not_from_its_processing(policy) -> None:
    start = NOW + timedelta(days=2)
    asked = requested(start=start, occurred_at=NOW)
    later = NOW + timedelta(minutes=5)  # waited in the topic, or for the directory
    assert domain.policy_violations(domain.request_of(asked), policy, None, later) == []
    future_clock = requested(start=start, occurred_at=NOW + timedelta(hours=1))
    assert not domain.is_late(domain.request_of(future_clock), policy, NOW), (
        "a publisher's clock ahead of ours counts as now"
    )


def test_an_unknown_host_unit_waits_like_an_unknown_endpoint(policy) -> None:
    request = domain.request_of(requested(endpoints=("TQ-UBND",)))
    endpoints = {"TQ-UBND": True}
    assert domain.unknown_codes(request, endpoints, None) == (), "no unit known yet: not checked"
    assert domain.unknown_codes(request, endpoints, {"VP-UBND": None}) == ("unit:VP-UBND",)
    assert domain.must_wait(request, endpoints, None, policy, NOW, {"VP-UBND": None})
    assert not domain.must_wait(request, endpoints, None, policy, NOW, {"VP-UBND": False})
    [inactive] = domain.policy_violations(request, policy, endpoints, NOW, {"VP-UBND": False})
    assert (inactive.resource, inactive.rule) == ("VP-UBND", policy.ref("directory.unit_active"))


def test_setup_buffer_check_lead_and_notice_lead_have_defaults_where_a_policy_omits_them(
    policy,
) -> None:
    omitted = (
        "slot.setup_buffer",
        "check.lead_time",
        "notice.lead_time",
    )
    bare = policy.model_copy(
        update={"rules": {k: v for k, v in policy.rules.items() if k not in omitted}}
    )
    event = requested("m-bare", start=DAY, hours=1, occurred_at=NOW)
    request = domain.request_of(event)
    assigned = domain.assign(request, bare, bare.bridge, event, NOW)
    assert assigned.slot.reserved.start == DAY - timedelta(minutes=60)
    assert assigned.check_deadline == DAY - timedelta(hours=1)
    assert assigned.notice_deadline == DAY - timedelta(days=2)
    cited = {r.rule: r.source for r in assigned.rules}
    assert all(cited[rule] == DEFAULT_SOURCE for rule in omitted)
    assert cited["slot.endpoint_exclusive"] == INVARIANTS["slot.endpoint_exclusive"]
    near = domain.request_of(requested(start=NOW + timedelta(days=1), occurred_at=NOW))
    [late] = domain.policy_violations(near, bare, None, NOW)
    assert late.rule == RuleRef(rule="notice.lead_time", source=DEFAULT_SOURCE)
