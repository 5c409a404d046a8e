"""Facial emotion recognition: a reproducible pipeline, a CLI and an app."""

from facial_emotion.errors import FacialEmotionError

__all__ = ["FacialEmotionError"]
