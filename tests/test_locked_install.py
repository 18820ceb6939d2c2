"""The Python tree is the one uv.lock pins, on every machine: `make` installs it exactly, refuses a pyproject.toml the
lock no longer meets, and `make upgrade` says what it moved."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from localcloud.launcher import ROOT
from tools.upgrade import locked_versions, moves, pinned_uv

UV = ROOT / ".tools" / "bin" / "uv"


def uv() -> Path:
    assert UV.exists(), "uv is installed by `make setup` (from tools/uv-requirements.txt): run it first"
    return UV


def test_the_environment_holds_exactly_the_locked_tree() -> None:
    checked = subprocess.run([str(uv()), "sync", "--frozen", "--extra", "dev", "--check"], cwd=ROOT,
                             capture_output=True, text=True, env={**os.environ, "UV_PROJECT_ENVIRONMENT": ".venv"})

    assert checked.returncode == 0, checked.stderr


def test_a_range_the_lock_no_longer_meets_stops_the_install_and_names_the_command_that_relocks(
        tmp_path: Path) -> None:
    for name in ("Makefile", "pyproject.toml", "uv.lock", "tools/uv-requirements.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"tzlocal>=5.2,<6"', '"tzlocal>=5.2,<5.3"'))

    # -o: the uv that `make setup` installed here is taken as it is.
    made = subprocess.run(["make", "--no-print-directory", "-o", str(uv()), f"UV={uv()}", ".venv/.installed"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)

    assert made.returncode != 0
    assert "run 'make lock' to re-lock" in made.stderr
    assert not (tmp_path / ".venv").exists()


def test_every_locked_package_has_a_version_and_hashes() -> None:
    lock = (ROOT / "uv.lock").read_text()
    versions = locked_versions(lock)

    assert len(versions) > 50 and "stamina" in versions and "microsoft-agents-hosting-core" in versions
    assert lock.count('hash = "sha256:') > len(versions)
    assert pinned_uv((ROOT / "tools/uv-requirements.txt").read_text()).keys() == {"uv"}


@pytest.mark.parametrize(("before", "after", "expected"), [
    ({"stamina": "26.1.0"}, {"stamina": "26.2.0"}, ["stamina 26.1.0 -> 26.2.0"]),
    ({"a": "1", "gone": "2"}, {"a": "1", "new": "3"}, ["gone 2 -> -", "new - -> 3"]),
    ({"a": "1"}, {"a": "1"}, []),
])
def test_upgrade_names_each_package_that_moved_with_its_old_and_new_version(
        before: dict[str, str], after: dict[str, str], expected: list[str]) -> None:
    assert moves(before, after) == expected
