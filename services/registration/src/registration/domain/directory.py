"""The directory's rules, pure (rule 5: every endpoint names one technician)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hnth_contracts.policy import Policy
from hnth_kit.refusal import Violation

TECHNICIAN_RULE = "directory.technician_required"
"""Whether every active endpoint must name its technician (cán bộ kỹ thuật)."""


def technician_missing(endpoint: Mapping[str, Any], policy: Policy) -> Violation | None:
    """An active endpoint without a technician, where the province requires one. A
    deactivated endpoint needs none: it takes part in nothing."""
    required = TECHNICIAN_RULE in policy.rules and bool(policy.value(TECHNICIAN_RULE))
    if not required or not endpoint.get("active", True) or endpoint.get("technician"):
        return None
    code = endpoint.get("code") or ""
    return Violation(
        "technician",
        TECHNICIAN_RULE,
        policy.ref(TECHNICIAN_RULE).source,
        f"Tỉnh yêu cầu mỗi điểm cầu có 01 cán bộ kỹ thuật: hãy ghi cán bộ kỹ thuật của "
        f"điểm cầu {code}.",
        f"This province requires every endpoint to name its technician: give endpoint "
        f"{code}'s technician.",
    )
