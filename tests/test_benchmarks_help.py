"""The benchmark scripts' ``--help`` answers at once: it used to wait for TensorFlow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

# each script's --help in turn, in one interpreter; prints the first that imported TensorFlow
HELP_OF_EACH = """
import contextlib, io, runpy, sys
sys.path.insert(0, sys.argv[1])
for script in sys.argv[2:]:
    sys.argv = [script, "--help"]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        runpy.run_path(script, run_name="__main__")
    if "tensorflow" in sys.modules:
        print(script)
        break
"""


def test_no_benchmarks_help_imports_tensorflow() -> None:
    """`python benchmarks/fer2013.py --help` took 6 s, TensorFlow's import, before argparse
    printed a line: the heavy imports now come after the arguments are read."""
    scripts = sorted(str(path) for path in BENCHMARKS.glob("*.py"))
    done = subprocess.run(
        [sys.executable, "-c", HELP_OF_EACH, str(BENCHMARKS), *scripts],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "", f"{done.stdout.strip()} --help imports TensorFlow"
