"""Paths under the data directory, and the refusal of any that would leave it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agoria_tre import layout
from agoria_tre.errors import ConfigurationError

HOME = Path("/srv/agoria")


def test_layout_names_each_place() -> None:
    assert str(layout.copy_dir("u1", "patients", 2)) == "copies/u1/patients/v2"
    assert str(layout.workspace_image("u1")) == "workspaces/u1.img"
    assert str(layout.workspace_mount("u1")) == "workspaces/u1"
    assert str(layout.run_dir()) == "run"


def test_relative_paths_stay_under_home() -> None:
    assert layout.under_home(HOME, "copies/u1/patients/v1") == HOME / "copies/u1/patients/v1"


@pytest.mark.parametrize("recorded", ["/etc", "/srv/agoria/copies", "copies/../../etc", ".."])
def test_paths_that_would_leave_home_are_refused(recorded: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        layout.under_home(HOME, recorded)
    assert refused.value.user_message == (
        "a storage path recorded in the catalog points outside the data directory"
    )
    assert recorded in refused.value.log_message
