"""What `pip install /path/to/facial-emotion` builds: the wheel holds the clone's files, no others.

pip builds a local folder in place, so setuptools' ``build/`` in the clone outlives each install.
The wheel is built here by the build backend itself, in a copy of the project's build inputs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        if (ROOT / name).is_file():
            shutil.copy(ROOT / name, copy / name)
    shutil.copytree(
        ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    return copy


def _build_wheel(project: Path, out: Path) -> list[str]:
    build = (
        "import sys\nfrom setuptools import build_meta\nprint(build_meta.build_wheel(sys.argv[1]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", build, str(out)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with zipfile.ZipFile(out / done.stdout.splitlines()[-1]) as wheel:
        return wheel.namelist()


def test_a_file_gone_from_the_clone_is_gone_from_the_next_install(tmp_path: Path) -> None:
    project = _project_copy(tmp_path)
    # what an earlier `pip install` left: a module and a model since removed from the clone
    for stale in ("cli/__main__.py", "weights/old.tflite"):
        left = project / "build" / "lib" / "facial_emotion" / stale
        left.parent.mkdir(parents=True, exist_ok=True)
        left.write_text("X = 1\n")
    (tmp_path / "dist").mkdir()
    names = _build_wheel(project, tmp_path / "dist")
    assert "facial_emotion/cli/__main__.py" not in names
    assert "facial_emotion/weights/old.tflite" not in names
    tracked = subprocess.run(
        ["git", "ls-files", "src/facial_emotion"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    if tracked:  # in a clone: every file of the package is in the wheel
        assert {name.removeprefix("src/") for name in tracked} <= set(names)


def test_what_an_install_from_the_clone_leaves_there_is_ignored_by_git() -> None:
    # pip leaves build/ (17 MB, the weights again), `pip wheel -w dist` and python -m build dist/
    left = ["build/lib/facial_emotion/__init__.py", "dist/facial_emotion-0.1.0.tar.gz"]
    done = subprocess.run(["git", "check-ignore", *left], cwd=ROOT, capture_output=True, text=True)
    if done.returncode == 128:  # not a git checkout (an unpacked sdist)
        return
    assert done.stdout.split() == left
