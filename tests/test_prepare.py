"""The prepare stage as a user runs it: one clear line and no output on bad params."""

import contextlib
import errno
import importlib
import io
import os
import resource
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import cv2
import matplotlib.cbook
import numpy as np
import pytest
from data_fixtures import class_tree, labelled_rows, pattern, pixel_csv, write_image
from PIL import Image

from facial_emotion.data import prepared
from facial_emotion.errors import FacialEmotionError

NO_TEST = (
    "prepare: warning: no test split: the evaluate stage scores val, which also chose the epoch, "
    "so its figure leans optimistic; add a test/ folder, or a data.test_fraction above 0 for data "
    "without splits of its own"
)


def _small(path: Path, sizes: str, points: int) -> str:
    """The warning for scored splits too small to choose an epoch on (5 faces each, unsaid)."""
    return (
        f"prepare: warning: {path}: {sizes} faces: one face moves accuracy by {points} points, so "
        "the epoch chosen and the figures say little; add images, or score the model on a "
        "separate folder (data.md, folder)"
    )


def _blank(total: int, counts: str) -> str:
    """The warning for images of one grey level (class_tree's are)."""
    return (
        f"prepare: warning: {total} images are blank, one grey level edge to edge ({counts}): "
        "they show no face, yet are trained on or scored as an emotion; data.md (blank images) "
        "says which to remove"
    )


def _prepare(
    tmp_path: Path, params: str, out: str = "prepared", **options: Any
) -> subprocess.CompletedProcess:
    """`python -m facial_emotion.prepare --out OUT` in ``tmp_path``: its status and output.

    A process of its own only where ``options`` (``preexec_fn``) change the process; otherwise
    ``main`` runs here, as the module's entry calls it (a Python of its own took most of each
    test's time), on UTF-8 streams as a process's, with Python's warnings added to stderr."""
    (tmp_path / "params.yaml").write_text(params)
    argv = ["--out", out]
    if options:
        return subprocess.run(
            [sys.executable, "-m", "facial_emotion.prepare", *argv],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            **options,
        )
    from facial_emotion.prepare import main

    out_stream, err_stream = (io.TextIOWrapper(io.BytesIO(), encoding="utf-8") for _ in "12")
    with (
        contextlib.chdir(tmp_path),
        contextlib.redirect_stdout(out_stream),
        contextlib.redirect_stderr(err_stream),
        warnings.catch_warnings(record=True) as warned,
    ):
        warnings.simplefilter("default")
        status = main(argv)
    for w in warned:
        err_stream.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno))
    printed = []
    for stream in (out_stream, err_stream):
        stream.flush()
        printed.append(stream.buffer.getvalue().decode("utf-8"))
    return subprocess.CompletedProcess(argv, status, *printed)


def test_prepare_writes_every_split_and_a_manifest(tmp_path: Path) -> None:
    result = _prepare(tmp_path, "data:\n  synthetic_samples: 210\n")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "prepared").iterdir()) == [
        "manifest.json",
        "test.npz",
        "train.npz",
        "val.npz",
    ]


def test_a_closed_stderr_or_stdout_loses_neither_the_data_nor_the_status(tmp_path: Path) -> None:
    """`python -m facial_emotion.prepare 2>&-`: with sys.stderr None the progress bar raised
    AttributeError, status 1 with no word, and no data written; warnings went to stdout (audit
    CJ). The CLI's null device for a closed stream now serves the stage's entry point too."""
    class_tree(tmp_path / "faces", {"happy": 10, "sad": 10})
    params = f"data:\n  source: folder\n  path: {tmp_path / 'faces'}\n"
    printed = {}
    for fd in (2, 1):
        run = _prepare(tmp_path, params, preexec_fn=lambda fd=fd: os.close(fd))
        assert run.returncode == 0
        assert (tmp_path / "prepared" / "manifest.json").is_file()
        shutil.rmtree(tmp_path / "prepared")
        printed[fd] = run
    # stderr closed: the summary alone on stdout; stdout closed: the warnings still on stderr
    assert printed[2].stdout.startswith("prepare: folder → prepared (train 16")
    assert "warning" not in printed[2].stdout and printed[2].stdout.count("\n") == 1
    assert "prepare: warning: " in printed[1].stderr


