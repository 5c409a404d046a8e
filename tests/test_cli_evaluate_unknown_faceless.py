"""evaluate on photos, for a model trained on faces found in photos, where some photos had no face
found: a photo of a class the model does not know is left out of faces_not_found, as its faces
found are (``skipped``), not counted as read wrong; and a class none of whose photos had a face
found is a support of 0 where the model knows it, no row at all where it does not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib.cbook
import pytest
from PIL import Image

from facial_emotion import plots
from facial_emotion.cli import main
from facial_emotion.data.sources import load_source
from facial_emotion.modelfile import card_path

HOPPER = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
CARVING = {"seed": 0, "val_fraction": 0.2, "test_fraction": 0.2}
PREFIX = "facial-emotion evaluate: each image's largest face found by haar, as in training; "


def photos(root: Path, walls: tuple[str, ...]) -> Path:
    """A face photo in each of train/ and val/'s happy, sad and contempt (CK+'s eighth class),
    and a wall in each of ``walls`` (``split/class``): a photo with no face found."""
    for split in ("train", "val"):
        for emotion in ("happy", "sad", "contempt"):
            (root / split / emotion).mkdir(parents=True)
            shutil.copy(HOPPER, root / split / emotion / "face.jpg")
    for wall in walls:
        Image.new("L", (320, 240), 90).save(root / wall / "wall.png")
    return root


def trained_on_faces_found_in(data: Path, tiny_model_path: Path, tmp_path: Path) -> Path:
    """A copy of the 7-class tiny model (no contempt) whose card says it trained on the largest
    face found in each photo of ``data``, as evaluate then reads them."""
    model = tmp_path / "model.keras"
    shutil.copy(tiny_model_path, model)
    card = json.loads(card_path(tiny_model_path).read_text())
    assert "contempt" not in card["classes"] and "sad" in card["classes"]
    card["source"] = {"name": "folder", "path": str(data), "faces": "largest face found by haar"}
    card_path(model).write_text(json.dumps(card))
    return model


def test_photos_with_no_face_found_are_counted_per_class_of_each_split(tmp_path: Path) -> None:
    """A score needs to know which class each unread photo was of, to leave out those of a class
    its model does not know; explore prints the count a split at a time."""
    root = photos(tmp_path, ("train/contempt", "val/contempt", "val/sad"))
    data = load_source("folder", str(root), **CARVING, synthetic_samples=0, detect_faces=True)
    assert data.source["faceless_by_split"] == {"train": 1, "val": 2}
    assert data.source["faceless_by_class_by_split"] == {
        "train": {"contempt": 1},
        "val": {"sad": 1, "contempt": 1},
    }
    assert (
        "  faceless_by_class_by_split: train (contempt 1), val (sad 1, contempt 1)"
        in plots.source_summary(data.source).splitlines()
    )


@pytest.mark.parametrize(
    ("walls", "split", "missed", "unknown"),
    [
        # nothing the model can read was lost, yet accuracy_counting_not_found was 2/3 of accuracy
        (("val/contempt",), "val", 0, "1 image"),
        (("val/contempt", "val/sad"), "val", 1, "1 image"),
        (("train/contempt", "val/contempt", "val/sad"), "all", 1, "2 images"),
    ],
)
def test_a_faceless_photo_of_a_class_the_model_does_not_know_is_not_read_wrong(
    tiny_model_path: Path,
    tmp_path: Path,
    capsys,
    walls: tuple[str, ...],
    split: str,
    missed: int,
    unknown: str,
) -> None:
    """CK+'s contempt scored by a 7-class model: its photos with no face found were counted in
    faces_not_found and as read wrong in accuracy_counting_not_found, though its faces found are
    left out of the scores."""
    data = photos(tmp_path / "photos", walls)
    model = trained_on_faces_found_in(data, tiny_model_path, tmp_path)

    argv = ["evaluate", "--model", str(model), "--data", str(data), "--split", split]
    assert main([*argv, "--no-progress"]) == 0
    out, err = capsys.readouterr()
    metrics = json.loads(out)
    faces = sum(row["support"] for row in metrics["per_class"].values())
    assert metrics["skipped"] == (2 if split == "all" else 1)  # contempt's faces found
    if missed:
        assert metrics["faces_not_found"] == missed
        right = round(metrics["accuracy"] * faces)
        assert metrics["accuracy_counting_not_found"] == round(right / (faces + missed), 4)
    else:
        assert "faces_not_found" not in metrics and "accuracy_counting_not_found" not in metrics
    assert [line for line in err.splitlines() if line.startswith(PREFIX)] == [
        f"{PREFIX}{missed} image{'' if missed == 1 else 's'} of the split scored with none left "
        f"out, and {unknown} of contempt, a class the model does not know, not counted in "
        "faces_not_found, as its faces found are not scored"
    ]


def test_a_faceless_class_the_model_does_not_know_is_not_called_support_0(
    tiny_model_path: Path, tmp_path: Path, capsys
) -> None:
    """CK+'s contempt scored by a 7-class model, none of val's contempt photos with a face
    found: evaluate said "support 0", though the per-class figures have no contempt row."""
    root = tmp_path / "photos"
    for split in ("train", "val"):
        for emotion in ("happy", "sad", "contempt"):
            (root / split / emotion).mkdir(parents=True)
            if split == "train" or emotion == "happy":
                shutil.copy(HOPPER, root / split / emotion / "face.jpg")
            else:  # val's sad and contempt: a wall each
                Image.new("L", (320, 240), 90).save(root / split / emotion / "wall.png")
    model = trained_on_faces_found_in(root, tiny_model_path, tmp_path)

    argv = ["evaluate", "--model", str(model), "--data", str(root), "--no-progress"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    per_class = json.loads(out)["per_class"]
    assert per_class["sad"]["support"] == 0 and "contempt" not in per_class
    lost = f"{root}: no face found in any photo of"
    assert [line for line in err.splitlines() if lost in line] == [
        f"facial-emotion evaluate: warning: {lost} sad in the val split scored, so the metrics "
        "hold none of its faces (support 0)",
        f"facial-emotion evaluate: note: {lost} contempt in the val split scored, a class "
        f"{model} does not know, so the metrics have no row for it",
    ]
