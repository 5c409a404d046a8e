"""Facial emotion recognition: a reproducible pipeline, a CLI and an app."""

from typing import TYPE_CHECKING, Any

from facial_emotion.errors import FacialEmotionError

if TYPE_CHECKING:
    from facial_emotion.predict import EmotionRecognizer

__all__ = ["EmotionRecognizer", "FacialEmotionError"]


def __getattr__(name: str) -> Any:
    """Import the recogniser on first use, so ``import facial_emotion`` does not load TensorFlow."""
    if name == "EmotionRecognizer":
        from facial_emotion.predict import EmotionRecognizer

        return EmotionRecognizer
    raise AttributeError(f"module 'facial_emotion' has no attribute {name!r}")