def test_prepared_data_remembers_its_source_and_carving(tmp_path: Path) -> None:
    """Read back by the train stage into the model card, which `evaluate` carves splits by."""
    faces = class_tree(tmp_path / "faces", {"happy": 10, "sad": 10})
    params = f"seed: 7\ndata:\n  source: folder\n  path: {faces}\n  test_fraction: 0.2\n"
    assert _prepare(tmp_path, params).returncode == 0
    source = prepared.load(tmp_path / "prepared").source
    assert source["name"] == "folder" and source["path"] == str(faces)
    assert source["carving"] == {"seed": 7, "val_fraction": 0.1, "test_fraction": 0.2}


def test_wrong_type_in_params_is_one_line(tmp_path: Path) -> None:
    result = _prepare(tmp_path, "data:\n  val_fraction: a tenth\n")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "prepare: error: params.yaml: data.val_fraction must be float, got 'a tenth'; "
        "fix the value in params.yaml"
    ]
    assert not (tmp_path / "prepared").exists()


def test_a_full_disk_is_one_line_naming_the_file(tmp_path: Path) -> None:
    """A disk that filled up while the splits were written ended prepare, after every image was
    read, in a 30-line traceback of numpy's zip writer; files past 64 KB fail here as they do."""
    result = _prepare(
        tmp_path,
        "data:\n  synthetic_samples: 210\n",
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536)),
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "prepare: error: prepared/train.npz: cannot be written (File too large); the file "
        "system, or a limit on file size (`ulimit -f`), takes no file this large (prepared faces "
        "take about 2.1 KB each); prepare into a folder on another disk"
    )
    assert not list((tmp_path / "prepared").iterdir())  # no partial file left


def test_an_out_folder_that_cannot_be_made_is_one_line_before_any_reading(tmp_path) -> None:
    """`--out` under a file (or on a read-only disk) ended prepare in a traceback of mkdir's
    NotADirectoryError (audit CJ)."""
    (tmp_path / "taken").write_text("a file\n")
    result = _prepare(tmp_path, "data:\n  synthetic_samples: 210\n", out="taken/prepared")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "prepare: error: taken/prepared: cannot be written, taken is a file, not a folder; "
        "choose another path"
    ]


def test_a_full_disk_says_to_free_space() -> None:
    """A full disk (or quota) is fixed by freeing space; a file too large for the file system
    (EFBIG) is not, and was told to free space too."""
    from facial_emotion.data.prepared import unwritten

    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert str(unwritten(Path("prepared/train.npz"), full)) == (
        "prepared/train.npz: cannot be written (No space left on device); free disk space "
        "(prepared faces take about 2.1 KB each: 600 MB for 287,000) and run prepare again"
    )


def test_unknown_source_is_one_line(tmp_path: Path) -> None:
    result = _prepare(tmp_path, "data:\n  source: imagenet\n")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "imagenet" in result.stderr and "fer2013" in result.stderr


def test_a_class_without_training_faces_is_named(tmp_path: Path) -> None:
    root = tmp_path / "fer"
    class_tree(root / "train", {"happy": 6, "sad": 6, "suprise": 6})  # misspelt in train/ only
    class_tree(root / "test", {"happy": 2, "sad": 2, "surprise": 2})
    result = _prepare(tmp_path, f"data:\n  source: fer2013\n  path: {root}\n")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (  # after the progress bars
        f"prepare: error: {root}: no training faces of surprise (only in test); "
        "spell the class the same in every split, or remove it"
    )
    assert not (tmp_path / "prepared").exists()


