"""evaluate's word on a class whose photos had no face found, for a model trained on faces found
in photos: a support of 0 where the model knows the class, no row at all where it does not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import matplotlib.cbook
from PIL import Image

from facial_emotion.cli import main
from facial_emotion.modelfile import card_path

HOPPER = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def test_a_faceless_class_the_model_does_not_know_is_not_called_support_0(
    tiny_model_path: Path, tmp_path: Path, capsys
) -> None:
    """CK+'s contempt scored by a 7-class model, none of val's contempt photos with a face
    found: evaluate said "support 0", though the per-class figures have no contempt row."""
    photos = tmp_path / "photos"
    for split in ("train", "val"):
        for emotion in ("happy", "sad", "contempt"):
            (photos / split / emotion).mkdir(parents=True)
            if split == "train" or emotion == "happy":
                shutil.copy(HOPPER, photos / split / emotion / "face.jpg")
            else:  # val's sad and contempt: a wall each
                Image.new("L", (320, 240), 90).save(photos / split / emotion / "wall.png")
    model = tmp_path / "model.keras"
    shutil.copy(tiny_model_path, model)
    card = json.loads(card_path(tiny_model_path).read_text())
    assert "contempt" not in card["classes"] and "sad" in card["classes"]
    card["source"] = {"name": "folder", "path": str(photos), "faces": "largest face found by haar"}
    card_path(model).write_text(json.dumps(card))

    argv = ["evaluate", "--model", str(model), "--data", str(photos), "--no-progress"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    per_class = json.loads(out)["per_class"]
    assert per_class["sad"]["support"] == 0 and "contempt" not in per_class
    lost = f"{photos}: no face found in any photo of"
    assert [line for line in err.splitlines() if lost in line] == [
        f"facial-emotion evaluate: warning: {lost} sad in the val split scored, so the metrics "
        "hold none of its faces (support 0)",
        f"facial-emotion evaluate: note: {lost} contempt in the val split scored, a class "
        f"{model} does not know, so the metrics have no row for it",
    ]
