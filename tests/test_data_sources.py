"""load_source: params.yaml's data settings to prepared data, with clear errors for bad settings."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import class_tree, labelled_rows, packed, pattern, pixel_csv, write_image

from facial_emotion.data import prepared
from facial_emotion.data.prepared import (
    LabelledImages,
    PreparedData,
    differs_from,
    full_range,
    stretched,
)
from facial_emotion.data.sources import (
    LOADERS,
    SOURCES,
    carving_of,
    guess_source,
    load_for_scoring,
    load_source,
)
from facial_emotion.errors import FacialEmotionError


def load(source: str, path: str | None, **overrides):
    settings = {"seed": 0, "val_fraction": 0.2, "test_fraction": 0.2, "synthetic_samples": 35}
    return load_source(source, path, **{**settings, **overrides})


def test_a_source_is_registered_in_one_place() -> None:
    """Adding a loader to LOADERS is all the code needs: params checks and the manifest take
    the names from it (SOURCES was a second list that had to agree)."""
    assert SOURCES == (*LOADERS, "synthetic")
    assert set(LOADERS) >= {"fer2013", "ckplus", "folder"}


def test_every_source_is_one_evaluate_can_score() -> None:
    """`facial-emotion evaluate --source` keeps its own list, since the command's parser must not
    import the loaders (1.2 s on every command); this is what keeps the two in step."""
    from facial_emotion.cli.evaluate import SOURCES as EVALUATE_SOURCES

    assert EVALUATE_SOURCES == ("auto", *LOADERS), "add the source to cli/evaluate.py SOURCES"


def test_every_source_is_documented() -> None:
    """A contributor's new source is named where users look: params.yaml's data.source comment
    and a section of its own in data.md."""
    repo = Path(__file__).resolve().parents[1]
    comment = next(
        line
        for line in (repo / "params.yaml").read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("source:")
    )
    data_md = (repo / "data.md").read_text(encoding="utf-8")
    for source in SOURCES:
        assert f" {source}" in comment.partition("#")[2], f"params.yaml: add {source} to {comment}"
        assert f"## `{source}`" in data_md, f"data.md: add a section ## `{source}`"


def test_synthetic_needs_no_path_and_records_where_it_came_from() -> None:
    data = load("synthetic", None)

    assert sum(len(s) for s in data.splits.values()) == 35
    assert data.source["name"] == "synthetic" and data.source["path"] is None


def test_each_file_source_records_name_path_and_split_method(tmp_path: Path) -> None:
    class_tree(tmp_path / "tree", {"anger": 5, "happy": 5})
    for subject in range(1, 6):
        class_tree(
            tmp_path / "ck" / "CK+48", {"anger": 2, "happy": 2}, prefix=f"S{subject:03d}_001"
        )
    csv = pixel_csv(tmp_path / "fer2013.csv", labelled_rows({"Training": 2, "PublicTest": 1}, 7))

    for source, path in [
        ("folder", tmp_path / "tree"),
        ("ckplus", tmp_path / "ck"),
        ("fer2013", csv),
    ]:
        data = load(source, str(path), test_fraction=0.0 if source == "ckplus" else 0.2)

        assert data.source["name"] == source
        assert data.source["path"].startswith(str(path))
        assert data.source["splits"]


def test_unknown_source_lists_the_valid_ones() -> None:
    with pytest.raises(FacialEmotionError) as caught:
        load("affectnet", "/data")

    assert "'affectnet'" in str(caught.value)
    assert all(name in str(caught.value) for name in SOURCES)


@pytest.mark.parametrize("path", [None, ""])
def test_file_source_without_path_says_set_data_path(path: str | None) -> None:
    with pytest.raises(FacialEmotionError, match="data.path is not set"):
        load("fer2013", path)


@pytest.mark.parametrize(("val", "test"), [(0.0, 0.1), (1.0, 0.0), (0.5, 0.5), (0.2, -0.1)])
def test_fractions_that_leave_no_training_data_are_refused(val: float, test: float) -> None:
    with pytest.raises(FacialEmotionError, match="val_fraction"):
        load("synthetic", None, val_fraction=val, test_fraction=test)


def test_non_positive_synthetic_samples_are_refused() -> None:
    with pytest.raises(FacialEmotionError, match="synthetic_samples"):
        load("synthetic", None, synthetic_samples=0)


def _layout(root: Path, kind: str) -> Path:
    """A tiny data set of one layout under ``root``; returns the path a user would pass."""
    rows = labelled_rows({"Training": 2, "PublicTest": 1}, 7)
    if kind == "fer2013.csv":
        return pixel_csv(root / "fer2013.csv", rows)
    if kind in ("fer2013.csv.gz", "fer2013.tar.gz", "fer2013.zip"):
        return packed(pixel_csv(root / "fer2013.csv", rows), kind.removeprefix("fer2013"))
    if kind == "ckextended.csv.gz":
        return packed(pixel_csv(root / "ckextended.csv", rows), ".csv.gz")
    if kind == "ckextended.csv":
        return pixel_csv(root / "ckextended.csv", rows)
    if kind == "fer2013 folders":
        class_tree(root / "train", {"happy": 2, "sad": 2}, ext=".jpg")
        return root
    if kind == "fer2013 folders, capitals":
        class_tree(root / "Train", {"happy": 2, "sad": 2}, ext=".jpg")
        return root
    if kind == "CK+48 parent":
        class_tree(root / "CK+48", {"happy": 2, "sad": 2}, prefix="S005_001")
        return root
    if kind == "CK+48 renamed":
        return class_tree(root / "faces", {"happy": 2, "sad": 2}, prefix="S005_001")
    if kind == "folder named like CK":
        return class_tree(root / "stock_photos", {"happy": 2, "sad": 2})
    archive = root / "faces.zip"
    archive.write_bytes(b"PK")
    return archive


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("fer2013.csv", "fer2013"),
        ("ckextended.csv", "ckplus"),
        ("fer2013.csv.gz", "fer2013"),
        ("fer2013.tar.gz", "fer2013"),
        ("fer2013.zip", "fer2013"),
        ("ckextended.csv.gz", "ckplus"),
        ("fer2013 folders", "fer2013"),
        ("fer2013 folders, capitals", "fer2013"),
        ("CK+48 parent", "ckplus"),
        ("CK+48 renamed", "ckplus"),
        ("folder named like CK", "folder"),
        ("not a data set", "folder"),
    ],
)
def test_source_is_guessed_from_what_the_path_holds(
    tmp_path: Path, kind: str, expected: str
) -> None:
    assert guess_source(_layout(tmp_path, kind)) == expected


def test_evaluate_reads_a_compressed_fer2013_csv_as_prepare_does(tmp_path: Path) -> None:
    rows = labelled_rows({"Training": 2, "PublicTest": 1}, 7)
    archive = packed(pixel_csv(tmp_path / "fer2013.csv", rows), ".tar.gz")

    data, split = load_for_scoring(archive)

    assert (data.source["name"], split, len(data.splits[split])) == ("fer2013", "val", 7)


def test_faces_are_trained_and_scored_stretched_as_they_are_served(tmp_path: Path) -> None:
    """A dim CK+ or webcam face was trained unstretched and served stretched to 0..255."""
    for label in ("happy", "sad"):
        for k in range(5):
            write_image(tmp_path / label / f"{k}.png", (pattern(k) // 4 + 30).astype("uint8"))
    data = load_source(
        "folder", str(tmp_path), seed=0, val_fraction=0.2, test_fraction=0.2, synthetic_samples=0
    )
    for split in data.splits.values():
        assert (split.x.min(axis=(1, 2)) == 0).all() and (split.x.max(axis=(1, 2)) == 255).all()
    synthetic = load_source(
        "synthetic", None, seed=0, val_fraction=0.2, test_fraction=0.2, synthetic_samples=70
    )
    assert (synthetic.splits["train"].x.max(axis=(1, 2)) == 255).all()


def test_stretching_a_large_split_takes_little_more_than_the_faces() -> None:
    """Stretching a split at once took 26 bytes a pixel in float32 steps: 1.2 GB for 46,000
    faces, about 6 GB for the 230,000 training faces of an AffectNet-sized folder."""
    faces = np.random.default_rng(0).integers(0, 200, (20_000, 48, 48), dtype=np.uint8)
    faces[7] = 9  # a flat face stays as it is
    tracemalloc.start()
    try:
        out = full_range(faces)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * faces.nbytes
    low = faces.min(axis=(1, 2), keepdims=True).astype(np.float32)
    high = faces.max(axis=(1, 2), keepdims=True).astype(np.float32)
    expected = np.round((faces - low) * (255 / np.maximum(high - low, 1)))
    np.testing.assert_array_equal(out, np.where(high > low, expected, faces).astype(np.uint8))
    np.testing.assert_array_equal(full_range(faces[3]), out[3])  # one face, as predict stretches


def test_a_source_is_stretched_in_place_not_copied() -> None:
    """prepare held the faces twice while it stretched them: 1.46 GB for 287,000 faces."""
    rng = np.random.default_rng(0)
    splits = {
        name: LabelledImages(rng.integers(0, 200, (n, 48, 48), dtype=np.uint8), np.zeros(n, int))
        for name, n in (("train", 32_000), ("val", 8_000))
    }
    expected = {name: full_range(split.x) for name, split in splits.items()}
    tracemalloc.start()
    try:
        out = stretched(PreparedData(("happy",), splits))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # a chunk's float32 steps (28 MB), where a stretched copy of the faces added their 92 MB
    assert peak < 0.5 * sum(e.nbytes for e in expected.values())
    for name, faces in expected.items():
        np.testing.assert_array_equal(out.splits[name].x, faces)


def test_prepared_data_says_when_it_is_not_what_the_settings_name(tmp_path: Path) -> None:
    """01_explore given other data settings still showed the last prepared set, without a word."""
    root = class_tree(tmp_path / "faces", {"happy": 5, "sad": 5})
    data = load_source(
        "folder", str(root), seed=0, val_fraction=0.2, test_fraction=0.2, synthetic_samples=0
    )
    assert differs_from(data, "folder", str(root)) is None
    assert "not data.source fer2013; run `dvc repro prepare`" in differs_from(data, "fer2013", "x")
    assert "not data.path /elsewhere" in differs_from(data, "folder", "/elsewhere")


def test_prepared_data_that_names_no_source_says_so(tmp_path: Path) -> None:
    """Faces in data/prepared without prepare's manifest.json (copied in by hand) warned "the
    prepared data is None, not data.source synthetic"."""
    prepared.save(load("synthetic", None), tmp_path)
    (tmp_path / "manifest.json").unlink()
    note = differs_from(prepared.load(tmp_path), "synthetic", "")
    assert note == (
        "the prepared data does not record which source it came from (prepare writes it in "
        "manifest.json), so it may not be data.source synthetic; run `dvc repro prepare`"
    )


