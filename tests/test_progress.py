"""Progress in a log: a line now and then on long work, nothing on short work, never a redraw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from facial_emotion import progress
from facial_emotion.progress import progress_bar


@pytest.fixture(autouse=True)
def bars_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TQDM_DISABLE", raising=False)


def test_long_work_writes_a_plain_line_now_and_then_to_a_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under `dvc repro > log` a 300,000-image prepare said nothing for minutes."""
    monkeypatch.setattr(progress, "LOG_EVERY", 0.05)  # a minute, scaled down
    with progress_bar(4, desc="reading", unit="img") as bar:
        for _ in range(4):
            time.sleep(0.06)
            bar.update(1)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "\r" not in err and len(lines) >= 2, err  # lines of their own, not redraws
    assert lines[-1].startswith("reading: 100%") and "4/4" in lines[-1], err
    assert sum("4/4" in line for line in lines) == 1, err  # closing does not repeat the count


def test_short_work_writes_nothing_to_a_log(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_bar(4, desc="reading", unit="img") as bar:
        bar.update(4)
    assert capsys.readouterr().err == ""


def test_no_progress_writes_nothing_however_long(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(progress, "LOG_EVERY", 0.01)
    with progress_bar(2, off=True) as bar:
        time.sleep(0.03)
        bar.update(2)
    assert capsys.readouterr().err == ""


def _work(seconds: float, desc: str = "reading") -> None:
    with progress_bar(10_000, desc=desc, unit="img") as bar:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.01)
            bar.update(1)


def _in_a_log(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` run with stderr a pipe, as under ``dvc repro > log``, and ``env``: tqdm reads its
    TQDM_* variables once, on import, so a test's own process cannot set them."""
    setup = (
        "import time, sys\n"
        "from facial_emotion import progress\n"
        "from tests.test_progress import _work\n"
    )
    return subprocess.run(
        [sys.executable, "-c", setup + code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        cwd=Path(__file__).resolve().parents[1],
        check=True,
    )


def test_a_log_gets_one_line_each_interval_not_the_monitors_too() -> None:
    """tqdm's monitor thread redrew the bar maxinterval (10 s) after each line: lines at 1:00,
    1:20, 2:00, 2:20 of a prepare. Scaled down: a line every 0.3 s, the monitor's after 0.1 s."""
    code = (
        "from tqdm import tqdm\n"
        "tqdm.monitor_interval = 0.02\n"  # the monitor wakes this often (10 s)
        "progress.LOG_EVERY = 0.3\n"
        "times = []\n"
        "class Log:\n"
        "    def write(self, text):\n"
        "        times.extend([time.monotonic()] * text.count('\\n'))\n"
        "    def flush(self): pass\n"
        "    def isatty(self): return False\n"
        "sys.stderr = Log()\n"
        "_work(1.4)\n"
        "print([round(b - a, 3) for a, b in zip(times, times[1:-1])])\n"  # closing: any time
    )
    gaps = json.loads(_in_a_log(code, TQDM_MAXINTERVAL="0.1").stdout)
    assert len(gaps) >= 2 and min(gaps) >= 0.25, gaps


def test_a_bracket_in_the_description_does_not_hide_the_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lines were told apart by the text before their first "[": a folder named "faces [2024]"
    wrote its first line only."""
    monkeypatch.setattr(progress, "LOG_EVERY", 0.05)
    _work(0.4, desc="folder faces [2024] train")
    assert len(capsys.readouterr().err.splitlines()) >= 3


def test_tqdm_disable_0_leaves_the_log_lines_on() -> None:
    """TQDM_DISABLE=0 leaves bars on (BARS_ON); tqdm read it itself, as off, for a log."""
    run = _in_a_log("progress.LOG_EVERY = 0.05\n_work(0.3)\n", TQDM_DISABLE="0")
    assert run.stderr.count("reading:") >= 2, run.stderr
