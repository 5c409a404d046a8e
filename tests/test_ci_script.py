"""`.ci/run`: a step that fails fails the run, whatever runs after it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CI = Path(__file__).resolve().parents[1] / ".ci" / "run"


@pytest.mark.skipif(shutil.which("bash") is None, reason="the CI script is a bash script")
def test_a_failed_install_fails_the_run_though_ruff_passes(tmp_path: Path) -> None:
    """`set -e` passes over a failure inside an `a && b && c` list unless it is the last
    command: once ruff ran after the tests, a venv or pip install that failed ran no test, and
    a ruff found elsewhere on PATH then ended the run with status 0."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(CI, tmp_path / ".ci" / "run")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name, body in {
        "id": "echo 1000",  # not root: no Chromium to install
        "python3.11": "echo 'no network' >&2; exit 3",  # the venv (or pip) fails
        "ruff": "exit 0",  # a ruff outside the venv, which passes
    }.items():
        (stubs / name).write_text(f"#!/bin/sh\n{body}\n")
        (stubs / name).chmod(0o755)
    done = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run")],
        env={"PATH": f"{stubs}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, (done.returncode, done.stderr)
