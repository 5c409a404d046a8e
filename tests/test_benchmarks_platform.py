"""The benchmark scripts on macOS and Windows, emulated on Linux: refused up front where they
cannot measure, and reading and writing text as they do on Linux."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def script(name: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the scripts import timing beside them
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_soak_is_refused_where_there_is_no_proc_before_any_work(
    monkeypatch: pytest.MonkeyPatch, platform: str
) -> None:
    """soak.py reads memory and descriptors from /proc: on macOS or Windows it loaded the model
    and warmed up (56 s with its defaults on a 2-core host) to end in a FileNotFoundError
    traceback."""
    import facial_emotion

    def loaded(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded: the refusal comes after work")

    soak = script("soak", monkeypatch)
    monkeypatch.setattr(facial_emotion, "EmotionRecognizer", loaded, raising=False)
    monkeypatch.setattr(sys, "argv", ["soak.py"])
    monkeypatch.setattr(sys, "platform", platform)
    with pytest.raises(SystemExit) as refused:
        soak.main()
    assert refused.value.code == (
        f"soak: reads memory and open files from /proc, which only Linux has (this is "
        f"{platform}); run it on Linux, or in WSL on Windows"
    )


def history(tmp_path: Path, architecture: str) -> Path:
    """A two-epoch ``<model>.history.csv``, with the model card beside it as UTF-8."""
    path = tmp_path / "vgg.history.csv"
    path.write_text("epoch,seconds,val_accuracy\n0,60,0.4\n1,60,0.5\n", encoding="utf-8")
    card = {"metrics": {"architecture": architecture}, "train": {"epochs": 2}}
    (tmp_path / "vgg.json").write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    return path


def test_curve_reads_a_card_as_utf8_whatever_the_locale(tmp_path: Path) -> None:
    """A card written by another tool holds its text as UTF-8: read in the locale's encoding
    (cp1252 on Windows), "vgg–é" labelled the curve "vggâ€“Ã©". A read that names no encoding
    is an error here, as it is for the package (test_files.py)."""
    runs = history(tmp_path, "vgg–é")
    code = (
        "import sys, warnings\n"
        "warnings.filterwarnings('error', category=EncodingWarning, module='curve')\n"
        f"sys.path.insert(0, {str(BENCHMARKS)!r})\n"
        "import curve\n"
        "print(curve.curve(sys.argv[1])['run'][0])\n"
    )
    run = subprocess.run(
        [sys.executable, "-X", "warn_default_encoding", "-c", code, str(runs)],
        capture_output=True,
        encoding="utf-8",
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout == "vgg–é (2 epochs)\n"


def test_curve_writes_its_csv_with_lf_line_ends_on_windows_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pandas ends lines with os.linesep: on Windows the committed fer2013_curve.csv came out
    CRLF, a change to every line of it in Git. Windows' line end is emulated."""
    curve = script("curve", monkeypatch)
    monkeypatch.setattr(os, "linesep", "\r\n")
    assert curve.main([str(history(tmp_path, "vgg")), "--out", str(tmp_path / "curve")]) == 0
    written = (tmp_path / "curve.csv").read_bytes()
    assert written.startswith(b"run,epoch,") and b"\r" not in written