def test_a_split_without_faces_of_a_class_is_a_warning(tmp_path: Path) -> None:
    """A val/ folder missing a class was accepted without a word, and the class never scored."""
    root = tmp_path / "fer"
    class_tree(root / "train", {"happy": 6, "sad": 6, "surprise": 6})
    class_tree(root / "val", {"happy": 2, "sad": 2})
    result = _prepare(tmp_path, f"data:\n  source: fer2013\n  path: {root}\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        _small(root, "val 4", 25),
        NO_TEST,  # train/ and val/ only
        "prepare: warning: val has no faces of surprise; its figures for them will be null",
        _blank(22, "train 18 of 18, val 4 of 4"),
    ]


def test_a_single_class_is_refused(tmp_path: Path) -> None:
    faces = class_tree(tmp_path / "faces", {"happy": 10})
    result = _prepare(tmp_path, f"data:\n  source: folder\n  path: {faces}\n")
    assert result.returncode == 2 and "one class only (happy)" in result.stderr


def test_an_image_predict_refuses_stops_prepare_in_one_line(tmp_path: Path) -> None:
    faces = class_tree(tmp_path / "faces", {"happy": 5, "sad": 5})
    tiff = faces / "sad" / "float.tif"
    Image.fromarray(np.full((48, 48), 0.5, np.float32)).save(tiff)
    result = _prepare(tmp_path, f"data:\n  source: folder\n  path: {faces}\n")
    assert result.returncode == 2 and "WARN" not in result.stderr  # no OpenCV note either
    assert result.stderr.strip().splitlines()[-1] == (  # after the progress bar
        f"prepare: error: {tiff}: 32-bit float pixels have no fixed range to read faces in; "
        "save the image with 8- or 16-bit pixels"
    )
    assert not (tmp_path / "prepared").exists()


def test_a_picture_too_small_or_too_long_for_a_face_stops_prepare_in_one_line(tmp_path):
    """A 1x1 PNG and a 4000x20 strip were trained on as faces, enlarged or squeezed to 48x48."""
    for name, size, why in (
        ("dot.png", (1, 1), "1x1 pixels, too small to hold a face (a face crop has 16 or more a"),
        ("strip.png", (4000, 20), "4000x20 pixels, too long and thin to be a face crop; crop"),
    ):
        faces = class_tree(tmp_path / name / "faces", {"happy": 5, "sad": 5})
        write_image(faces / "happy" / name, np.full(size[::-1], 200, np.uint8))
        result = _prepare(tmp_path / name, f"data:\n  source: folder\n  path: {faces}\n")
        assert result.returncode == 2
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"prepare: error: {faces / 'happy' / name}: {why}"), last


def test_faces_of_val_identical_to_training_faces_are_a_warning(tmp_path: Path) -> None:
    """FER2013's folders hold 279 val faces identical to training faces; nothing said so."""
    root = tmp_path / "fer"
    class_tree(root / "train", {"happy": 3, "sad": 3})
    class_tree(root / "val", {"happy": 2, "sad": 2})  # flat faces: blank images, left out
    for k in range(3):
        write_image(root / "train" / "happy" / f"p{k}.png", pattern(k))
    write_image(root / "val" / "happy" / "same.png", pattern(0))
    write_image(root / "val" / "sad" / "relabelled.png", pattern(1))
    write_image(root / "val" / "sad" / "new.png", pattern(7))
    result = _prepare(tmp_path, f"data:\n  source: fer2013\n  path: {root}\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        _small(root, "val 7", 14),
        NO_TEST,
        _blank(10, "train 6 of 9, val 4 of 7"),
        "prepare: warning: 2 of the 7 val faces are identical to training faces (1 of them "
        "labelled otherwise there), so they are not unseen faces",
    ]


