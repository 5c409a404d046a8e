"""Facial emotion recognition: a reproducible pipeline, a CLI and an app."""

from typing import TYPE_CHECKING, Any

from facial_emotion.errors import FacialEmotionError

if TYPE_CHECKING:
    from facial_emotion.faces import Face
    from facial_emotion.predict import EmotionRecognizer

    __version__: str

__all__ = ["EmotionRecognizer", "Face", "FacialEmotionError", "__version__"]

# Loaded on first use, so ``import facial_emotion`` loads neither TensorFlow nor OpenCV
_LAZY = {"EmotionRecognizer": "facial_emotion.predict", "Face": "facial_emotion.faces"}


def _installed_version() -> str:
    """The installed distribution's version. Read when asked: importing ``importlib.metadata``
    was 0.07-0.1 s of the 0.1 s ``import facial_emotion`` took."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("facial-emotion")
    except PackageNotFoundError:  # a checkout on sys.path that pip did not install
        return "(not installed)"


# Hidden from type checkers: seen, its Any return made every name on the module pass, a
# misspelt ``facial_emotion.EmotionRecogniser`` included; they see the names above instead.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name == "__version__":
            return _installed_version()
        if name in _LAZY:
            import importlib

            return getattr(importlib.import_module(_LAZY[name]), name)
        raise AttributeError(f"module 'facial_emotion' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, "__version__"])
