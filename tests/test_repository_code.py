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


@pytest.mark.skipif(os.pathsep != ":", reason="a ':' in a path is a drive there")
def test_a_copy_whose_path_holds_the_path_separator_runs_once(tmp_path: Path) -> None:
    """PYTHONPATH splits /tmp/a:b/src in two, so the re-run imported the venv's code again and
    re-ran itself for ever (98 execs in 15 s of `notebook --help`)."""
    repo = tmp_path / "run:1"
    shutil.copytree(
        SRC / "facial_emotion",
        repo / "src" / "facial_emotion",
        ignore=shutil.ignore_patterns("weights", "__pycache__"),
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}  # as an editable install of the workspace
    try:
        done = subprocess.run(
            [sys.executable, "-m", "facial_emotion.notebook", "--help"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the stage re-ran itself without end")
    assert done.returncode == 0, done.stderr
    assert (
        f"warning: {repo.resolve() / 'src'}: a ':' in the path keeps it off PYTHONPATH"
        in done.stderr
    )


class _Child:
    """A stand-in for the re-run stage on Windows: Ctrl+C reaches it and the waiting parent, and
    it exits with 130 once it has stopped on its own."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv, self.returncode, self.killed, self._waits = argv, None, False, 0

    def __enter__(self) -> _Child:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def wait(self, timeout: float | None = None) -> int:
        self._waits += 1
        if self._waits == 1:
            raise KeyboardInterrupt
        self.returncode = 130
        return 130

    def kill(self) -> None:
        self.killed = True


def test_ctrl_c_on_windows_is_left_to_the_rerun_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Windows the stage runs as a child: the parent killed it 0.25 s after Ctrl+C (cutting
    its own clean stop short) and ended with a KeyboardInterrupt traceback."""
    from facial_emotion import paths

    (tmp_path / "src" / "facial_emotion").mkdir(parents=True)
    (tmp_path / "src" / "facial_emotion" / "__init__.py").write_text("")
    children: list[_Child] = []

    def popen(argv: list[str], env: dict[str, str]) -> _Child:
        children.append(_Child(argv, env))
        return children[-1]

    def execve(*args: object) -> None:
        raise AssertionError("exec on Windows")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.setattr(sys, "argv", ["prepare.py", "--params", "p.yaml"])
    with pytest.raises(SystemExit) as stopped:
        paths.run_on_repository_code("facial_emotion.prepare")
    assert stopped.value.code == 130
    (child,) = children
    assert not child.killed
    assert child.argv == [sys.executable, "-m", "facial_emotion.prepare", "--params", "p.yaml"]