def test_training_faces_that_repeat_are_a_warning(tmp_path: Path) -> None:
    """FER2013's Training repeats 1,226 faces, 38 under two or more labels; nothing said so."""
    root = tmp_path / "fer"
    class_tree(root / "train", {"happy": 3, "sad": 3})  # flat faces: blank images, left out
    class_tree(root / "val", {"happy": 2, "sad": 2})
    write_image(root / "train" / "happy" / "a.png", pattern(0))
    write_image(root / "train" / "happy" / "a_again.png", pattern(0))
    write_image(root / "train" / "happy" / "b.png", pattern(1))
    write_image(root / "train" / "sad" / "b_as_sad.png", pattern(1))
    result = _prepare(tmp_path, f"data:\n  source: fer2013\n  path: {root}\n")
    assert result.returncode == 0, result.stderr
    assert (
        "prepare: warning: 2 of the 10 train faces repeat another training face, pixel for "
        "pixel, and 1 face appears under two or more labels, so training teaches it both answers"
    ) in result.stderr.splitlines()


def test_one_face_seen_or_repeated_in_training_is_said_in_the_singular() -> None:
    """It said "1 of the 3 val faces are identical ... (1 of them labelled otherwise there), so
    they are", "1 of the 4 train faces repeat" and "1 face appears ..., so training teaches each
    of them"."""
    from facial_emotion.prepare import faces_repeated_in_training, faces_seen_in_training

    train = np.stack([pattern(0), pattern(0), pattern(1), pattern(2)])
    splits = {
        "train": prepared.LabelledImages(train, np.array([0, 1, 0, 1])),
        "val": prepared.LabelledImages(
            np.stack([pattern(0), pattern(3), pattern(4)]), np.zeros(3, int)
        ),
        "test": prepared.LabelledImages(np.stack([pattern(1), pattern(5)]), np.array([0, 1])),
    }
    data = prepared.PreparedData(("happy", "sad"), splits)
    assert faces_seen_in_training(data) == [
        "1 of the 3 val faces is identical to a training face, labelled otherwise there, so it "
        "is not an unseen face",
        "1 of the 2 test faces is identical to a training face, so it is not an unseen face",
    ]
    assert faces_repeated_in_training(data) == [
        "1 of the 4 train faces repeats another training face, pixel for pixel, and 1 face "
        "appears under two or more labels, so training teaches it both answers"
    ]


def test_one_blank_image_is_said_in_the_singular() -> None:
    """It said "1 image(s) are blank ... they show no face, yet are trained on"."""
    from facial_emotion.prepare import blank_faces

    train = np.stack([pattern(0), np.full((48, 48), 128, np.uint8), pattern(1)])
    splits = {
        "train": prepared.LabelledImages(train, np.array([0, 1, 2])),
        "val": prepared.LabelledImages(pattern(2)[None], np.array([0])),
    }
    assert blank_faces(prepared.PreparedData(("angry", "disgust", "fear"), splits)) == [
        "1 image is blank, one grey level edge to edge (train 1 of 3): it shows no face, yet is "
        "trained on or scored as an emotion; data.md (blank images) says which to remove"
    ]


