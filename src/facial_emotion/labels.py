"""Canonical emotion names and the spellings data sets use for them, mapped in one place."""

import unicodedata

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
