"""TensorFlow's and LiteRT's C++ start-up log is held back; all else on stderr gets through."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from facial_emotion.native_log import native_log_held_back, without_native_log

ONEDNN_NOTICE = (
    "I0000 00:00:1795900958.958822   12679 port.cc:153] oneDNN custom operations are on. "
    "You may see slightly different numerical results\n"
)


def test_only_native_log_lines_are_removed() -> None:
    text = ONEDNN_NOTICE + "UserWarning: something real\n" + "E0000 00:00:1.5 1 op.cc:7] x\n"
    assert without_native_log(text) == "UserWarning: something real\n"


def test_other_output_of_native_code_still_reaches_the_user(capfd: pytest.CaptureFixture) -> None:
    with native_log_held_back():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"fully_quantize: 0, inference_type: 6, input_inference_type: INT8\n")
        os.write(2, ONEDNN_NOTICE.encode() + b"W: a real warning\n")
    assert capfd.readouterr().err == "W: a real warning\n"


def test_what_failing_native_code_wrote_still_reaches_the_user(capfd: pytest.CaptureFixture):
    with pytest.raises(RuntimeError), native_log_held_back():
        os.write(2, ONEDNN_NOTICE.encode() + b"E: the real reason\n")
        raise RuntimeError
    assert capfd.readouterr().err == "E: the real reason\n"


def test_the_log_is_held_back_with_no_writable_temporary_folder(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture, tmp_path: Path
) -> None:
    """A container whose disks are all read-only (Kubernetes' readOnlyRootFilesystem, no /tmp
    volume): a temporary file for stderr failed every model load as "not a valid TensorFlow
    Lite model"."""
    with monkeypatch.context() as patch:  # undone before pytest's own temporary files
        patch.setattr("tempfile.tempdir", str(tmp_path / "missing"))
        with native_log_held_back():
            os.write(2, ONEDNN_NOTICE.encode() + b"W: a real warning\n")
    assert capfd.readouterr().err == "W: a real warning\n"


def test_with_nowhere_to_hold_the_log_the_block_still_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def no_memfd(*args: object) -> int:
        raise OSError(38, "Function not implemented")

    ran = []
    with monkeypatch.context() as patch:
        patch.setattr("tempfile.tempdir", str(tmp_path / "missing"))
        patch.setattr(os, "memfd_create", no_memfd, raising=False)
        with native_log_held_back():
            ran.append(True)
    assert ran == [True]


def _export_without_a_model(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [Path(sys.executable).parent / "facial-emotion", "export"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=folder,
    )


def test_a_tensorflow_command_error_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")  # a clone whose pipeline has not run
    run = _export_without_a_model(tmp_path)
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        "facial-emotion export: error: models/model.keras: model not found; "
        "run `dvc repro` to train it"
    ]


def test_export_with_the_package_alone_asks_for_a_model_file(tmp_path: Path) -> None:
    """Outside a clone there is no pipeline to run: it said "run `dvc repro`" (audit CI)."""
    run = _export_without_a_model(tmp_path)
    assert run.returncode == 2
    assert "pass a model file (--model FILE)" in run.stderr


def test_threads_holding_the_log_back_at_once_leave_stderr_where_it_was() -> None:
    """Two recognizers built at once in a service's threads each redirect stderr: unserialised,
    one restored the other's temporary file and the process lost its stderr for good."""
    before = os.fstat(2)
    start = threading.Barrier(4)

    def hold_back() -> None:
        start.wait()
        for _ in range(20):
            with native_log_held_back():
                time.sleep(0.001)

    threads = [threading.Thread(target=hold_back) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)


def test_a_notebook_kernel_filters_the_native_log_from_then_on() -> None:
    """In Jupyter, what C++ code writes to stderr shows in red under the cell: TensorFlow's
    start-up notices, and an "E0000 ... NodeDef" line in every training, read as errors."""
    code = (
        "import os, threading\n"
        "from facial_emotion.native_log import filter_native_log_from_now_on as f\n"
        "f(); f()\n"  # a notebook's first cell run twice
        f"os.write(2, {ONEDNN_NOTICE.encode()!r})\n"
        "os.write(2, b'E0000 00:00:1.5 1 node_def_util.cc:682] NodeDef mentions\\n')\n"
        "os.write(2, b'W: a real warning\\n')\n"
        # the filter's thread has passed every line on once it ends, at the pipe's end: a fixed
        # second for it may be too short on a loaded machine, and the warning would be lost
        "(pump,) = [t for t in threading.enumerate() if t.name == 'native-log']\n"
        "os.dup2(os.open(os.devnull, os.O_WRONLY), 2)\n"
        "pump.join(60)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert run.returncode == 0 and run.stderr == b"W: a real warning\n", run.stderr


def test_the_shipped_model_loads_in_a_process_without_sys_stderr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pythonw.exe and windowed PyInstaller apps set sys.stderr to None: the shipped model was
    then called "not a valid TensorFlow Lite model" (an AttributeError on its flush)."""
    from facial_emotion.predict import EmotionRecognizer

    monkeypatch.setattr(sys, "stderr", None)
    with native_log_held_back():
        os.write(2, b"")
    assert EmotionRecognizer().classes
