"""Keras callbacks that ``training.fit`` adds to a run: the backups that let a stopped run resume
as an unbroken one would (BackupAndRestore keeps the weights only), and the timing and heartbeat
that say how an epoch goes.

Apart from ``training`` so that its fit, ensembles and settings checks read without the Keras hook
methods between them."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import SupportsFloat

import keras
import numpy as np

from facial_emotion.files import atomic_path
from facial_emotion.progress import LOG_EVERY


class RandomStateBackup(keras.callbacks.Callback):
    """Keeps the model's random-number states (its dropout masks) beside BackupAndRestore's
    backup, which holds weights only, so a resumed run draws the masks an unbroken one would."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _states(self) -> list:
        return [v for v in self.model.variables if v.path.endswith("seed_generator_state")]

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.path.is_file():
            with np.load(self.path) as saved:
                for variable, name in zip(self._states(), saved.files, strict=True):
                    variable.assign(saved[name])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        # v.numpy(), not keras.ops.convert_to_numpy(v): that is np.array(v), which NumPy 2
        # deprecates for a Keras Variable (a warning each call; an error once NumPy drops it)
        with atomic_path(self.path) as partial:
            np.savez(partial, *(v.numpy() for v in self._states()))


class CounterBackup(keras.callbacks.Callback):
    """Keeps the counters of early stopping and of the plateau schedule, and the learning rate,
    beside BackupAndRestore's backup, which holds none of them: a resumed run then lowers the
    rate and stops at the epochs an unbroken one would. It saves each epoch's record under its
    number and restores the one of the epoch the backup ends with, so a stop between the two
    saves cannot pair the weights of one epoch with the counters of another. Listed after the
    callbacks it watches, so it restores what their own start has just reset."""

    FIELDS = ("wait", "best", "best_epoch", "cooldown_counter")

    def __init__(self, path: Path, watched: list[keras.callbacks.Callback], finished: int) -> None:
        super().__init__()
        self.path = path
        self.watched = watched
        self.records: dict[str, dict] = (
            json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        )
        self.resumed = self.records.get(str(finished - 1))  # None for a new run

    def stopped_early(self) -> bool:
        """Whether early stopping ended the run at the epoch the backup ends with: the stop was
        then decided but not yet taken, and no further epoch may run."""
        return bool(self.resumed and self.resumed["stop"])

    def on_train_begin(self, logs: dict | None = None) -> None:
        record = self.resumed
        if record is None:
            return
        for callback, state in zip(self.watched, record["counters"], strict=True):
            for name, value in state.items():
                setattr(callback, name, value)
        self.model.optimizer.learning_rate.assign(record["learning_rate"])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        counters = [
            {
                name: _plain(getattr(callback, name))
                for name in self.FIELDS
                if hasattr(callback, name)
            }
            for callback in self.watched
        ]
        rate = float(self.model.optimizer.learning_rate)
        self.records = {k: v for k, v in self.records.items() if int(k) == epoch - 1}
        self.records[str(epoch)] = {
            "counters": counters,
            "learning_rate": rate,
            "stop": bool(self.model.stop_training),
        }
        with atomic_path(self.path) as partial:
            partial.write_text(json.dumps(self.records), encoding="utf-8")


def _plain(value: SupportsFloat | None) -> int | float | None:
    """A counter as JSON holds it: an epoch count stays an int, a best loss (a NumPy float) a
    float."""
    return value if value is None or isinstance(value, int) else float(value)


class EpochTimer(keras.callbacks.Callback):
    """Adds wall-clock seconds, images/s and the learning rate to each epoch's logs."""

    def __init__(self, n_images: int) -> None:
        super().__init__()
        self.n_images = n_images

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        seconds = time.perf_counter() - self.start
        if logs is not None:
            logs["seconds"] = seconds
            logs["images_per_second"] = self.n_images / seconds
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class EpochHeartbeat(keras.callbacks.Callback):
    """A line on stderr every ``every`` seconds of an epoch: Keras prints an epoch's line only
    at its end, and a FER2013 epoch on 2 cores is minutes of silence. A timer thread, not a
    batch hook, so the training steps run as they would without it."""

    def __init__(self, epochs: int, every: float = LOG_EVERY) -> None:
        super().__init__()
        self.epochs, self.every = epochs, every
        self.last_seconds: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(epoch, self._stop), daemon=True)
        self._start = time.perf_counter()
        self._thread.start()

    def _beat(self, epoch: int, stop: threading.Event) -> None:
        while not stop.wait(self.every):
            elapsed = _duration(time.perf_counter() - self._start)
            line = f"epoch {epoch + 1}/{self.epochs}: {elapsed} in"
            if self.last_seconds is not None:
                line += f"; the last took {_duration(self.last_seconds)}"
            print(line, file=sys.stderr, flush=True)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.end_beats()
        self.last_seconds = time.perf_counter() - self._start

    def on_train_end(self, logs: dict | None = None) -> None:
        self.end_beats()

    def end_beats(self) -> None:
        """Stop the timer thread. Keras calls no ``on_train_end`` when an epoch raises (Ctrl-C,
        an error in a callback), so ``fit`` calls this too: the thread went on printing each
        minute, for good in the Jupyter kernel that runs ``02_train``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
