"""Shared fixtures: small models and data the tests make themselves (no outside data)."""

from __future__ import annotations

import errno
import importlib.util
import os
import subprocess
import threading
import time
from collections.abc import Callable
from types import ModuleType

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from facial_emotion.labels import EMOTIONS  # noqa: E402
from facial_emotion.modelfile import save_keras  # noqa: E402

MAX_WORKERS = 4


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per core this process may use, at most ``MAX_WORKERS``. Each
    worker holds TensorFlow and starts more Pythons that load it (two held 1.6 GB at their
    peak), so a 16-thread laptop's 16 would risk its memory, and gain nothing: a file stays on
    one worker, and the longest (test_video.py) is a fifth of the suite."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_WORKERS))


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small untrained Keras model in the project's model format, with its card."""
    import keras

    from facial_emotion.models import build

    keras.utils.set_random_seed(0)
    model = build("tiny", len(EMOTIONS))
    path = tmp_path_factory.mktemp("model") / "model.keras"
    save_keras(model, path, EMOTIONS, architecture="tiny")
    return path


@pytest.fixture(scope="session")
def ckplus_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small untrained model of CK+'s classes: contempt, and no neutral."""
    import keras

    from facial_emotion.models import build

    keras.utils.set_random_seed(0)
    classes = ("angry", "disgust", "fear", "happy", "sad", "surprise", "contempt")
    path = tmp_path_factory.mktemp("ckplus_model") / "ckplus.keras"
    save_keras(build("tiny", len(classes)), path, classes, architecture="tiny")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def load_benchmark() -> Callable[[str], ModuleType]:
    """``benchmarks/<name>.py`` as a module, for its ``main`` and helpers: the scripts are not a
    package, so they are loaded by path."""

    def load(name: str) -> ModuleType:
        path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"benchmark_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def read_once_noted() -> Callable[[list[str], Path], tuple[int, str, str]]:
    """Run ``command``, which writes the FIFO ``fifo``, and open the FIFO to read only once the
    command's stderr says it waits for a reader (or the command has ended): its status, its
    stderr and what the FIFO gave. A command that ended without opening the FIFO gives ""; the
    reader waited for it for good, so a command that failed hung the test run."""

    def run(command: list[str], fifo: Path) -> tuple[int, str, str]:
        stage = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        said: list[str] = []
        noted = threading.Event()

        def watch() -> None:
            for line in stage.stderr:
                said.append(line)
                if "waiting for a program to read" in line:
                    noted.set()
            noted.set()  # stderr closed: the command has ended without waiting

        got: list[str] = []

        def read() -> None:
            with fifo.open() as reader:
                got.append(reader.read())

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        noted.wait(timeout=300)  # TensorFlow's import alone took 30 s on a loaded machine
        reading = threading.Thread(target=read, daemon=True)
        reading.start()
        try:
            status = stage.wait(timeout=300)
        finally:
            stage.kill()
        # The command has ended, so it opened the FIFO (and the reader has its text) or never
        # will: a writer opened and closed here ends a reader's wait, and adds no text.
        deadline = time.monotonic() + 10
        while reading.is_alive() and time.monotonic() < deadline:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError as error:  # ENXIO: the reader has not begun its open yet
                if error.errno != errno.ENXIO:
                    raise
            reading.join(timeout=0.1)
        watcher.join(timeout=10)
        return status, "".join(said), "".join(got)

    return run
