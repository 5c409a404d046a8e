"""CK+ from the CK+48 folders (split by subject) and from ckextended.csv (8 labels)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import code_of, flat, labelled_rows, level, pixel_csv, write_image

from facial_emotion.data import ckplus, prepared
from facial_emotion.errors import FacialEmotionError
from facial_emotion.labels import canonical

CK_FOLDERS = ("anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise")


def load(path: Path, seed: int = 0, val_fraction: float = 0.2, test_fraction: float = 0.2):
    return ckplus.load(path, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction)


def ck48(root: Path, subjects: int = 20) -> Path:
    """CK+48 layout: each subject posed 2 emotions, 3 frames each; top half codes the emotion,
    bottom half the subject (so a test can tell which person a loaded image shows)."""
    for s in range(subjects):
        for emotion in (s % 7, (s + 3) % 7):
            for frame in range(3):
                image = flat(emotion)
                image[24:] = 10 * s
                write_image(
                    root / CK_FOLDERS[emotion] / f"S{s:03d}_00{emotion}_{frame:08d}.png", image
                )
    return root


def subjects_of(images: np.ndarray) -> set[int]:
    return {int(image[40, 24]) // 10 for image in images}


def test_folders_are_split_by_subject_with_canonical_classes(tmp_path: Path) -> None:
    data = load(ck48(tmp_path / "CK+48"))

    assert data.classes == ("angry", "disgust", "fear", "happy", "sad", "surprise", "contempt")
    seen = {split: subjects_of(s.x) for split, s in data.splits.items()}
    assert set(seen) == {"train", "val", "test"}
    assert not seen["train"] & seen["val"] and not seen["train"] & seen["test"]
    assert not seen["val"] & seen["test"]
    assert set().union(*seen.values()) == set(range(20))
    for split in data.splits.values():
        assert split.x.dtype == np.uint8 and split.x.shape[1:] == (48, 48)
        names = [canonical(CK_FOLDERS[code_of(x[:24])]) for x in split.x]
        assert [data.classes[i] for i in split.y] == names
    assert data.source["name"] == "ckplus" and "subject" in data.source["splits"]


def test_each_face_keeps_its_person_through_prepare(tmp_path: Path) -> None:
    """Evaluation could not tell one person's three frames from three people: the prepared
    splits kept no subject, so its interval took every face as independent."""
    data = load(ck48(tmp_path / "CK+48"))
    for split in data.splits.values():
        assert [f"S{s:03d}" for s in (int(x[40, 24]) // 10 for x in split.x)] == list(
            split.subjects
        )
    prepared.save(data, tmp_path / "prepared")
    again = prepared.load(tmp_path / "prepared")
    for name, split in data.splits.items():
        assert np.array_equal(again.splits[name].subjects, split.subjects)
    _, test, _ = prepared.evaluation_split(tmp_path / "prepared")
    assert np.array_equal(test.subjects, data.splits["test"].subjects)


def test_prepared_folders_without_subjects_load_as_before(tmp_path: Path) -> None:
    """Sources that name no person write the files they wrote before (no ``subjects`` array),
    and such a folder, or one prepared before subjects were kept, loads with none."""
    x, y = np.zeros((4, 48, 48), np.uint8), np.array([0, 1, 0, 1])
    faceless = prepared.PreparedData(
        ("angry", "happy"), {s: prepared.LabelledImages(x, y) for s in ("train", "val")}
    )
    prepared.save(faceless, tmp_path)
    with np.load(tmp_path / "train.npz") as npz:
        assert sorted(npz.files) == ["classes", "x", "y"]
    assert prepared.load(tmp_path).splits["val"].subjects is None
    with pytest.raises(ValueError, match="subjects must have shape"):
        prepared.LabelledImages(x, y, np.array(["S001"]))


def test_a_subject_id_spelt_without_its_zeros_or_in_lower_case_is_one_person(tmp_path) -> None:
    """S5_ and S005_ were two people, so one person's frames could land in two splits."""
    root = ck48(tmp_path / "CK+48")
    for i, frame in enumerate(sorted(root.glob("*/S005_*.png"))):
        frame.rename(frame.with_name(frame.name.replace("S005_", ("S5_", "s05_")[i % 2])))
    for seed in range(6):
        data = load(root, seed=seed)
        holding = [split for split, s in data.splits.items() if 5 in subjects_of(s.x)]
        assert len(holding) == 1, (seed, holding)


