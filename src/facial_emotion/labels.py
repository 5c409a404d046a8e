"""Canonical emotion names and the spellings data sets use for them, mapped in one place."""

import unicodedata
from typing import Any

from facial_emotion.errors import FacialEmotionError

EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

_SPELLINGS: dict[str, str] = {
    "anger": "angry",
    "angry": "angry",
    "mad": "angry",
    "disgust": "disgust",
    "disgusted": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "afraid": "fear",
    "scared": "fear",
    "happy": "happy",
    "happiness": "happy",
    "joy": "happy",
    "sad": "sad",
    "sadness": "sad",
    "surprise": "surprise",
    "surprised": "surprise",
    "neutral": "neutral",
    "calm": "neutral",
    "contempt": "contempt",
}


def canonical(label: str) -> str:
    """Map a data set's spelling to the canonical name; unknown labels stay as their own class.
    Composed (NFC), as most systems write names: some macOS tools write ``ü`` as ``u`` and a
    combining mark, which made a second class of the same name."""
    key = unicodedata.normalize("NFC", label).strip().lower()
    return _SPELLINGS.get(key, key)


def ordered(labels: set[str] | list[str]) -> tuple[str, ...]:
    """Canonical emotions first in FER2013 order, then any other classes alphabetically."""
    present = set(labels)
    known = [e for e in EMOTIONS if e in present]
    return tuple(known + sorted(present - set(EMOTIONS)))


# Data sets that name their class folders by number, and the emotion of each number.
PRESETS: dict[str, dict[str, str]] = {
    "rafdb": {
        str(i): e
        for i, e in enumerate(
            ("surprise", "fear", "disgust", "happy", "sad", "angry", "neutral"), 1
        )
    },
    "affectnet": {
        str(i): e
        for i, e in enumerate(
            ("neutral", "happy", "sad", "surprise", "fear", "disgust", "angry", "contempt")
        )
    },
    "fer2013": {str(i): e for i, e in enumerate(EMOTIONS)},
}


def label_map(labels: str | dict[Any, Any], where: str = "data.labels") -> dict[str, str]:
    """``{folder name: emotion}`` from a preset name or a mapping (``""``: ``{}``, folder names
    are the labels). Keys are compared as folders are, canonical (``Anger`` as ``angry``); a value
    must be an emotion spelling this module knows, as a typo would silently become a class."""
    if isinstance(labels, str):
        if not labels:
            return {}
        if labels not in PRESETS:
            raise FacialEmotionError(
                f"{where} {labels!r} is no preset; use one of {', '.join(PRESETS)}, or a mapping "
                "{folder: emotion} (data.md, folder: numbered classes)"
            )
        return dict(PRESETS[labels])
    mapping = {}
    for key, value in labels.items():
        emotion = canonical(value) if isinstance(value, str) else None
        if emotion is None or emotion not in _SPELLINGS.values():
            raise FacialEmotionError(
                f"{where} maps {key} to {value!r}, which is no emotion; use one of "
                f"{', '.join((*EMOTIONS, 'contempt'))} (or a spelling such as anger, happiness)"
            )
        mapping[canonical(str(key))] = emotion
    return mapping
