"""Inspection's rules, pure: readiness checklists due at T-1h (rule 3), periodic
inspections (rule 4), incidents, quality feedback (rule 9) and the year-end tasks and
report (rule 7), a module per concept. Nothing here does I/O; time comes in as `now`."""

from __future__ import annotations

from typing import Any

Document = dict[str, Any]
PRODUCER = "inspection"
"""The `producer` of every event this service emits."""
