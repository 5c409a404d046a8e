"""Progress in a log: a line now and then on long work, nothing on short work, never a redraw."""

from __future__ import annotations

import time

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
