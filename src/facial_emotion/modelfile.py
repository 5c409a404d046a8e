"""How a trained model is stored: the model file plus a JSON card beside it with the class names.

Every model (Keras ``.keras`` or TensorFlow Lite ``.tflite``) takes float32 input of shape
(N, 48, 48, 1) holding raw grayscale pixel values 0..255 (scaling is a layer inside the model) and
returns softmax probabilities over ``classes``. ``models/model.keras`` and ``models/model.tflite``
share the card ``models/model.json``; an exported ``.tflite`` also holds its card inside
(``tflite_card``), for when it travels alone.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from facial_emotion.config import TrainSettings, from_mapping
from facial_emotion.errors import FacialEmotionError
from facial_emotion.files import atomic_path, write_json
from facial_emotion.labels import EMOTIONS
from facial_emotion.paths import MODEL


def card_path(model_path: str | Path) -> Path:
    return Path(model_path).with_suffix(".json")


def save_keras(
    model: Any,
    path: str | Path,
    classes: tuple[str, ...],
    code: dict[str, Any] | None | Literal["now"] = "now",
    **card: Any,
) -> None:
    """Save a Keras model and its card, both or neither: saved one after the other, a run
    stopped in between paired the new model with the old card, whose classes may be in
    another order. The card records ``code``, the :func:`code_version` that trained the model
    (None: not known), by default the code saving it; and when it was saved (``saved_at``, UTC),
    which a copy DVC checks out keeps, where the file's own time is the copy's."""
    path = Path(path)
    with atomic_path(card_path(path)) as card_tmp, atomic_path(path) as tmp:
        model.save(tmp)
        _deflate(tmp)
        header = {
            "classes": list(classes),
            "input_shape": [48, 48, 1],
            "code": code_version() if code == "now" else code,
            "saved_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        }
        write_json(card_tmp, {**header, **card})


def code_version(package: Path = Path(__file__).parent) -> dict[str, Any] | None:
    """The git commit of this package's code and its files changed since, or None where the
    package is not a git checkout (installed from a wheel): a card's settings name how a model
    was trained but not with which code, and the same settings trained differently once each
    augmentation layer drew apart."""

    def git(*args: str) -> str | None:
        # git writes names as UTF-8 on every system (as the bytes they are on Linux); read in
        # the locale's encoding, Windows' cp1252 mangled "Zoë" and failed on "Á" (0xC3 0x81),
        # and a Linux name not in UTF-8 failed too, each a traceback that stopped training.
        # Such a name's bytes are kept as "\xe9": a surrogate, as surrogateescape kept it,
        # then stopped `export`, which stores the card as UTF-8 inside the .tflite
        try:
            done = subprocess.run(
                ["git", "-C", str(package), *args],
                capture_output=True,
                encoding="utf-8",
                errors="backslashreplace",
                timeout=10,
            )
        except (OSError, subprocess.TimeoutExpired):  # no git on the machine, or a hung one
            return None
        return done.stdout if done.returncode == 0 else None

    # the package's own files must be tracked: an install inside a clone (a .venv there) is
    # in that clone's tree, but not its code
    if not git("ls-files", "--", "__init__.py") or not (head := git("rev-parse", "HEAD")):
        return None
    # -z: names as they are (no quotes round a space or an accent); a rename's old name follows
    # its entry, and new files count too: a module not yet added is code all the same
    status = git("status", "--porcelain", "-z", "--untracked-files=all", "--", ".")
    changed: list[str] | None = None  # None: status failed, which is not "nothing changed"
    if status is not None:
        changed = []
        entries = iter(status.split("\0"))
        for entry in entries:
            if entry:
                changed.append(entry[3:])
                if "R" in entry[:2] or "C" in entry[:2]:
                    next(entries, None)  # a rename's or copy's old name
        changed.sort()
    return {"commit": head.strip(), "changed": changed}


def _deflate(keras_file: Path) -> None:
    """Compress the archive Keras stores uncompressed: trained weights shrink by about 8%, which
    keeps a two-model ensemble under the 20 MB package-data limit. Keras loads either kind."""
    with zipfile.ZipFile(keras_file) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(keras_file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)


def read_card(
    model_path: str | Path, n_outputs: int | None = None, embedded: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The model's card: the JSON beside it, else the one ``embedded`` in a ``.tflite``. There
    is no default: a CK+ model also has 7 outputs, in another order, so guessing FER2013's
    classes would name its emotions wrongly without a word."""
    path = card_path(model_path)
    if path.is_file():
        try:
            card = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            card, reason = None, str(exc)
        else:
            reason = "no 'classes'"
        if not isinstance(card, dict) or "classes" not in card:
            raise FacialEmotionError(
                f"{path}: not a valid model card ({reason}); it needs a JSON object with 'classes'"
            )
        _require_classes(path, card, n_outputs)
        if embedded is not None and embedded.get("classes") != card["classes"]:
            raise FacialEmotionError(
                f"{path}: names the classes {card['classes']}, but {Path(model_path).name} "
                f"holds {embedded.get('classes')}; the card is another model's: use this model's "
                "card, or remove it and the classes in the model file are used"
            )
        return card
    if embedded is not None:
        _require_classes(Path(model_path), embedded, n_outputs)
        return embedded
    fer2013 = json.dumps({"classes": list(EMOTIONS)})
    raise FacialEmotionError(
        f"{model_path}: no card {path.name} beside it to name the model's classes; copy the .json "
        f"saved with the model next to it (for a FER2013 model of your own, write {fer2013} there)"
    )


def _require_classes(where: Path, card: dict[str, Any], n_outputs: int | None) -> None:
    classes = card.get("classes")
    if not (
        isinstance(classes, list)
        and all(isinstance(c, str) for c in classes)
        and len(set(classes)) == len(classes)
    ):
        raise FacialEmotionError(
            f"{where}: 'classes' must be a list of distinct class names, got {classes!r}; "
            "use the card saved with this model"
        )
    if n_outputs is not None and len(classes) != n_outputs:
        raise FacialEmotionError(
            f"{where}: lists {len(classes)} classes but the model has {n_outputs} outputs; "
            "use the card saved with this model"
        )


def train_settings(model_path: str | Path) -> TrainSettings:
    """The settings that trained the model, read through ``TrainSettings`` so a card written
    before a setting existed gets that setting's default."""
    path = card_path(model_path)
    return from_mapping(
        TrainSettings, json.loads(path.read_text(encoding="utf-8"))["train"], str(path), "train."
    )


def require_file(path: str | Path, what: str = "model") -> Path:
    path = Path(path)
    if path.is_dir():
        raise FacialEmotionError(f"{path}: is a folder; pass the {what} file itself")
    made_here = path.resolve().parent == MODEL.resolve().parent  # by the pipeline, in a clone
    if not path.is_file():
        fix = "run `dvc repro` to train it" if made_here else "check the path"
        if made_here and not Path("dvc.yaml").is_file():  # the package alone: no pipeline here
            fix = "pass a model file (--model FILE), or run this in a clone after `dvc repro`"
        raise FacialEmotionError(f"{path}: {what} not found; {fix}")
    if path.stat().st_size == 0:
        fix = "re-create it with `dvc repro`" if made_here else "copy or export it again"
        raise FacialEmotionError(f"{path}: {what} file is empty; {fix}")
    return path
