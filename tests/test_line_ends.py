"""Files the pipeline writes have LF line ends on every system. Git (``.gitattributes``:
``eol=lf``) commits a CRLF file written on Windows as LF, while dvc.lock keeps the hash of the
CRLF bytes: every checkout of that commit then showed train, evaluate and export as changed, and
`dvc repro` trained again. Windows' text mode is emulated here, as Python documents it: with
``newline=None``, each "\\n" written becomes ``os.linesep`` ("\\r\\n"), which pandas also ends
its CSV lines with."""

from __future__ import annotations

import ast
import builtins
import io
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from facial_emotion.cli import main
from facial_emotion.files import write_json, write_text

SRC = Path(__file__).resolve().parents[1] / "src" / "facial_emotion"


@pytest.fixture
def windows_text_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Text files opened for writing translate "\\n" to "\\r\\n" unless ``newline`` says
    otherwise, and ``os.linesep`` is "\\r\\n", as on Windows."""
    real_open = io.open

    def windows_open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None,
                     *args, **kwargs):  # fmt: skip
        if "b" not in mode and any(m in mode for m in "wax+") and newline is None:
            newline = "\r\n"
        return real_open(file, mode, buffering, encoding, errors, newline, *args, **kwargs)

    monkeypatch.setattr(io, "open", windows_open)
    monkeypatch.setattr(builtins, "open", windows_open)
    monkeypatch.setattr(os, "linesep", "\r\n")


def test_the_emulation_writes_crlf_where_windows_does(windows_text_mode, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\nb\n", encoding="utf-8")
    pd.DataFrame({"x": [1, 2]}).to_csv(tmp_path / "a.csv", index=False)
    assert (tmp_path / "a.txt").read_bytes() == b"a\r\nb\r\n"
    assert (tmp_path / "a.csv").read_bytes() == b"x\r\n1\r\n2\r\n"


def test_metrics_and_text_outputs_have_lf_line_ends(windows_text_mode, tmp_path: Path) -> None:
    write_json(tmp_path / "train.json", {"accuracy": 0.5, "epochs": 2})
    write_text(tmp_path / "params_checked.txt", "ok\nchecked\n")
    for name in ("train.json", "params_checked.txt"):
        assert b"\r" not in (tmp_path / name).read_bytes(), name
    assert json.loads((tmp_path / "train.json").read_text(encoding="utf-8"))["epochs"] == 2


def test_csv_outputs_have_lf_line_ends(windows_text_mode, tmp_path: Path) -> None:
    from facial_emotion.files import write_csv

    write_csv(tmp_path / "history.csv", pd.DataFrame({"epoch": [1, 2], "loss": [0.5, 0.25]}))
    assert (tmp_path / "history.csv").read_bytes() == b"epoch,loss\n1,0.5\n2,0.25\n"


def test_every_dataframe_csv_the_package_writes_names_its_line_end() -> None:
    """pandas ends lines with os.linesep unless told: CRLF in history.csv and confusion.csv."""
    unnamed = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "to_csv"
                and "lineterminator" not in {k.arg for k in node.keywords}
            ):
                unnamed.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not unnamed, f"to_csv without lineterminator='\\n': {unnamed}"


def test_the_video_csv_is_written_as_the_csv_module_documents(
    windows_text_mode, capsys, tmp_path: Path
) -> None:
    """csv's documented way: a file opened with newline="", so its rows end as it ends them."""
    clip = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for _ in range(3):
        writer.write(np.full((48, 64, 3), 128, np.uint8))
    writer.release()
    table = tmp_path / "frames.csv"
    assert main(["video", str(clip), "--csv", str(table), "--max-frames", "2"]) == 0
    capsys.readouterr()
    assert table.read_bytes().startswith(b"time,frame,face,")
    assert b"\r" not in table.read_bytes()
