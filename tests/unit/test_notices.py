"""The third-party notices name every package the lock file pins, at its locked version
(refresh them with `uv run python -m infra.notices > THIRD_PARTY_NOTICES.md`)."""

from __future__ import annotations

from infra.notices import ROOT, locked_packages


def test_the_notices_list_every_locked_package_at_its_version() -> None:
    notices = (ROOT / "THIRD_PARTY_NOTICES.md").read_text(encoding="utf-8")
    rows = {
        line.split(" | ")[0].strip("| ") + "@" + line.split(" | ")[1]
        for line in notices.splitlines()
        if line.startswith("| ") and line.count(" | ") == 2
    }
    missing = [f"{n}@{v}" for n, v in locked_packages() if f"{n}@{v}" not in rows]
    assert not missing, f"refresh THIRD_PARTY_NOTICES.md (python -m infra.notices): {missing}"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").split()[:3] == [
        "Apache",
        "License",
        "Version",
    ]
