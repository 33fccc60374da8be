"""A province's rules as data: `policies/<tenant>.yaml`, each rule with its source."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from hnth_contracts.events import RuleRef

DEFAULTS: dict[str, timedelta] = {
    "slot.setup_buffer": timedelta(hours=1),
    "slot.teardown_buffer": timedelta(0),
    "check.lead_time": timedelta(hours=1),
    "notice.lead_time": timedelta(days=2),
    "notice.national_lead_time": timedelta(hours=4),
    "directory.unknown_endpoint_grace": timedelta(minutes=10),
    "auth.lockout_window": timedelta(minutes=15),
    "auth.access_token_ttl": timedelta(minutes=15),
    "auth.refresh_token_ttl": timedelta(hours=12),
    "auth.link_ttl": timedelta(hours=24),
}
"""Durations that apply where a province's policy leaves the rule out."""

DEFAULT_SOURCE = "mặc định HNTH Ops (chính sách tỉnh chưa quy định)"

INVARIANTS: dict[str, str] = {
    "meeting.start_before_end": (
        "HNTH Ops: giờ kết thúc phải sau giờ bắt đầu, vì một khoảng thời gian ngược "
        "không phải là cuộc họp"
    ),
    "meeting.not_in_past": (
        "HNTH Ops: không đăng ký, sửa, hủy cuộc họp đã bắt đầu hoặc đã diễn ra, để hồ sơ "
        "cuộc họp (kiểm tra, báo cáo) giữ đúng như đã diễn ra"
    ),
    "slot.endpoint_exclusive": (
        "HNTH Ops: mỗi điểm cầu chỉ dự một cuộc họp tại một thời điểm, vì mỗi điểm cầu là "
        "một phòng họp với một bộ thiết bị đầu cuối"
    ),
    "directory.endpoint_active": (
        "HNTH Ops: chỉ đăng ký điểm cầu đang hoạt động trong danh bạ do Sở KH&CN quản trị"
    ),
    "directory.unit_active": (
        "HNTH Ops: đơn vị đăng ký phải có trong danh bạ và đang hoạt động, vì Sở KH&CN xếp "
        "lịch cho các cơ quan, đơn vị đăng ký sử dụng hệ thống HNTH"
    ),
    "registration.own_unit": (
        "HNTH Ops: đơn vị chỉ đăng ký cuộc họp mình chủ trì (đơn vị chủ trì thông báo bằng "
        "văn bản); Sở KH&CN đăng ký cho mọi đơn vị"
    ),
    "record.not_in_future": (
        "HNTH Ops: thời điểm sự cố, khắc phục và kiểm tra định kỳ ghi theo thực tế, không ở "
        "tương lai, vì báo cáo năm tính từ các mốc đó"
    ),
    "incident.resolved_after_opened": (
        "HNTH Ops: sự cố được khắc phục sau khi xảy ra, vì báo cáo năm tính thời gian khắc "
        "phục từ hai mốc này"
    ),
}
"""Rules of the platform itself, the same in every province: no policy can turn them off,
so they are not in the policy files; a decision cites them with this source."""


DURATION: TypeAdapter[timedelta] = TypeAdapter(timedelta)
"""Reads a policy duration (ISO 8601 or seconds); built once: building one per call took
about a seventh of scheduling's CPU (a py-spy profile of the e2e bench)."""


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    value: Any
    source: str = Field(min_length=1)


class Bridge(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    ports: int = Field(ge=1)
    dial_in: str
    """A template with `{room}`."""
    source: str = "HNTH Ops: cấu hình cầu MCU của tỉnh (số cổng theo hợp đồng thiết bị)"
    """Where the bridge's capacity comes from, for decisions that cite it."""


class Policy(BaseModel):
    """One province's policy file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str
    name: str
    version: str
    timezone: str = "Asia/Ho_Chi_Minh"
    rules: dict[str, Rule]
    bridge: Bridge
    bridges: tuple[Bridge, ...] = ()
    """Further bridges (MCUs or virtual-room pools), each with its own ports, tried in order
    after `bridge`."""
    regulation: str | None = None
    """The seed file (`seeds/NNN`) of the province's own regulation: every source names it."""
    seed_titles: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """How the sources name each seed they cite besides its file (the document's number, or
    its province and year), so no rule cites a seed under another document's name."""
    coverage: str | None = None
    """Which area the province's own regulation was written for and why it applies to the
    province as it is now (the provinces merged on 1 July 2025; the regulations predate it)."""

    @property
    def all_bridges(self) -> tuple[Bridge, ...]:
        """`bridge` first, then `bridges` (a name listed twice counts once)."""
        seen: dict[str, Bridge] = {}
        for bridge in (self.bridge, *self.bridges):
            seen.setdefault(bridge.name, bridge)
        return tuple(seen.values())

    @property
    def id(self) -> str:
        return f"{self.tenant}@{self.version}"

    def ref(self, rule: str) -> RuleRef:
        """The rule's name and source, for a decision to cite: the province's, else a
        platform invariant's or the documented default's."""
        if rule in self.rules:
            return RuleRef(rule=rule, source=self.rules[rule].source)
        return RuleRef(rule=rule, source=INVARIANTS.get(rule, DEFAULT_SOURCE))

    def value(self, rule: str) -> Any:
        """The rule's raw value (a list, a number, a flag); KeyError names a missing rule."""
        return self.rules[rule].value

    def duration(self, rule: str) -> timedelta:
        """The rule's duration, or the documented default (`DEFAULTS`) the province left out."""
        if rule not in self.rules and rule in DEFAULTS:
            return DEFAULTS[rule]
        value = self.rules[rule].value
        if isinstance(value, timedelta):
            return value
        return DURATION.validate_python(value)


def describe(span: timedelta, *, english: bool = False) -> str:
    """A policy duration as people read it in a decision: `2 ngày`, `1 giờ 30 phút` /
    `2 days`, `1 h 30 min`. One wording for every service that cites a lead time or bound."""
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    units = ("days", "h", "min") if english else ("ngày", "giờ", "phút")
    parts = [f"{n} {unit}" for n, unit in zip((days, hours, minutes), units, strict=True) if n]
    return " ".join(parts) or f"0 {units[2]}"


def load_policy(directory: Path, tenant: str) -> Policy:
    """Read `<directory>/<tenant>.yaml`."""
    path = directory / f"{tenant}.yaml"
    return Policy.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
