"""Stops: a SIGTERM or Ctrl-C reads as a stop wherever it lands."""

from __future__ import annotations

import pytest

from facial_emotion.stops import Terminated, sigterm_as_interrupt


def _stop_inside_c_code() -> None:
    """SIGTERM landing while C code called back into Python: a SystemError, the stop its cause
    and context."""
    try:
        raise Terminated
    except Terminated as stop:
        raise SystemError(
            "<built-in method __array__> returned a result with an exception set"
        ) from stop


def _as_tensorflow_re_raises_it() -> None:
    """TensorFlow's traceback filter re-raises the error `from None`: the cause is cleared, the
    context kept (tensorflow/python/util/traceback_utils.py)."""
    try:
        _stop_inside_c_code()
    except SystemError as error:
        raise error from None


@pytest.mark.parametrize("raise_it", [_stop_inside_c_code, _as_tensorflow_re_raises_it])
def test_a_stop_that_lands_inside_c_code_is_still_a_stop(raise_it) -> None:
    """SIGTERM while TensorFlow read a numpy array came out as a SystemError traceback, exit 1;
    re-raised by TensorFlow, it still did so in CI (test_video's SIGTERM test, once in 4 runs)."""
    with pytest.raises(Terminated), sigterm_as_interrupt():
        raise_it()


def test_other_system_errors_pass_unchanged() -> None:
    with pytest.raises(SystemError, match="other"), sigterm_as_interrupt():
        raise SystemError("other")
