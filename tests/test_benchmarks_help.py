"""The benchmark scripts' ``--help`` answers at once: it used to wait for TensorFlow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

# each script's --help in turn, in one interpreter; prints the first that imported one of the
# modules named (comma-separated) in argv[2]
HELP_OF_EACH = """
import contextlib, io, runpy, sys
sys.path.insert(0, sys.argv[1])
watched = sys.argv[2].split(",")
for script in sys.argv[3:]:
    sys.argv = [script, "--help"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        runpy.run_path(script, run_name="__main__")
    if any(module in sys.modules for module in watched):
        print(script)
        break
"""


def first_importing(modules: str, scripts: list[str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", HELP_OF_EACH, str(BENCHMARKS), modules, *scripts],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_no_benchmarks_help_imports_tensorflow() -> None:
    """`python benchmarks/fer2013.py --help` took 6 s, TensorFlow's import, before argparse
    printed a line: the heavy imports now come after the arguments are read."""
    scripts = sorted(str(path) for path in BENCHMARKS.glob("*.py"))
    assert (found := first_importing("tensorflow", scripts)) == "", (
        f"{found} --help imports TensorFlow"
    )


def test_benchmarks_help_imports_no_pandas_scikit_learn_or_matplotlib() -> None:
    """`--help` of most benchmarks took 3-7 s on a busy 2-core machine: pandas, scikit-learn and
    matplotlib, imported at the top for the work after it. detectors, group_photos and inference
    took 1-1.5 s: their option lists and Haar detectors were made at import."""
    scripts = sorted(str(path) for path in BENCHMARKS.glob("*.py"))
    found = first_importing("pandas,sklearn,matplotlib", scripts)
    assert found == "", f"{found} --help imports pandas, scikit-learn or matplotlib"
