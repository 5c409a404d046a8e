"""Load a trained model (Keras or TensorFlow Lite) behind one ``predict`` call.

Both take float32 (N, 48, 48, 1) raw pixel values 0..255 and return (N, classes) probabilities.
TensorFlow Lite runs on LiteRT (``ai_edge_litert``), the interpreter TensorFlow now points to:
``tf.lite.Interpreter`` is deprecated and warns on every load. It is used only when LiteRT is not
installed; both measured the same speed here.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from facial_emotion.errors import FacialEmotionError
from facial_emotion.modelfile import read_card, require_file
from facial_emotion.native_log import import_tensorflow, native_log_held_back
from facial_emotion.tflite_card import embedded_card

# Faces per interpreter call: batching cut the per-face time of the baseline CNN by about a fifth
# against batch 1, and 64 keeps the activations small whatever the caller passes.
TFLITE_BATCH = 64
KERAS_BATCH = 256


FACE_INPUT = (48, 48, 1)


def require_face_input(path: Path, shape: Any) -> None:
    """Faces reach a model as (N, 48, 48, 1): another model would load, then fail at the first
    face with the framework's own error."""
    dims = tuple(shape)[1:]
    if len(dims) != len(FACE_INPUT) or any(
        d not in (None, -1, want) for d, want in zip(dims, FACE_INPUT, strict=True)
    ):
        shown = tuple(None if d in (None, -1) else int(d) for d in dims)
        raise FacialEmotionError(
            f"{path}: the model reads inputs of shape {shown}, not 48x48 gray faces "
            f"{FACE_INPUT}; train it with this project (`dvc repro`) or give it that input"
        )


