"""A stage runs the code of the repository it runs in, not the code the venv was installed from.

A queued or --temp `dvc exp run` runs in a copy of the repository, where an editable install
imported the workspace's code: code edited after queueing ran under the copy's recorded hashes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
STAGE_MODULES = ["check_params", "prepare", "notebook", "export"]


@pytest.mark.parametrize("module", STAGE_MODULES)
def test_a_stage_module_runs_the_copys_code(tmp_path: Path, module: str) -> None:
    copy = tmp_path / "src" / "facial_emotion"
    shutil.copytree(
        SRC / "facial_emotion", copy, ignore=shutil.ignore_patterns("weights", "__pycache__")
    )
    edited = copy / f"{module}.py"
    main_block = 'if __name__ == "__main__":'
    source = edited.read_text(encoding="utf-8")
    edited.write_text(source.replace(main_block, f'print("the copy\'s code ran")\n{main_block}'))
    env = {**os.environ, "PYTHONPATH": str(SRC)}  # as an editable install of the workspace
    done = subprocess.run(
        [sys.executable, "-m", f"facial_emotion.{module}", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "the copy's code ran" in done.stdout