def test_a_cards_carving_gives_only_its_own_settings() -> None:
    """A card's extra carving key ended evaluate in a TypeError traceback."""
    card = {"source": {"carving": {"seed": 3, "synthetic_samples": 5, "path": "/x"}}}
    assert carving_of(card) == {"seed": 3, "val_fraction": 0.1, "test_fraction": 0.1}
    assert carving_of({"source": {"carving": "odd"}, "seed": 7})["seed"] == 7


def test_labels_given_to_evaluate_for_data_that_names_its_classes_say_to_leave_them_out(
    tmp_path: Path,
) -> None:
    """`evaluate --labels rafdb` on a CSV or on CK+ told its user to edit params.yaml, which
    evaluate does not read: the line names the flag too."""
    csv = pixel_csv(tmp_path / "fer2013.csv", labelled_rows({None: 2}, 2))
    ck = class_tree(tmp_path / "ck" / "CK+48", {"happy": 2}, prefix="S005_001").parent
    with pytest.raises(FacialEmotionError, match=r"and --labels names class folders; leave out "):
        load_for_scoring(csv, labels="rafdb")
    with pytest.raises(FacialEmotionError) as caught:
        load_for_scoring(ck, labels="rafdb")
    assert str(caught.value) == (  # it named the model's card first, the fix in brackets
        f"{ck}: ckplus data names its classes itself, and --labels names class folders (of a "
        "folder or FER2013 data set); leave out --labels"
    )


