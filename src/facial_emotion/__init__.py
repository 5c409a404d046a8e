"""Facial emotion recognition: a reproducible pipeline, a CLI and an app."""

from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from facial_emotion.errors import FacialEmotionError

if TYPE_CHECKING:
    from facial_emotion.faces import Face
    from facial_emotion.predict import EmotionRecognizer

__all__ = ["EmotionRecognizer", "Face", "FacialEmotionError", "__version__"]
__version__ = version("facial-emotion")

# Loaded on first use, so ``import facial_emotion`` loads neither TensorFlow nor OpenCV
_LAZY = {"EmotionRecognizer": "facial_emotion.predict", "Face": "facial_emotion.faces"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'facial_emotion' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
