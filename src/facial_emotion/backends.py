"""Load a trained model (Keras or TensorFlow Lite) behind one ``predict`` call.

Both take float32 (N, 48, 48, 1) raw pixel values 0..255 and return (N, classes) probabilities.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facial_emotion.errors import FacialEmotionError
from facial_emotion.modelfile import read_card, require_file


class KerasBackend:
    def __init__(self, path: Path) -> None:
        import keras

        try:
            self.model = keras.models.load_model(path, compile=False)
        except Exception as exc:  # Keras raises many types for a corrupt file
            raise FacialEmotionError(
                f"{path}: cannot be loaded as a Keras model ({type(exc).__name__}); "
                "re-create it with `dvc repro train`"
            ) from exc
        self.card = read_card(path, int(self.model.output_shape[-1]))

    def predict(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros((0, len(self.card["classes"])), np.float32)
        return np.asarray(self.model(np.asarray(x, np.float32), training=False))


class TFLiteBackend:
    def __init__(self, path: Path) -> None:
        import tensorflow as tf

        try:
            self.interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=2)
            self.interpreter.allocate_tensors()
        except Exception as exc:
            raise FacialEmotionError(
                f"{path}: not a valid TensorFlow Lite model ({type(exc).__name__}); "
                "re-export it with `facial-emotion export`"
            ) from exc
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.card = read_card(path, int(self.output["shape"][-1]))

    def _quantize(self, x: np.ndarray) -> np.ndarray:
        scale, zero = self.input["quantization"]
        if self.input["dtype"] == np.float32 or scale == 0:
            return x.astype(self.input["dtype"])
        info = np.iinfo(self.input["dtype"])
        return np.clip(np.round(x / scale + zero), info.min, info.max).astype(self.input["dtype"])

    def _dequantize(self, y: np.ndarray) -> np.ndarray:
        scale, zero = self.output["quantization"]
        if self.output["dtype"] == np.float32 or scale == 0:
            return y.astype(np.float32)
        return (y.astype(np.float32) - zero) * scale

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        out = np.zeros((len(x), int(self.output["shape"][-1])), np.float32)
        for i in range(len(x)):
            self.interpreter.set_tensor(self.input["index"], self._quantize(x[i : i + 1]))
            self.interpreter.invoke()
            out[i] = self._dequantize(self.interpreter.get_tensor(self.output["index"]))[0]
        return out


def load_backend(path: str | Path) -> KerasBackend | TFLiteBackend:
    """Open a ``.keras`` or ``.tflite`` model with its card."""
    path = require_file(path)
    if path.suffix == ".tflite":
        return TFLiteBackend(path)
    if path.suffix in (".keras", ".h5"):
        return KerasBackend(path)
    raise FacialEmotionError(f"{path}: unknown model format; use a .keras or .tflite file")
