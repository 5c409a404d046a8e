"""Facial emotion recognition: a reproducible pipeline, a CLI and an app."""

import os

# TensorFlow's C++ start-up chatter (oneDNN, CPU features) buries the output users came for.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from facial_emotion.errors import FacialEmotionError  # noqa: E402

__all__ = ["FacialEmotionError"]
