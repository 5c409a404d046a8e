"""Wall-clock timing shared by the speed benchmarks, and the host the times were taken on."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from facial_emotion.machine import host

# What splits the README's and model card's speed table into rows beyond the CPU's name (an AMD
# EPYC in a VM is named alike with or without AVX-512): AVX-512, and native bfloat16
SPEED_FLAGS = ("avx512f", "avx512_bf16", "amx_bf16")


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median of ``repeats`` timed calls after ``warmup`` untimed ones (tracing, allocation)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def speed_host(cpuinfo: str | Path = "/proc/cpuinfo") -> dict[str, object]:
    """:func:`facial_emotion.machine.host` and whether the CPU lists each of ``SPEED_FLAGS``, so
    a committed speed figure can be matched to its row of the speed table; "unknown" where there
    is no Linux ``cpuinfo`` (macOS, Windows)."""
    try:
        listed = set(Path(cpuinfo).read_text(encoding="utf-8").split())
    except OSError:
        return {**host(cpuinfo), **dict.fromkeys(SPEED_FLAGS, "unknown")}
    return {**host(cpuinfo), **{flag: flag in listed for flag in SPEED_FLAGS}}


def load_averages() -> list[float] | None:
    """The 1-, 5- and 15-minute load averages, which Windows does not keep (no os.getloadavg):
    None there, and the run is not lost for a figure kept beside its results."""
    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None


def load_average() -> float | None:
    """The 1-minute load average, or None where :func:`load_averages` is."""
    loads = load_averages()
    return None if loads is None else loads[0]
