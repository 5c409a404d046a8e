"""benchmarks/soak.py: a service's soak of one recognizer, from several threads."""

from __future__ import annotations

import importlib.util
import json
import os
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
    assert result["host"]["cpu"]  # the latencies mean nothing without it


def test_a_call_that_raises_in_a_thread_is_counted_not_lost(monkeypatch, capsys) -> None:
    """An exception ended the worker thread that met it (a traceback on stderr among the
    progress lines) and left its calls undone, while the JSON said "mismatches": 0: a soak
    whose threads all failed read as a clean one."""
    import facial_emotion

    monkeypatch.syspath_prepend(str(SOAK.parent))  # the script imports timing beside it
    spec = importlib.util.spec_from_file_location("soak", SOAK)
    soak = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(soak)
    answered = []

    class Flaky:
        """Answers each call as the real one would, but raises once after the warm-up."""

        def __init__(self, *args, **kwargs) -> None:
            pass

        def read_crops(self, crops):
            answered.append(len(crops))
            if len(answered) == 4 * 7 + 3:  # the warm-up makes 4 photos x 7 calls
                raise RuntimeError("a state shared between threads")
            return []

    monkeypatch.setattr(facial_emotion, "EmotionRecognizer", Flaky, raising=False)
    argv = ["soak.py", "--mode", "crops", "--calls", "20", "--photos", "4", "--max-side", "200"]
    monkeypatch.setattr(sys, "argv", [*argv, "--threads", "2"])
    monkeypatch.delattr(os, "getloadavg")  # as on Windows: the run ended in an AttributeError
    soak.main()
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["load_avg"] is None
    assert result["errors"] == 1 and result["mismatches"] == 0
    assert result["first_error"].endswith("RuntimeError: a state shared between threads")
    assert len(answered) == 4 * 7 + 20  # the thread that met it went on