class KerasBackend:
    def __init__(self, path: Path, precision: str = "auto") -> None:
        """``precision`` ``auto`` computes in bfloat16 where the CPU has it natively: about 2.5x
        the faces/s of float32 here, with the saved float32 weights (``self.model``) unchanged."""
        import_tensorflow(f"{path}: a Keras model")
        import keras

        from facial_emotion import models

        try:  # safe_mode: a Lambda layer's Python code is refused, not run (Keras's default)
            self.model = keras.models.load_model(path, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises many types for a corrupt file
            if "safe_mode" in str(exc):
                raise FacialEmotionError(
                    f"{path}: holds Python code (a Lambda layer), which is not run from a model "
                    "file; load only models you trust, rebuilt without Lambda layers"
                ) from exc
            raise FacialEmotionError(
                f"{path}: cannot be loaded as a Keras model ({type(exc).__name__}); "
                "save it again, or re-create the pipeline's model with `dvc repro train`"
            ) from exc
        require_face_input(path, self.model.input_shape)
        self.card = read_card(path, int(self.model.output_shape[-1]))
        if precision == "auto":  # as training picks it: the precision measured faster here
            precision = models.resolve_precision(precision)
        self.precision = precision
        self.runner = (
            self.model
            if precision == "float32"
            else models.with_compute_dtype(self.model, precision)
        )

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        if len(x) == 0:
            return np.zeros((0, len(self.card["classes"])), np.float32)
        # predict_on_batch runs a compiled graph: 3-7x faster than an eager call for the one face
        # of a photo, and without the per-call setup of predict().
        return np.concatenate(
            [
                self.runner.predict_on_batch(x[i : i + KERAS_BATCH])
                for i in range(0, len(x), KERAS_BATCH)
            ]
        )


def _interpreter(path: Path, content: bytes) -> Any:
    """A LiteRT interpreter for the model ``content`` read from (or to be written to) ``path``."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # LiteRT not installed: TensorFlow's own, deprecated, interpreter
        import_tensorflow(f"{path}: without the ai-edge-litert package, a TensorFlow Lite model")
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    try:
        interpreter = Interpreter(model_content=content, num_threads=2)
        with native_log_held_back():  # LiteRT's XNNPACK notice
            interpreter.allocate_tensors()
    except Exception as exc:  # a corrupt file raises ValueError or RuntimeError
        raise FacialEmotionError(
            f"{path}: not a valid TensorFlow Lite model ({type(exc).__name__}); "
            "re-export it with `facial-emotion export`"
        ) from exc
    return interpreter


class TFLiteBackend:
    def __init__(
        self, path: Path, content: bytes | None = None, card: dict[str, Any] | None = None
    ):
        """Open the model at ``path``; or, to check a model before it is written, its ``content``
        and ``card`` (``path`` then only names it in messages)."""
        # the bytes, not the name: LiteRT opens a name with narrow C calls, which on Windows read
        # it in the ANSI code page, so a model under C:\Users\José could not be opened
        content = content if content is not None else path.read_bytes()
        self.interpreter = _interpreter(path, content)
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        require_face_input(path, self.input["shape_signature"])
        n_outputs = int(self.output["shape"][-1])
        self.card = (
            card if card is not None else read_card(path, n_outputs, embedded_card(content, path))
        )
        self._batch = int(self.input["shape"][0])
        # One interpreter has one set of tensors: calls from two threads (a web server's pool)
        # would raise, or read each other's answers, without taking turns.
        self._lock = threading.Lock()

    def _quantize(self, x: np.ndarray) -> np.ndarray:
        scale, zero = self.input["quantization"]
        if self.input["dtype"] == np.float32 or scale == 0:
            return x.astype(self.input["dtype"])
        info = np.iinfo(self.input["dtype"])
        return np.clip(np.round(x / scale + zero), info.min, info.max).astype(self.input["dtype"])

    def _dequantize(self, y: np.ndarray) -> np.ndarray:
        """Probabilities; int8 steps of 1/256 make a row sum to 0.99-1.01, so rows are
        rescaled to sum to 1 as a softmax's do."""
        scale, zero = self.output["quantization"]
        if self.output["dtype"] == np.float32 or scale == 0:
            return y.astype(np.float32)
        probs = (y.astype(np.float32) - zero) * scale
        return probs / np.maximum(probs.sum(axis=1, keepdims=True), np.finfo(np.float32).tiny)

    def _run(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            if len(x) != self._batch:
                self.interpreter.resize_tensor_input(
                    self.input["index"], [len(x), *self.input["shape"][1:]]
                )
                self.interpreter.allocate_tensors()
                self._batch = len(x)
            self.interpreter.set_tensor(self.input["index"], self._quantize(x))
            self.interpreter.invoke()
            y = self.interpreter.get_tensor(self.output["index"])
        return self._dequantize(y)

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        if len(x) == 0:
            return np.zeros((0, int(self.output["shape"][-1])), np.float32)
        return np.concatenate(
            [self._run(x[i : i + TFLITE_BATCH]) for i in range(0, len(x), TFLITE_BATCH)]
        )


def require_probabilities(path: Path, backend: KerasBackend | TFLiteBackend) -> None:
    """Scores are read as probabilities: a model ending in logits (no softmax) would be served
    with "scores" of -3 or 12 and averaged wrongly in test-time augmentation, without a word."""
    probe = np.stack([np.full(FACE_INPUT, 128.0), np.linspace(0, 255, 48 * 48).reshape(FACE_INPUT)])
    rows = backend.predict(probe.astype(np.float32))
    # bfloat16 keeps 8 bits of mantissa, int8 steps of 1/256: 0.02 passes both, not logits
    if not (
        np.all(rows > -0.02) and np.all(rows < 1.02) and np.allclose(rows.sum(1), 1, atol=0.02)
    ):
        raise FacialEmotionError(
            f"{path}: the model's outputs are not probabilities (a row sums to "
            f"{rows.sum(1)[0]:.3g}); end it with a softmax layer and save it again"
        )


def load_backend(path: str | Path, precision: str = "auto") -> KerasBackend | TFLiteBackend:
    """Open a ``.keras`` or ``.tflite`` model with its card; ``precision`` applies to Keras."""
    path = require_file(path)
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        backend: KerasBackend | TFLiteBackend = TFLiteBackend(path)
    elif suffix in (".h5", ".hdf5"):
        raise FacialEmotionError(
            f"{path}: legacy HDF5 Keras models are not read, as Keras cannot check them for code "
            "that runs when loaded; save the model as .keras, or use its .tflite export"
        )
    elif suffix == ".keras":
        if path.suffix != suffix:
            raise FacialEmotionError(
                f"{path}: Keras opens only names ending in lower-case {suffix}; rename it"
            )
        backend = KerasBackend(path, precision)
    else:
        raise FacialEmotionError(f"{path}: unknown model format; use a .keras or .tflite file")
    require_probabilities(path, backend)
    return backend
