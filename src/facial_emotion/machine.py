"""The machine a model trained on, for its card and the benchmarks' figures.

A training time or an images/s figure cannot be read without it: the shipped recipe took 96
minutes on one 2-core host and would take about 6 hours on another (BENCHMARKS.md).
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def host(cpuinfo: str | Path = "/proc/cpuinfo") -> dict[str, object]:
    """The CPU model (Linux's ``model name``; elsewhere what :mod:`platform` knows), its cores
    and the TensorFlow version that ran."""
    try:
        lines = Path(cpuinfo).read_text(encoding="utf-8").splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or platform.machine()
    import tensorflow as tf

    return {"cpu": cpu, "cpus": os.cpu_count(), "tensorflow": tf.__version__}