def _split_layout(root: Path, kind: str) -> Path:
    """A data set whose splits are named (folders, Usage) or carved from the file list."""
    faces = {"happy": 6, "sad": 6, "angry": 5}
    if kind == "train/ val/ test/":
        for split in ("train", "val", "test"):
            class_tree(root / split, faces, prefix=split)
        return root
    if kind == "train/ alone":
        return class_tree(root / "train", faces).parent
    if kind == "no split folders":
        return class_tree(root / "faces", faces)
    rows = labelled_rows({"Training": 6, "PublicTest": 2, "PrivateTest": 2}, 7)
    if kind == "csv, no PublicTest":
        rows = [row for row in rows if row[2] != "PublicTest"]
    if kind == "csv, no Usage":
        rows = [(emotion, pixels, None) for emotion, pixels, _ in rows]
    for k, (emotion, _, usage) in enumerate(rows):  # each row its own face
        rows[k] = (emotion, " ".join(str(v) for v in pattern(k).ravel()), usage)
    return pixel_csv(root / "fer2013.csv", rows)


@pytest.mark.parametrize(
    "kind",
    [
        "train/ val/ test/",
        "train/ alone",
        "no split folders",
        "csv, Usage",
        "csv, no PublicTest",
        "csv, no Usage",
    ],
)
def test_scoring_one_split_decodes_that_split_alone(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """evaluate --split val decoded every image of every split first: FER2013's 28,709
    training faces to score its 3,589 val faces. The splits are made of the file list (or the
    CSV's rows) before any is decoded, so the faces scored are the very same."""
    from facial_emotion.data import fer2013, images

    path = _split_layout(tmp_path, kind)
    whole, _ = load_for_scoring(path, split="all")
    decoded: list[int] = []
    read_gray48, csv_pixels = images.read_gray48, fer2013.csv_pixels
    monkeypatch.setattr(
        images, "read_gray48", lambda p, *a: decoded.append(1) or read_gray48(p, *a)
    )
    monkeypatch.setattr(
        fer2013, "csv_pixels", lambda rows, p: decoded.append(len(rows)) or csv_pixels(rows, p)
    )
    for name in (None, "train", "val", "test"):
        if name == "test" and "test" not in whole.splits:
            with pytest.raises(FacialEmotionError, match="choose one of train, val, all"):
                load_for_scoring(path, split=name)
            continue
        decoded.clear()
        data, split = load_for_scoring(path, split=name)
        scored, same = data.splits[split], whole.splits[split]
        assert split == (name or ("test" if "test" in whole.splits else "val"))
        assert sum(decoded) == len(same) and list(data.splits) == [split]
        assert (scored.x == same.x).all() and (scored.y == same.y).all()
        assert data.classes == whole.classes and data.source == whole.source
        others = {s: len(part) for s, part in whole.splits.items() if s not in (split, "all")}
        assert data.unread == others


def test_a_cards_wrong_labels_are_named_as_the_cards(tmp_path: Path) -> None:
    """evaluate reads no params file, yet a hand-edited card's labels were blamed on params.yaml."""
    data = class_tree(tmp_path / "faces", {"1": 4, "2": 4})
    card = {"source": {"name": "folder", "path": str(data), "labels": {"1": "angryish"}}}
    with pytest.raises(FacialEmotionError, match=r"^the model's card .*maps 1 to 'angryish'"):
        load_for_scoring(data, card=card)
