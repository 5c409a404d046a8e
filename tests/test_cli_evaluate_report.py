"""``facial-emotion evaluate``: what it says, in which order, and which bad input it names first.

Its lines and its JSON's keys are read by people and scripts alike: these tests pin them whole,
where test_cli_evaluate.py looks for one line at a time."""

import json
import shutil
from pathlib import Path

import matplotlib.cbook
import pytest
from data_fixtures import class_tree
from PIL import Image

from facial_emotion.cli import main
from facial_emotion.data.sources import load_for_scoring
from facial_emotion.errors import FacialEmotionError
from facial_emotion.evaluation import LEARNT_NOTHING
from facial_emotion.modelfile import card_path

HOPPER = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
SAID = "facial-emotion evaluate: "
KEYS = [
    "model",
    "data",
    "source",
    "split",
    "tta",
    "tta_shift",
    "skipped",
    "accuracy",
    "accuracy_ci95_low",
    "accuracy_ci95_high",
    "macro_f1",
    "samples",
    "per_class",
    "confusion",
    "calibration_error",
]


def _model_trained_on(tiny_model_path: Path, tmp_path: Path, source: dict) -> Path:
    """A copy of the tiny model whose card says which data its training run read."""
    model = tmp_path / "model" / "model.keras"
    model.parent.mkdir()
    shutil.copy(tiny_model_path, model)
    card = json.loads(card_path(tiny_model_path).read_text())
    card_path(model).write_text(json.dumps({**card, "source": source}))
    return model


def test_what_is_scored_then_what_is_left_out_then_what_the_model_read(
    tiny_model_path: Path, tmp_path: Path, capsys
) -> None:
    root = class_tree(tmp_path / "faces", {"happy": 6, "contempt": 2, "sadness": 6})
    (root / "happy" / "IMG_0001.HEIC").write_bytes(b"ftypheic")
    argv = ["evaluate", "--model", str(tiny_model_path), "--data", str(root), "--split", "all"]
    assert main([*argv, "--no-tta", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    metrics = json.loads(out)
    assert list(metrics) == KEYS  # no people: a folder names none
    assert err.splitlines() == [
        f"{SAID}scoring all 14 faces",
        f"{SAID}warning: {root}: skipped 1 file that is not an image Pillow reads (such as "
        "happy/IMG_0001.HEIC); convert any that are faces to JPEG or PNG",
        f"{SAID}left out 2 faces of classes the model does not know: contempt",
        f"{SAID}warning: {tiny_model_path} reads every face as happy: {LEARNT_NOTHING}",
    ]
    assert metrics["skipped"] == 2 and metrics["samples"] == 12


def test_the_note_on_the_split_comes_before_the_warnings_on_the_data(
    tiny_model_path: Path, tmp_path: Path, capsys
) -> None:
    root = tmp_path / "numbered"
    for split in ("train", "val"):
        class_tree(root / split, {"0": 3, "3": 3}, prefix=split)
    (root / "val" / "3" / "IMG_0001.HEIC").write_bytes(b"ftypheic")
    model = _model_trained_on(tiny_model_path, tmp_path, {"name": "fer2013", "path": str(root)})
    argv = ["evaluate", "--model", str(model), "--data", str(root), "--no-tta", "--no-progress"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert list(json.loads(out)) == KEYS
    lines = err.splitlines()
    assert lines[0] == (
        f"{SAID}scoring the val split, 6 of 12 faces (folders train/ → train, val/ → val); "
        "--split chooses another"
    )
    assert lines[1].startswith(f"{SAID}note: val chose this model's epoch (its card)")
    assert lines[2].startswith(f"{SAID}warning: {root}: class folders named by number are read")
    assert lines[3].startswith(f"{SAID}warning: {root}: skipped 1 file that is not an image")
    assert lines[4].startswith(f"{SAID}warning: {model} reads every face as ")
    assert len(lines) == 5


def _photos(tmp_path: Path, faces: bool) -> Path:
    """train/ and val/ photos of happy and sad: Grace Hopper's face (``faces``), else walls."""
    photos = tmp_path / "photos"
    for split in ("train", "val"):
        for emotion in ("happy", "sad"):
            (photos / split / emotion).mkdir(parents=True)
            if faces:
                shutil.copy(HOPPER, photos / split / emotion / "face.jpg")
            else:
                Image.new("L", (320, 240), 90).save(photos / split / emotion / "wall.png")
    return photos


def _found(photos: Path) -> dict:
    return {"name": "folder", "path": str(photos), "faces": "largest face found by haar"}


def test_photos_say_which_class_had_no_face_then_how_faces_were_found(
    tiny_model_path: Path, tmp_path: Path, capsys
) -> None:
    photos = _photos(tmp_path, faces=True)
    (photos / "val" / "sad" / "face.jpg").unlink()
    Image.new("L", (320, 240), 90).save(photos / "val" / "sad" / "wall.png")
    model = _model_trained_on(tiny_model_path, tmp_path, _found(photos))
    argv = ["evaluate", "--model", str(model), "--data", str(photos), "--no-progress"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert list(json.loads(out)) == [*KEYS, "faces_not_found", "accuracy_counting_not_found"]
    assert err.splitlines() == [
        f"{SAID}scoring the val split, 1 of 3 faces (folders train/ → train, val/ → val); "
        "--split chooses another",
        f"{SAID}note: val chose this model's epoch (its card), so this figure is a selection one "
        "that leans optimistic, not held out",
        f"{SAID}warning: {photos}: no face found in any photo of sad in the val split scored, so "
        "the metrics hold none of its faces (support 0)",
        f"{SAID}each image's largest face found by haar, as in training; 1 image of the split "
        "scored with none left out",
    ]


def test_a_missing_model_is_named_before_missing_data(tmp_path: Path, capsys) -> None:
    argv = ["evaluate", "--model", str(tmp_path / "nope.keras"), "--data", str(tmp_path / "no")]
    assert main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "model not found" in err[0]


def test_labels_evaluate_cannot_use_are_named_before_a_cards_wrong_carving(
    tmp_path: Path,
) -> None:
    ck = class_tree(tmp_path / "ck" / "CK+48", {"happy": 2}, prefix="S005_001").parent
    card = {"source": {"carving": {"val_fraction": 2}}}
    with pytest.raises(FacialEmotionError, match="leave out --labels$"):
        load_for_scoring(ck, labels="rafdb", card=card)
    with pytest.raises(FacialEmotionError, match="data.val_fraction 2 and"):
        load_for_scoring(ck, card=card)


def test_a_split_the_photos_lack_is_named_before_their_faces_not_found(tmp_path: Path) -> None:
    photos = _photos(tmp_path, faces=False)
    card = {"source": _found(photos)}
    with pytest.raises(FacialEmotionError, match="has no 'test' split; choose one of train, val"):
        load_for_scoring(photos, card=card, split="test")
    with pytest.raises(FacialEmotionError, match="no face found in any of the 2 photos of the val"):
        load_for_scoring(photos, card=card, split="val")
