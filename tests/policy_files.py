"""A policy dir of a test's own: every shipped province file, one province's rules set
to the values the test needs (a service restarted on it decides by them)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from hnth_kit.settings import REPO_ROOT


def policies_with(folder: Path, tenant: str, values: dict[str, Any]) -> Path:
    """Copy every shipped policy into `folder`, `tenant`'s with `values` (rule -> value)."""
    for path in (REPO_ROOT / "policies").glob("*.yaml"):
        shutil.copy(path, folder / path.name)
    path = folder / f"{tenant}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for rule, value in values.items():
        data["rules"][rule]["value"] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder
