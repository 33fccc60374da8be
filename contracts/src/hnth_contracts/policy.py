"""A province's rules as data: `policies/<tenant>.yaml`, each rule with its source."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from hnth_contracts.events import RuleRef


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
        """The rule's name and source, for a decision to cite."""
        return RuleRef(rule=rule, source=self.rules[rule].source)

    def value(self, rule: str) -> Any:
        """The rule's raw value (a list, a number, a flag); KeyError names a missing rule."""
        return self.rules[rule].value

    def duration(self, rule: str) -> timedelta:
        value = self.rules[rule].value
        if isinstance(value, timedelta):
            return value
        return TypeAdapter(timedelta).validate_python(value)


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
