"""The suite's own set-up: how many workers `pytest` (``-n auto``) starts."""

from __future__ import annotations

import os

import conftest
import pytest


@pytest.mark.parametrize(("cores", "workers"), [(1, 1), (2, 2), (16, 4)])
def test_auto_starts_a_worker_per_usable_core_and_at_most_four(
    monkeypatch: pytest.MonkeyPatch, cores: int, workers: int
) -> None:
    """A 16-thread laptop started 16 workers, each holding TensorFlow, for no gain in time."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    assert conftest.pytest_xdist_auto_num_workers(None) == workers
