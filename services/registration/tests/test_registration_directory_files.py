"""Reading the provinces' directory files: a missing folder stops the service."""

from __future__ import annotations

from pathlib import Path

import pytest

from registration.directory import read_directories


def test_a_missing_directory_folder_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="HNTH_DIRECTORY_DIR"):
        read_directories(tmp_path / "data")


def test_an_empty_directory_folder_means_no_demo_province(tmp_path: Path) -> None:
    assert read_directories(tmp_path) == []
