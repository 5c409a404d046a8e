"""Signals as interrupts: a stop must read as a stop wherever it lands."""

from __future__ import annotations

import pytest

from facial_emotion.files import Terminated, sigterm_as_interrupt


def test_a_stop_that_lands_inside_c_code_is_still_a_stop() -> None:
    """SIGTERM while TensorFlow read a numpy array came out as a SystemError traceback, exit 1."""
    with pytest.raises(Terminated), sigterm_as_interrupt():
        try:
            raise Terminated
        except Terminated as stop:
            raise SystemError(
                "<built-in method __array__> returned a result with an exception set"
            ) from stop


def test_other_system_errors_pass_unchanged() -> None:
    with pytest.raises(SystemError, match="other"), sigterm_as_interrupt():
        raise SystemError("other")
