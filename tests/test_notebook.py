"""Publishing an executed notebook as a report (real papermill, real Jupyter kernel)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from facial_emotion.notebook import execute

TENSORFLOW_START_UP = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1795888303.653865    7966 port.cc:153] oneDNN custom operations are on.\n"
    "E0000 00:00:1795888307.287345    7966 node_def_util.cc:682] NodeDef mentions attribute "
    "use_unbounded_threadpool which is not in the op definition\n"
)


def test_report_and_stage_log_keep_warnings_but_not_tensorflow_start_up_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = tmp_path / "log.txt"  # read by the cell, so the report's code does not quote it
    log.write_text(TENSORFLOW_START_UP)
    code = (
        "import sys\n"
        f"sys.stderr.write(open({str(log)!r}).read())\n"
        "sys.stderr.write('UserWarning: only 3 disgust faces\\n')\n"
        "print('accuracy 0.5')"
    )
    notebook = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), notebook)
    execute(notebook, tmp_path / "report", params_file=tmp_path / "absent.yaml")
    for report in ("report.html", "report.ipynb"):
        text = (tmp_path / report).read_text()
        assert "only 3 disgust faces" in text and "accuracy 0.5" in text, report
        assert "oneDNN" not in text and "InitializeLog" not in text, report
        assert "use_unbounded_threadpool" not in text, report
    stage_log = caplog.text  # what `dvc repro` shows of the kernel's stderr, through papermill
    assert "only 3 disgust faces" in stage_log
    assert "oneDNN" not in stage_log and "use_unbounded_threadpool" not in stage_log


def test_a_terminated_stage_leaves_no_partial_report(tmp_path: Path) -> None:
    """SIGTERM, as `kill` or a CI timeout sends it, cleans up as Ctrl-C does."""
    notebook = tmp_path / "slow.ipynb"
    cell = nbformat.v4.new_code_cell("import time\ntime.sleep(120)")
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), notebook)
    reports = tmp_path / "reports"
    reports.mkdir()
    command = [sys.executable, "-m", "facial_emotion.notebook", str(notebook), str(reports / "r")]
    stage = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not list(reports.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)  # until the report is being written
    time.sleep(3)  # into the sleeping cell
    stage.send_signal(signal.SIGTERM)
    _, err = stage.communicate(timeout=60)
    assert stage.returncode == 128 + signal.SIGTERM, err
    assert err.rstrip().endswith(f"{notebook}: terminated")
    assert list(reports.iterdir()) == []
