"""benchmarks/soak.py: a service's soak of one recognizer, from several threads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[1] / "benchmarks" / "soak.py"


def test_soak_reports_memory_descriptors_and_latency_with_threads_agreeing() -> None:
    """Threads sharing the shipped model read each crop as one thread reads it."""
    done = subprocess.run(
        [sys.executable, str(SOAK), "--mode", "crops", "--calls", "30", "--photos", "4",
         "--max-side", "200", "--threads", "3", "--every", "10"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["calls"] == 30 and result["mismatches"] == 0
    assert set(result["latency"]) == {"p50_ms", "p95_ms", "p99_ms"}
    assert result["fds"]["end"] == result["fds"]["after_warmup"]