def test_ck_plus_read_as_a_plain_folder_is_a_warning(tmp_path: Path) -> None:
    """Split image by image, every test person was also in train."""
    faces = tmp_path / "CK+48"
    for emotion in ("happy", "sad"):
        for subject in range(6):
            for frame in range(2):
                write_image(faces / emotion / f"S{subject:03d}_001_{frame:08d}.png", pattern(0))
    result = _prepare(tmp_path, f"data:\n  source: folder\n  path: {faces}\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"prepare: warning: {faces}: every image name starts with a CK+ subject id (S###_), but "
        "a folder is split image by image, so one person's frames land in train and test; use "
        "data.source=ckplus, which splits by subject"
    )


def test_ck_plus_scored_on_few_people_is_a_warning(tmp_path: Path) -> None:
    """CK+48's test is 96 faces of 10 people, 3 near-identical frames a sequence: its accuracy
    moves by a person at a time and with the seed's draw, and prepare said nothing."""
    faces = tmp_path / "CK+48"
    for subject in range(40):
        for emotion in ("happy", "sad"):
            for frame in range(3):
                name = f"S{subject:03d}_001_{frame:08d}.png"
                write_image(faces / emotion / name, pattern(6 * subject + frame))
    result = _prepare(tmp_path, f"data:\n  source: ckplus\n  path: {faces}\n")
    assert result.returncode == 0, result.stderr
    people = prepared.load(tmp_path / "prepared").source["subjects"]
    assert people["val"] == people["test"] == 4
    assert (
        f"prepare: warning: {faces}: val 24 faces of 4 people and test 24 faces of 4 people: one "
        "person's faces are alike (CK+48: 3 near-identical frames a sequence), so accuracy moves "
        "by about 25 points a person and with the people the seed draws; report the mean and "
        "spread over several seeds (benchmarks/transfer.py --seeds; data.md, ckplus), not one run"
    ) in result.stderr.splitlines()


def test_the_ck_plus_csv_split_by_rows_is_a_warning(tmp_path: Path) -> None:
    """The CSV has no subject ids: one person's frames can sit in train and test."""
    rows = labelled_rows({"Training": 3, "PublicTest": 2, "PrivateTest": 2}, n_labels=8)
    csv = pixel_csv(tmp_path / "ckextended.csv", rows)
    result = _prepare(tmp_path, f"data:\n  source: ckplus\n  path: {csv}\n")
    assert result.returncode == 0, result.stderr
    assert (
        f"prepare: warning: {csv}: the CK+ CSV has no subject ids, so it is split by rows"
        in result.stderr
    )


def test_files_that_are_not_images_are_a_warning(tmp_path: Path) -> None:
    """An iPhone's .heic photos and a link to nothing were left out without a word."""
    faces = class_tree(tmp_path / "faces", {"happy": 10, "sad": 10})
    (faces / "sad" / "IMG_0001.heic").write_bytes(b"ftypheic")
    (faces / "sad" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    (faces / "sad" / "Thumbs.db").write_bytes(b"windows")  # not data: no warning
    result = _prepare(tmp_path, f"data:\n  source: folder\n  path: {faces}\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"prepare: warning: {faces}: skipped 2 files that are not images Pillow reads (such "
        "as sad/IMG_0001.heic); convert any that are faces to JPEG or PNG",
        _small(faces, "val 2 and test 2", 50),
        _blank(20, "train 16 of 16, val 2 of 2, test 2 of 2"),
    ]


def test_photos_without_a_face_are_a_warning_with_detect_faces(tmp_path: Path) -> None:
    """data.detect_faces leaves out a photo with no face; the user is told which, as for files
    that are not images."""
    photos = tmp_path / "photos"
    hopper = cv2.imread(str(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    for split in ("train", "val"):
        for emotion, picture in (("happy", hopper), ("sad", hopper[:, ::-1])):
            write_image(photos / split / emotion / "face.png", picture)
    write_image(photos / "train" / "sad" / "wall.png", np.full((240, 320), 90, np.uint8))
    result = _prepare(
        tmp_path, f"data:\n  source: folder\n  path: {photos}\n  detect_faces: true\n"
    )
    assert result.returncode == 0, result.stderr
    assert (
        f"prepare: warning: {photos}: left out 1 image with no face found (such as "
        f"{Path('train/sad/wall.png')}); predict finds none in them either, so crop any you want "
        "to keep to the face"
    ) in result.stderr.splitlines()
    manifest = prepared.recorded_source(tmp_path / "prepared")
    assert manifest["faces"] == "largest face found by haar" and manifest["faceless_files"] == 1


def test_class_folders_named_by_number_are_a_warning(tmp_path: Path) -> None:
    """RAF-DB's 1 … 7 became classes "1" … "7", and a model whose card and predict named emotions
    by number, without a word."""
    faces = class_tree(tmp_path / "rafdb", {str(code): 10 for code in range(1, 4)})
    result = _prepare(tmp_path, f"data:\n  source: folder\n  path: {faces}\n")
    assert result.returncode == 0, result.stderr
    assert (
        f"prepare: warning: {faces}: the class folders are numbers, so the model, its card and "
        "predict name the emotions by number; set data.labels (evaluate: --labels) to rafdb, "
        "affectnet or a mapping {folder: emotion}, or rename the class folders to emotion names "
        "(data.md, folder: numbered classes)"
    ) in result.stderr.splitlines()


def test_numbered_folders_read_as_fer2013_codes_are_a_warning(tmp_path: Path) -> None:
    """AffectNet's 0 (neutral) was read as FER2013's 0 (angry), without a word."""
    faces = tmp_path / "affectnet"
    for split in ("train", "test"):
        class_tree(faces / split, {"0": 10, "1": 10})
    result = _prepare(tmp_path, f"data:\n  source: fer2013\n  path: {faces}\n")
    assert result.returncode == 0, result.stderr
    assert (
        f"prepare: warning: {faces}: class folders named by number are read as FER2013's codes "
        "(0 → angry, 1 → disgust); a data set numbered otherwise (AffectNet: 0 is neutral; "
        "RAF-DB: 1 is surprise) is labelled wrong so: set data.labels (evaluate: --labels) to "
        "rafdb, affectnet or a mapping {folder: emotion}, or rename the class folders to emotion "
        "names (data.md, folder: numbered classes)"
    ) in result.stderr.splitlines()
    named = class_tree(tmp_path / "named", {"happy": 10, "sad": 10})
    result = _prepare(tmp_path, f"data:\n  source: folder\n  path: {named}\n")
    assert "class folders" not in result.stderr


def test_data_labels_names_numbered_folders_without_a_warning(tmp_path: Path) -> None:
    """With data.labels set, the folders' numbers are emotions: no numbering warning, the
    manifest (and so the model card) records the preset, and a folder it does not name stops
    prepare in one line before anything is written."""
    faces = tmp_path / "rafdb"
    for split in ("train", "test"):
        class_tree(faces / split, {str(code): 10 for code in range(1, 8)})
    for source in ("folder", "fer2013"):
        params = f"data:\n  source: {source}\n  path: {faces}\n  labels: rafdb\n"
        result = _prepare(tmp_path, params)
        assert result.returncode == 0, result.stderr
        assert "by number" not in result.stderr and "numbers" not in result.stderr
        assert "7 classes: angry, disgust, fear, happy, sad, surprise, neutral" in result.stdout
        assert prepared.recorded_source(tmp_path / "prepared")["labels"] == "rafdb"
    shutil.rmtree(tmp_path / "prepared")
    params = f"data:\n  source: folder\n  path: {faces}\n  labels: {{1: surprise, 2: fear}}\n"
    result = _prepare(tmp_path, params)
    assert result.returncode == 2 and not (tmp_path / "prepared").exists()
    assert result.stderr == (
        f"prepare: error: {faces / 'train' / '3'}: class folder 3/ is not named by data.labels (or "
        "--labels) (1, 2); give data.labels as a mapping {folder: emotion} that names it too, or "
        "move the folder out\n"
    )


def test_data_labels_for_a_fer2013_csv_names_the_params_file_read(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`prepare --params other.yaml` with data.labels and FER2013's CSV said to set data.labels
    to "" in params.yaml, a file it had not read."""
    from facial_emotion.prepare import main

    csv = pixel_csv(tmp_path / "fer2013.csv", labelled_rows({"Training": 3, "PublicTest": 2}, 7))
    other = tmp_path / "other.yaml"
    other.write_text(f"data:\n  source: fer2013\n  path: {csv}\n  labels: rafdb\n")
    assert main(["--params", str(other), "--out", str(tmp_path / "prepared")]) == 2
    assert capsys.readouterr().err == (
        f"prepare: error: {csv}: a CSV labels its rows by FER2013's codes, and data.labels names "
        f'class folders; set data.labels to "" in {other}\n'
    )
    assert not (tmp_path / "prepared").exists()


def test_folders_data_labels_merges_are_named(tmp_path: Path) -> None:
    """Two folders sent to one emotion, by design or by a typo, are one class: prepare names
    them, where only the class count told before; a preset that merges none says nothing."""
    faces = class_tree(tmp_path / "faces", {"1": 10, "2": 10, "3": 10, "10": 10})
    labels = "{1: surprise, 2: fear, 3: surprise, 10: surprise}"
    result = _prepare(tmp_path, f"data:\n  source: folder\n  path: {faces}\n  labels: {labels}\n")
    assert result.returncode == 0, result.stderr
    assert (
        f"prepare: warning: {faces}: data.labels gives more than one class folder the same "
        "emotion (1/ and 3/ and 10/ → surprise), so each such group is one class; if that is not "
        "meant, correct data.labels"
    ) in result.stderr.splitlines()
    assert "2 classes: fear, surprise" in result.stdout
    shutil.rmtree(tmp_path / "prepared")
    labels = "{1: surprise, 2: fear, 3: happy, 10: sad}"
    result = _prepare(tmp_path, f"data:\n  source: folder\n  path: {faces}\n  labels: {labels}\n")
    assert result.returncode == 0 and "same emotion" not in result.stderr, result.stderr


def test_photos_read_whole_far_from_square_are_a_warning(tmp_path: Path) -> None:
    """ExpW-style photos with a small face in them trained as 48x48 squeezed scenes, unsaid."""
    photos = tmp_path / "photos"
    for emotion in ("happy", "sad"):
        for k in range(10):
            write_image(photos / emotion / f"p{k}.jpg", pattern(k)[:36].repeat(10, 0).repeat(18, 1))
    write_image(photos / "sad" / "crop.jpg", pattern(20))
    result = _prepare(tmp_path, f"data:\n  source: folder\n  path: {photos}\n")
    assert result.returncode == 0, result.stderr
    assert (
        f"prepare: warning: {photos}: 20 of 21 images are far from square (such as "
        f"{Path('happy/p0.jpg')}): each is read whole as one face and squeezed to 48x48, so a "
        "photo trains as a shrunken scene; for photos set data.detect_faces=true, else crop "
        "them to the face"
    ) in result.stderr.splitlines()
    crops = class_tree(tmp_path / "crops", {"happy": 10, "sad": 10})
    result = _prepare(tmp_path, f"data:\n  source: folder\n  path: {crops}\n")
    assert "far from square" not in result.stderr


def _data_set(classes: tuple[str, ...], name: str, test: bool = False) -> prepared.PreparedData:
    y = np.arange(6) % len(classes)
    faces = prepared.LabelledImages(np.zeros((6, 48, 48), np.uint8), y)
    splits = {"train": faces, "val": faces} | ({"test": faces} if test else {})
    return prepared.PreparedData(classes, splits, {"name": name})


@pytest.mark.parametrize("stop", ["val", "test", "manifest"])
def test_a_prepare_stopped_part_way_leaves_the_last_set_whole(
    tmp_path: Path, monkeypatch, stop: str
) -> None:
    """Each split was renamed into place alone: a prepare stopped after train.npz, outside DVC,
    left the new train beside the old val and test. The files are now renamed in only once all
    are written."""
    out = tmp_path / "prepared"
    prepared.save(_data_set(("angry", "happy", "sad"), "fer2013", test=True), out)
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    written = np.savez_compressed

    def stopped_at_val_or_test(file, **arrays) -> None:
        if stop in Path(file.name).name:
            raise KeyboardInterrupt
        written(file, **arrays)

    def stopped_at_manifest(*args, **kwargs) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(prepared.np, "savez_compressed", stopped_at_val_or_test)
    if stop == "manifest":
        monkeypatch.setattr(prepared, "write_json", stopped_at_manifest)
    with pytest.raises((KeyboardInterrupt, FacialEmotionError)):
        prepared.save(_data_set(("anger", "contempt", "disgust"), "ckplus", test=True), out)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before  # no temp left
    monkeypatch.undo()
    assert prepared.load(out).classes == ("angry", "happy", "sad")


def test_a_new_set_without_a_test_split_removes_the_old_test(tmp_path: Path) -> None:
    out = tmp_path / "prepared"
    prepared.save(_data_set(("angry", "happy", "sad"), "fer2013", test=True), out)
    prepared.save(_data_set(("anger", "contempt", "disgust"), "ckplus"), out)
    assert sorted(path.name for path in out.iterdir()) == ["manifest.json", "train.npz", "val.npz"]
    assert prepared.load(out).classes == ("anger", "contempt", "disgust")


def test_splits_of_two_prepare_runs_are_refused_in_one_line(tmp_path: Path) -> None:
    """A folder holding splits of two data sets (a prepare killed between two renames, files
    copied in by hand) was read as one set under val's class names without a word."""
    out = tmp_path / "prepared"
    prepared.save(_data_set(("angry", "happy", "sad"), "fer2013"), out)
    new = _data_set(("anger", "contempt", "disgust"), "ckplus").splits["train"]
    with (out / "train.npz").open("wb") as fh:  # the new run's train, and then it stopped
        np.savez_compressed(
            fh, x=new.x, y=new.y, classes=np.array(("anger", "contempt", "disgust"))
        )
    with pytest.raises(FacialEmotionError) as refused:
        prepared.load(out)
    message = str(refused.value)
    assert message.startswith(f"{out / 'val.npz'}: holds classes angry, happy, sad")
    assert "\n" not in message and message.endswith("run `dvc repro prepare` again")


def test_splits_of_the_same_classes_from_two_prepare_runs_are_refused(tmp_path: Path) -> None:
    """The synthetic default and FER2013 have the same class names: a prepare stopped after
    train.npz left FER2013's train beside the synthetic val, read as one data set without a
    word. The manifest, written last, counts the splits of the run that finished."""
    classes = ("angry", "happy", "sad")
    out = tmp_path / "prepared"

    def faces(n: int) -> prepared.LabelledImages:
        return prepared.LabelledImages(np.zeros((n, 48, 48), np.uint8), np.arange(n) % 3)

    prepared.save(prepared.PreparedData(classes, {"train": faces(9), "val": faces(6)}), out)
    assert len(prepared.load(out).splits["train"]) == 9
    with (out / "train.npz").open("wb") as fh:  # the new run's train, and then it stopped
        np.savez_compressed(fh, x=faces(12).x, y=faces(12).y, classes=np.array(classes))
    with pytest.raises(FacialEmotionError, match="train 12, val 6.*train 9, val 6.*two runs"):
        prepared.load(out)


def test_data_with_unread_splits_is_not_saved(tmp_path: Path) -> None:
    """`save` deletes the split files of a folder that the data does not hold: data read with
    train left unread (as scoring one split reads it) would have lost the folder's train.npz."""
    classes = ("angry", "happy", "sad")
    faces = prepared.LabelledImages(np.zeros((6, 48, 48), np.uint8), np.arange(6) % 3)
    out = tmp_path / "prepared"
    prepared.save(prepared.PreparedData(classes, {"train": faces, "val": faces}), out)
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    scored = prepared.PreparedData(classes, {"val": faces}, unread={"train": 9, "test": 4})
    with pytest.raises(ValueError, match=r"split\(s\) train, test were not read"):
        prepared.save(scored, out)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_prepare_names_the_params_file_it_read_for_a_bad_data_value(tmp_path: Path) -> None:
    """`prepare --params my.yaml` with data.source nope said "... in params.yaml" (audit CB)."""
    from facial_emotion.prepare import prepare

    other = tmp_path / "my.yaml"
    other.write_text("data:\n  source: nope\n")
    with pytest.raises(FacialEmotionError, match=f"in {other}$"):
        prepare(str(other), str(tmp_path / "prepared"))


@pytest.mark.parametrize("module", ["prepare", "check_params"])
def test_help_names_the_command_the_readme_gives(capsys, module: str) -> None:
    """`python -m facial_emotion.prepare --help` said `usage: prepare.py`, argparse's guess
    from the file, which is no command a user can type."""
    main = importlib.import_module(f"facial_emotion.{module}").main
    with pytest.raises(SystemExit):
        main(["--help"])
    assert capsys.readouterr().out.startswith(f"usage: python -m facial_emotion.{module} [-h]")
