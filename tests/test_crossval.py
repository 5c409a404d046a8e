"""Subject-wise cross-validation on CK+: every person held out once, never trained on and tested
in one fold, every face scored once; and benchmarks/ckplus_cv.py end to end on made-up people."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from data_fixtures import flat, pixel_csv, write_image

from facial_emotion.crossval import (
    face_files,
    make_folds,
    pooled,
    predictions,
    read_faces,
    subject_folds,
    summary,
)
from facial_emotion.data.ckplus import SubjectFaces
from facial_emotion.errors import FacialEmotionError
from facial_emotion.evaluation import Evaluation, people_ci95, share_ci95
from facial_emotion.labels import canonical

REPO = Path(__file__).resolve().parents[1]
CK_FOLDERS = ("anger", "contempt", "disgust", "fear", "happy", "sadness", "surprise")


def made_up(people: int, rng: np.random.Generator) -> SubjectFaces:
    """``people`` subjects of 1 to 4 sequences of 3 frames; each face's pixels are its index, so a
    test can tell from a split's pixels which faces it holds."""
    subjects, y = [], []
    for s in range(people):
        for emotion in rng.choice(7, rng.integers(1, 5), replace=False):
            subjects += [f"S{s:03d}"] * 3
            y += [int(emotion)] * 3
    index = np.arange(len(y))
    x = np.stack([np.full((48, 48), i // 256, np.uint8) for i in index])
    x[:, 0, 0] = index % 256
    classes = ("angry", "disgust", "fear", "happy", "sad", "surprise", "contempt")
    return SubjectFaces(classes, x, np.array(y), np.array(subjects), {})


def faces_in(x: np.ndarray) -> np.ndarray:
    return x[:, 1, 1].astype(int) * 256 + x[:, 0, 0]


@pytest.mark.parametrize(("people", "folds", "seed"), [(40, 10, 0), (40, 10, 1), (23, 5, 2)])
def test_each_subject_is_held_out_in_exactly_one_fold(people, folds, seed) -> None:
    faces = made_up(people, np.random.default_rng(seed))

    held = subject_folds(faces.subjects, faces.y, folds=folds, seed=seed)

    assert len(held) == folds and all(len(h) for h in held)
    assert np.array_equal(np.sort(np.concatenate(held)), np.arange(len(faces.y)))  # once each
    owners = [set(faces.subjects[h]) for h in held]
    assert sum(len(o) for o in owners) == people  # no person split between two folds
    sizes = [len(o) for o in owners]
    assert max(sizes) - min(sizes) <= 3, sizes


def test_as_many_folds_as_subjects_is_leave_one_subject_out() -> None:
    faces = made_up(9, np.random.default_rng(0))

    held = subject_folds(faces.subjects, faces.y, folds=9, seed=0)

    assert sorted(len(set(faces.subjects[h])) for h in held) == [1] * 9


def test_no_fold_trains_or_selects_on_the_people_it_scores() -> None:
    faces = made_up(30, np.random.default_rng(3))

    folds = make_folds(faces, Path("CK+48"), folds=5, seed=4, val_fraction=0.2)

    tested = []
    for fold in folds:
        people = {n: set(faces.subjects[faces_in(s.x)]) for n, s in fold.data.splits.items()}
        assert not people["test"] & (people["train"] | people["val"])
        assert not people["train"] & people["val"] and people["val"]
        assert people["train"] | people["val"] | people["test"] == set(faces.subjects)
        assert list(faces_in(fold.data.splits["test"].x)) == list(fold.test_index)
        assert set(fold.held_out) == people["test"]
        tested += list(fold.test_index)
    assert sorted(tested) == list(range(len(faces.y)))

    probs = [np.eye(7)[fold.data.splits["test"].y] for fold in folds]  # always right
    whole = pooled(faces, folds, probs)
    assert len(whole.y_true) == len(faces.y) and whole.accuracy == 1.0
    with pytest.raises(ValueError, match="exactly once"):
        pooled(faces, [folds[0], *folds[:-1]], [probs[0], *probs[:-1]])


def pooled_with_misses(people: int, seed: int) -> tuple[list, list, Evaluation]:
    """Five folds of ``people`` made-up people, read right but for every third person's faces."""
    faces = made_up(people, np.random.default_rng(seed))
    folds = make_folds(faces, Path("CK+48"), folds=5, seed=seed, val_fraction=0.2)
    missed = np.isin(faces.subjects, np.unique(faces.subjects)[::3])
    said = np.where(missed, (faces.y + 1) % 7, faces.y)
    probs = [np.eye(7)[said[fold.test_index]] for fold in folds]
    scores = [
        Evaluation(faces.classes, f.data.splits["test"].y, p)
        for f, p in zip(folds, probs, strict=True)
    ]
    return folds, scores, pooled(faces, folds, probs)


def test_the_pooled_faces_give_both_intervals_and_the_folds_a_t_interval() -> None:
    folds, scores, whole = pooled_with_misses(40, seed=5)

    result = summary(folds, scores, whole)

    right = whole.y_pred == whole.y_true
    faces_low, faces_high = share_ci95(int(right.sum()), len(right))
    assert result["pooled_accuracy_ci95_low"] == round(faces_low, 4)
    assert result["pooled_accuracy_ci95_high"] == round(faces_high, 4)
    low, high = people_ci95(right, whole.subjects)  # the subjects, not the faces, resampled
    assert result["pooled_accuracy_ci95_people_low"] == round(low, 3)
    assert result["pooled_accuracy_ci95_people_high"] == round(high, 3)
    assert result["people"] == result["subjects"] == 40
    # a third of the people wrong, 3-12 frames each: the people's interval is the wider
    assert high - low > faces_high - faces_low
    mean, std = result["accuracy_mean"], result["accuracy_std"]
    half = 2.776 * std / 5**0.5  # t(0.975, 4 degrees of freedom)
    assert result["accuracy_mean_ci95_low"] == pytest.approx(mean - half, abs=2e-4)
    assert result["accuracy_mean_ci95_high"] == pytest.approx(mean + half, abs=2e-4)


def test_under_30_people_the_people_interval_is_null_not_narrow() -> None:
    folds, scores, whole = pooled_with_misses(20, seed=6)

    result = summary(folds, scores, whole)

    assert result["pooled_accuracy_ci95_people_low"] is None
    assert result["pooled_accuracy_ci95_people_high"] is None
    assert result["people"] == 20 and result["pooled_accuracy_ci95_low"] is not None
    json.dumps(result, allow_nan=False)  # nulls, not NaN


def test_fewer_subjects_than_folds_names_the_data_and_the_fix() -> None:
    faces = made_up(4, np.random.default_rng(0))

    with pytest.raises(FacialEmotionError, match=r"CK\+48: 10 folds for 4 subjects; use --folds"):
        make_folds(faces, Path("CK+48"), folds=10, seed=0, val_fraction=0.1)
    one = made_up(1, np.random.default_rng(0))
    for folds in (2, 10):  # it said "use --folds from 2 to 1", which no --folds meets
        with pytest.raises(FacialEmotionError) as raised:
            make_folds(one, Path("CK+48"), folds=folds, seed=0, val_fraction=0.1)
        assert str(raised.value) == (
            "CK+48: 1 subject; cross-validation by subject needs at least 2 (each fold holds out "
            "one person or more); add the faces of more people"
        )


def ck48(root: Path, people: int) -> Path:
    """CK+48's layout: each person posed 2 of 4 emotions, 2 frames each (people sharing
    emotions, so that a fold of 3 training people leaves one for val)."""
    for s in range(people):
        for emotion in (s % 2, 3 + s % 2):
            for frame in range(2):
                image = flat(emotion)
                image[0] = 10 * s  # not flat, so stretching shows
                write_image(
                    root / CK_FOLDERS[emotion] / f"S{s:03d}_00{emotion}_{frame:08d}.png", image
                )
    return root


def test_reading_keeps_each_face_with_its_person(tmp_path: Path) -> None:
    ck48(tmp_path / "CK+48", 5)

    faces, root = read_faces(tmp_path)  # the folder holding CK+48/ will do

    assert root == tmp_path / "CK+48" and len(faces.y) == 20
    assert sorted(set(faces.subjects)) == [f"S{s:03d}" for s in range(5)]
    assert faces.x.max() == 255  # stretched, as the pipeline trains on faces


@pytest.mark.parametrize(
    ("layout", "says"),
    [
        ("missing", "not found"),
        ("csv", "has no subject ids"),
        ("no subjects", "none of its 2 images is named by a CK+ subject"),
        ("split", "holds split folders"),
    ],
)
def test_data_that_cannot_be_dealt_by_person_gives_one_line(
    tmp_path, capsys, layout, says, load_benchmark
):
    data = tmp_path / "data"
    if layout == "csv":
        data = pixel_csv(tmp_path / "ckextended.csv", [(0, " ".join(["0"] * 2304), None)])
    elif layout == "no subjects":
        write_image(data / "happy" / "a.png", flat(1))
        write_image(data / "sad" / "b.png", flat(2))
    elif layout == "split":
        write_image(data / "train" / "happy" / "a.png", flat(1))

    assert (
        load_benchmark("ckplus_cv").main(
            ["--data", str(data), "--params", str(REPO / "params.yaml")]
        )
        == 2
    )

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ckplus_cv.py: error: {data}") and says in err


def test_the_benchmark_scores_each_made_up_face_once(
    tmp_path: Path, capsys, load_benchmark
) -> None:
    ck48(tmp_path / "CK+48", 6)
    data, params = str(tmp_path / "CK+48"), str(REPO / "params.yaml")
    settings = ["train.architecture=tiny", "train.epochs=1", "train.batch_size=8"]
    sets = [f"--set={s}" for s in [*settings, "data.val_fraction=0.3"]]
    csv = tmp_path / "faces.csv"

    assert (
        load_benchmark("ckplus_cv").main(
            ["--data", data, "--folds", "2", "--params", params, *sets, "--predictions", str(csv)]
        )
        == 0
    )

    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    folds, result = lines[:-1], lines[-1]
    assert [f["fold"] for f in folds] == [1, 2]
    assert sum(f["test_faces"] for f in folds) == result["faces"] == 24
    assert sorted(s for f in folds for s in f["held_out"]) == [f"S{s:03d}" for s in range(6)]
    assert result["folds"] == 2 and result["subjects"] == 6 and result["epochs"] == 1
    assert result["pooled_faces_right"] == sum(f["test_right"] for f in folds)
    assert set(result["pooled_recall"]) == set(result["classes"])
    assert {"accuracy_mean", "accuracy_std", "pooled_macro_f1", "minutes"} <= set(result)
    assert result["settings"]["architecture"] == "tiny"
    assert result["people"] == 6 and result["pooled_accuracy_ci95_people_low"] is None  # < 30
    assert 0 <= result["pooled_accuracy_ci95_low"] <= result["pooled_accuracy_ci95_high"] <= 1
    assert "accuracy_mean_ci95_low" in result
    faces = pd.read_csv(csv)
    assert list(faces.columns) == ["fold", "subject", "file", "true", "predicted"]
    assert (
        len(faces) == 24 and (faces.true == faces.predicted).sum() == result["pooled_faces_right"]
    )
    for fold in folds:  # each face under the fold that held its person out
        assert set(faces.subject[faces.fold == fold["fold"]]) == set(fold["held_out"])
    assert all(
        f.split("/")[1].startswith(s) for f, s in zip(faces.file, faces.subject, strict=True)
    )
    assert all((tmp_path / "CK+48" / f).is_file() for f in faces.file)
    assert set(faces.true) <= set(result["classes"])
    progress = [line for line in err.splitlines() if line.startswith("fold ")]
    assert [line.split(":")[0] for line in progress] == ["fold 1/2", "fold 2/2"]


def test_each_face_keeps_its_file_in_the_order_it_was_read(tmp_path: Path) -> None:
    root = ck48(tmp_path / "CK+48", 6)
    faces, _ = read_faces(root)

    files = face_files(faces, root)

    assert len(files) == len(faces.y) == 24
    assert [f[:4] for f in (Path(f).name for f in files)] == list(faces.subjects)
    assert [canonical(f.split("/")[0]) for f in files] == [faces.classes[y] for y in faces.y]
    whole = Evaluation(faces.classes, faces.y, np.eye(7)[faces.y], faces.subjects)
    folds = make_folds(faces, root, folds=2, seed=0, val_fraction=0.3)
    table = predictions(folds, whole, files)
    assert list(table.file) == files and set(table.fold) == {1, 2}
    assert (table.true == table.predicted).all()


def test_a_predictions_csv_in_a_missing_folder_is_refused_before_training(
    tmp_path, capsys, load_benchmark
):
    data = ck48(tmp_path / "CK+48", 4)
    out = tmp_path / "no" / "faces.csv"

    assert (
        load_benchmark("ckplus_cv").main(
            ["--data", str(data), "--params", str(REPO / "params.yaml"), "--predictions", str(out)]
        )
        == 2
    )

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ckplus_cv.py: error: {out}: its folder")
