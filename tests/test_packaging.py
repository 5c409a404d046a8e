"""What `pip install /path/to/facial-emotion` and `python -m build` make: the wheel holds the
clone's package files, no others; the sdist holds the package and its build files, no tests.

pip builds a local folder in place, so setuptools' ``build/`` in the clone outlives each install.
Wheel and sdist are built here by the build backend itself, in a copy of the project's build inputs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _project_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md", "MANIFEST.in"):
        if (ROOT / name).is_file():
            shutil.copy(ROOT / name, copy / name)
    for folder in ("src", "tests"):
        shutil.copytree(
            ROOT / folder,
            copy / folder,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache"),
        )
    return copy


def _tracked_package_files() -> set[str]:
    """The package's files Git tracks, as named in a wheel; empty outside a clone."""
    tracked = subprocess.run(
        ["git", "ls-files", "src/facial_emotion"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    return {name.removeprefix("src/") for name in tracked}


def _build(project: Path, out: Path, hook: str) -> Path:
    """The file the build backend's ``hook`` (build_wheel, build_sdist) makes in ``out``."""
    build = f"import sys\nfrom setuptools import build_meta\nprint(build_meta.{hook}(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", build, str(out)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return out / done.stdout.splitlines()[-1]


def _build_wheel(project: Path, out: Path) -> list[str]:
    with zipfile.ZipFile(_build(project, out, "build_wheel")) as wheel:
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
    # in a clone, every file of the package is in the wheel (outside one, the set is empty)
    assert _tracked_package_files() <= set(names)


def test_the_sdist_holds_the_package_and_its_build_files_and_no_tests(tmp_path: Path) -> None:
    # setuptools adds tests/test*.py by default, without the conftest.py, data_fixtures.py,
    # params.yaml, notebooks and benchmarks they need (12 of 45 failed to import from an sdist)
    project = _project_copy(tmp_path)
    with tarfile.open(_build(project, tmp_path, "build_sdist")) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert not [name for name in names if name.startswith("tests/")]
    top = {name.split("/")[0] for name in names}
    assert top == {
        "PKG-INFO",
        "README.md",
        "pyproject.toml",
        "setup.py",
        "setup.cfg",
        "MANIFEST.in",
        "src",
    }
    package = {
        name.removeprefix("src/") for name in names if name.startswith("src/facial_emotion/")
    }
    for shipped in ("py.typed", "weights/fer2013.int8.tflite", "weights/fer2013.md"):
        assert f"facial_emotion/{shipped}" in package
    assert _tracked_package_files() <= package


def test_what_an_install_from_the_clone_leaves_there_is_ignored_by_git() -> None:
    # pip leaves build/ (17 MB, the weights again), `pip wheel -w dist` and python -m build dist/
    left = ["build/lib/facial_emotion/__init__.py", "dist/facial_emotion-0.1.0.tar.gz"]
    done = subprocess.run(["git", "check-ignore", *left], cwd=ROOT, capture_output=True, text=True)
    if done.returncode == 128:  # not a git checkout (an unpacked sdist)
        return
    assert done.stdout.split() == left