def test_parent_folder_holding_ck48_is_accepted(tmp_path: Path) -> None:
    ck48(tmp_path / "CK+48")

    assert load(tmp_path).source["path"] == str(tmp_path / "CK+48")


def test_subject_split_never_puts_a_subject_in_two_splits_for_any_seed() -> None:
    rng = np.random.default_rng(0)
    subjects = rng.integers(0, 40, 600)
    y = rng.integers(0, 7, 600)
    for seed in range(5):
        parts = ckplus.subject_split(subjects, y, seed=seed, val_fraction=0.15, test_fraction=0.15)

        owners = [set(subjects[idx]) for idx in parts.values()]
        assert sum(len(o) for o in owners) == len(set().union(*owners)) == 40
        assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(600))
        assert 0.6 < len(parts["train"]) / 600 < 0.8  # roughly the requested sizes


def test_subject_split_seeds_differ_and_test_is_dropped_at_zero() -> None:
    subjects, y = np.repeat(np.arange(30), 4), np.tile(np.arange(4), 30)

    a = ckplus.subject_split(subjects, y, seed=1, val_fraction=0.2, test_fraction=0.0)
    b = ckplus.subject_split(subjects, y, seed=2, val_fraction=0.2, test_fraction=0.0)

    assert set(a) == {"train", "val"}
    assert not np.array_equal(a["val"], b["val"])


def test_csv_uses_the_eight_ckextended_labels_and_its_usage(tmp_path: Path) -> None:
    usage = {"Training": 3, "PublicTest": 2, "PrivateTest": 1}
    csv = pixel_csv(tmp_path / "ckextended.csv", labelled_rows(usage, n_labels=8))

    data = load(tmp_path)  # a folder holding ckextended.csv

    assert data.classes == (
        "angry",
        "disgust",
        "fear",
        "happy",
        "sad",
        "surprise",
        "neutral",
        "contempt",
    )
    assert {s: len(v) for s, v in data.splits.items()} == {"train": 24, "val": 16, "test": 8}
    for split in data.splits.values():
        assert [data.classes[i] for i in split.y] == [data.classes[code_of(x)] for x in split.x]
    assert data.source["path"] == str(csv) and data.source["format"] == "csv"


def test_csv_without_usage_is_split_seeded_and_stratified(tmp_path: Path) -> None:
    csv = pixel_csv(tmp_path / "ck.csv", labelled_rows({None: 10}, n_labels=8))

    data = load(csv, val_fraction=0.2, test_fraction=0.1)

    assert all(n == 2 for n in data.counts()["val"].values())
    assert all(n == 1 for n in data.counts()["test"].values())
    assert int(data.splits["train"].x[data.splits["train"].y == 7].mean()) == level(7)


def error_of(path: Path) -> str:
    with pytest.raises(FacialEmotionError) as caught:
        load(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_file_without_subject_id_is_named(tmp_path: Path) -> None:
    ck48(tmp_path, subjects=10)
    odd = write_image(tmp_path / "happy" / "IMG_0001.png", flat(4))

    message = error_of(tmp_path)

    assert str(odd) in message and "S###" in message


def test_a_folder_of_no_ck_names_is_named_with_the_fix(tmp_path: Path) -> None:
    """Every file was told to be renamed, one at a time, when the folder was not CK+48 at all."""
    write_image(tmp_path / "happy" / "IMG_0001.png", flat(4))
    write_image(tmp_path / "sad" / "IMG_0002.png", flat(5))

    message = error_of(tmp_path)

    assert message.startswith(f"{tmp_path}: none of its 2 images is named by a CK+ subject")
    assert "point data.path (or --data) at the CK+48 folders" in message
    shutil.rmtree(tmp_path / "sad")  # it said "none of its 1 images"
    assert error_of(tmp_path).startswith(f"{tmp_path}: its 1 image is not named by a CK+ subject")


def test_missing_path_is_named(tmp_path: Path) -> None:
    assert str(tmp_path / "CK+48") in error_of(tmp_path / "CK+48")


def test_csv_label_outside_the_eight_names_the_line(tmp_path: Path) -> None:
    rows = labelled_rows({"Training": 1}, n_labels=8) + [(8, "0 " * 2304, "Training")]
    csv = pixel_csv(tmp_path / "ckextended.csv", rows)

    message = error_of(csv)

    assert str(csv) in message and "line 10" in message and "0..7" in message
