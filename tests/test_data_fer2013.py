"""FER2013 from its CSV and from Kaggle's folders: shapes, labels, splits, seeds and bad input."""

from __future__ import annotations

import importlib.util
import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from data_fixtures import (
    class_tree,
    code_of,
    labelled_rows,
    packed,
    pattern,
    pixel_csv,
    pixel_string,
    write_image,
)

from facial_emotion.data import fer2013
from facial_emotion.data.sources import load_for_scoring
from facial_emotion.errors import FacialEmotionError
from facial_emotion.labels import EMOTIONS

KAGGLE_FOLDERS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]  # ls order


def load(path: Path, seed: int = 0, val_fraction: float = 0.2, test_fraction: float = 0.1):
    return fer2013.load(path, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction)


def assert_labels_match_pixels(data, names: list[str]) -> None:
    """Every sample's label is the class its (flat) image was written for."""
    for split in data.splits.values():
        assert split.x.dtype == np.uint8 and split.x.shape[1:] == (48, 48)
        assert split.y.dtype == np.int64
        written = [names[code_of(image)] for image in split.x]
        assert [data.classes[i] for i in split.y] == written


def test_csv_usage_gives_the_splits_and_labels_follow_fer_order(tmp_path: Path) -> None:
    usage = {"Training": 3, "PublicTest": 2, "PrivateTest": 1}
    csv = pixel_csv(tmp_path / "fer2013.csv", labelled_rows(usage, n_labels=7))

    data = load(csv)

    assert data.classes == EMOTIONS
    assert {name: len(split) for name, split in data.splits.items()} == {
        "train": 21,
        "val": 14,
        "test": 7,
    }
    assert_labels_match_pixels(data, list(EMOTIONS))
    assert data.source["name"] == "fer2013" and data.source["path"] == str(csv)
    assert "Usage" in data.source["splits"]


def test_csv_pixels_are_read_row_major(tmp_path: Path) -> None:
    image = pattern(seed=3)
    rows = [(3, pixel_string(image), "Training"), (0, pixel_string(image.T), "PublicTest")]
    data = load(pixel_csv(tmp_path / "fer2013.csv", rows))

    np.testing.assert_array_equal(data.splits["train"].x[0], image)
    np.testing.assert_array_equal(data.splits["val"].x[0], image.T)
    assert data.classes == ("angry", "happy")  # only the labels that occur, in FER order


def test_a_folder_holding_fer2013_csv_loads_the_csv(tmp_path: Path) -> None:
    pixel_csv(tmp_path / "fer2013.csv", labelled_rows({"Training": 1, "PublicTest": 1}, n_labels=7))

    assert load(tmp_path).source["format"] == "csv"


@pytest.mark.parametrize("packing", [".csv.gz", ".csv.bz2", ".csv.xz", ".zip", ".tar.gz"])
def test_a_compressed_csv_is_read_as_the_csv(tmp_path: Path, packing: str) -> None:
    rows = labelled_rows({"Training": 2, "PublicTest": 1}, n_labels=7)
    data = load(packed(pixel_csv(tmp_path / "fer2013.csv", rows), packing))

    assert data.counts()["val"] == {name: 1 for name in EMOTIONS}
    assert_labels_match_pixels(data, list(EMOTIONS))


@pytest.mark.parametrize("packing", [".csv.gz", ".csv.bz2", ".csv.xz", ".tar.gz"])
def test_a_compressed_csv_cut_short_says_to_download_it_again(tmp_path: Path, packing: str) -> None:
    rows = labelled_rows({"Training": 20}, n_labels=7)
    archive = packed(pixel_csv(tmp_path / "fer2013.csv", rows), packing)
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])  # a broken download

    message = error_of(archive)

    assert message.startswith(f"{archive}: cut short or damaged (")
    assert message.endswith("); download it again")


def test_csv_header_with_spaces_as_in_icml_face_data(tmp_path: Path) -> None:
    csv = tmp_path / "fer2013.csv"
    csv.write_text(
        f'emotion, Usage, pixels\n4, Training,"{pixel_string(pattern(1))}"\n'
        f'2, PublicTest,"{pixel_string(pattern(2))}"\n'
    )

    data = load(csv)

    assert data.classes == ("fear", "sad")
    np.testing.assert_array_equal(data.splits["train"].x[0], pattern(1))


def test_csv_without_publictest_carves_a_stratified_val_from_training(tmp_path: Path) -> None:
    csv = pixel_csv(tmp_path / "fer2013.csv", labelled_rows({"Training": 10}, n_labels=7))

    data = load(csv, val_fraction=0.2)

    assert set(data.splits) == {"train", "val"}  # no PrivateTest rows: no test split
    assert data.counts()["val"] == {name: 2 for name in EMOTIONS}
    assert data.counts()["train"] == {name: 8 for name in EMOTIONS}
    assert_labels_match_pixels(data, list(EMOTIONS))


def test_val_carved_from_training_rows_after_privatetest_ones_takes_no_test_face(
    tmp_path: Path,
) -> None:
    """The carved val (and the train left) are Training rows however the file orders them: with
    PrivateTest rows first, val taken by row number instead would hold test faces."""
    rows = [(i % 2, pixel_string(pattern(i)), "PrivateTest") for i in range(10)]
    rows += [(i % 2, pixel_string(pattern(i)), "Training") for i in range(10, 30)]
    csv = pixel_csv(tmp_path / "fer2013.csv", rows)

    data = load(csv, val_fraction=0.2)

    def images(*splits: str) -> set[bytes]:
        return {face.tobytes() for s in splits for face in data.splits[s].x}

    assert images("test") == {pattern(i).tobytes() for i in range(10)}
    assert images("train", "val") == {pattern(i).tobytes() for i in range(10, 30)}
    assert {name: len(split) for name, split in data.splits.items()} == {
        "train": 16,
        "val": 4,
        "test": 10,
    }


@pytest.mark.parametrize("names", [("train", "test"), ("TRAIN", "Test")], ids=["lower", "any case"])
def test_kaggle_folders_train_and_test_carve_val_from_train(
    tmp_path: Path, names: tuple[str, str]
) -> None:
    train, test = names  # in capitals too: they were taken for emotion classes
    class_tree(tmp_path / train, {name: 10 for name in KAGGLE_FOLDERS}, ext=".jpg")
    class_tree(tmp_path / test, {name: 3 for name in KAGGLE_FOLDERS}, ext=".jpg")

    data = load(tmp_path, val_fraction=0.2)

    assert data.classes == EMOTIONS
    assert {name: len(split) for name, split in data.splits.items()} == {
        "train": 56,
        "val": 14,
        "test": 21,
    }
    assert data.counts()["val"] == {name: 2 for name in EMOTIONS}
    assert_labels_match_pixels(data, KAGGLE_FOLDERS)
    assert data.source["format"] == "folders"


@pytest.mark.parametrize("val_folder", ["val", "validation"])
def test_kaggle_val_folder_is_the_val_split_and_no_test_folder_means_no_test(
    tmp_path: Path, val_folder: str
) -> None:
    class_tree(tmp_path / "train", {name: 4 for name in KAGGLE_FOLDERS}, ext=".jpg")
    class_tree(tmp_path / val_folder, {name: 2 for name in KAGGLE_FOLDERS}, ext=".jpg")

    data = load(tmp_path, val_fraction=0.5, test_fraction=0.3)

    assert {name: len(split) for name, split in data.splits.items()} == {"train": 28, "val": 14}
    assert_labels_match_pixels(data, KAGGLE_FOLDERS)


def test_kaggle_class_folders_named_0_to_6_take_fer2013s_codes(tmp_path: Path) -> None:
    codes = [str(i) for i in range(7)]
    class_tree(tmp_path / "train", {code: 4 for code in codes}, ext=".jpg")
    class_tree(tmp_path / "test", {code: 1 for code in codes}, ext=".jpg")

    data = load(tmp_path, val_fraction=0.25)

    assert data.classes == EMOTIONS
    assert data.counts()["test"] == {name: 1 for name in EMOTIONS}
    assert_labels_match_pixels(data, list(EMOTIONS))  # folder 0 is angry ... 6 is neutral


def test_class_folders_named_by_number_and_by_name_keep_their_names(tmp_path: Path) -> None:
    class_tree(tmp_path / "train", {"3": 4, "happy": 4, "7": 4}, ext=".jpg")

    assert load(tmp_path).classes == ("happy", "3", "7")


def test_same_seed_same_split_other_seed_other_split(tmp_path: Path) -> None:
    rows = [(k % 7, pixel_string(pattern(k)), "Training") for k in range(70)]
    csv = pixel_csv(tmp_path / "fer2013.csv", rows)

    first, again, other = load(csv, seed=1), load(csv, seed=1), load(csv, seed=2)

    np.testing.assert_array_equal(first.splits["val"].x, again.splits["val"].x)
    np.testing.assert_array_equal(first.splits["train"].y, again.splits["train"].y)
    assert not np.array_equal(first.splits["val"].x, other.splits["val"].x)


def error_of(path: Path) -> str:
    with pytest.raises(FacialEmotionError) as caught:
        load(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_missing_path_is_named(tmp_path: Path) -> None:
    assert str(tmp_path / "nowhere") in error_of(tmp_path / "nowhere")


def test_folder_with_neither_csv_nor_train_says_what_to_point_at(tmp_path: Path) -> None:
    class_tree(tmp_path, {"happy": 1})

    message = error_of(tmp_path)

    assert str(tmp_path) in message and "fer2013.csv" in message and "train/" in message


def test_a_tar_of_several_files_says_to_unpack_it_in_a_short_line(tmp_path: Path) -> None:
    archive = tmp_path / "fer2013.tar.gz"  # as Kaggle ships it: with a README and a .bib
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("fer2013.csv", "README", "fer2013.bib"):
            info = tarfile.TarInfo(f"fer2013/{name}")
            tar.addfile(info, io.BytesIO(b""))

    message = error_of(archive)

    assert message.startswith(f"{archive}: not a readable CSV (Multiple files found in TAR")
    assert message.endswith(
        "...); unpack it (tar -xf) and point data.path (or --data) at the CSV inside"
    )


def test_kaggles_zip_of_image_folders_says_to_unzip_it_and_point_at_the_folder(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "archive.zip"  # Kaggle's FER2013 download: train/ and test/ of JPEGs
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("train/happy/0.jpg", "train/sad/0.jpg", "test/happy/0.jpg"):
            zf.writestr(name, b"\xff\xd8")
    fix = "unzip it and point data.path (or --data) at the folder it makes"

    assert error_of(archive).endswith(f"); {fix}")  # read as FER2013's CSV
    with pytest.raises(FacialEmotionError) as guessed:
        load_for_scoring(archive)  # the layout guess takes it for a folder
    assert str(guessed.value) == f"{archive}: an archive, not a folder; {fix}"


def test_a_zstd_csv_without_zstandard_says_to_unpack_it(tmp_path: Path) -> None:
    if importlib.util.find_spec("zstandard"):
        pytest.skip("zstandard is installed, so pandas reads .zst")
    archive = tmp_path / "fer2013.csv.zst"
    archive.write_bytes(b"\x28\xb5\x2f\xfd")  # zstd's magic number

    message = error_of(archive)

    assert message.startswith(f"{archive}: not a readable CSV (")
    assert message.endswith("unpack it and point data.path (or --data) at the CSV inside")


def test_csv_without_needed_columns_names_file_and_columns(tmp_path: Path) -> None:
    csv = tmp_path / "fer2013.csv"
    csv.write_text("label,image\n0,1 2 3\n")

    message = error_of(csv)

    assert str(csv) in message and "emotion" in message and "pixels" in message


def test_csv_without_header_line_says_so_in_a_short_line(tmp_path: Path) -> None:
    pixels = pixel_string(pattern(0))
    csv = tmp_path / "fer2013.csv"
    csv.write_text(f'0,"{pixels}",Training\n3,"{pixels}",PublicTest\n')

    assert error_of(csv) == (
        f"{csv}: CSV lacks column(s) emotion, pixels (has 0, {pixels[:16]}..., Training); "
        "its first line must be the header emotion,pixels,Usage, as in the original fer2013.csv"
    )


def test_csv_of_one_column_per_pixel_lists_a_few_of_its_columns(tmp_path: Path) -> None:
    csv = tmp_path / "fer2013.csv"
    csv.write_text(
        ",".join(["emotion"] + [f"pixel{i}" for i in range(2304)]) + "\n" + "0," * 2304 + "0\n"
    )

    message = error_of(csv)

    assert "(has emotion, pixel0, pixel1, ... (2305 in all))" in message and len(message) < 250


@pytest.mark.parametrize(
    ("pixels", "problem"),
    [
        ("7 " * 2303 + "7 7", "2305 pixel values"),
        ("7 " * 50_000, "50000 pixel values"),  # counted without splitting the row whole
        ("7 " * 2303, "2303 pixel values"),
        ("7 " * 2303 + "x", "not integers 0..255"),
        ("7 " * 2303 + "256", "not integers 0..255"),
    ],
)
def test_bad_pixel_row_names_file_and_line(tmp_path: Path, pixels: str, problem: str) -> None:
    good = pixel_string(pattern(0))
    rows = [(0, good, "Training"), (1, good, "Training"), (2, pixels.strip(), "PublicTest")]
    csv = pixel_csv(tmp_path / "fer2013.csv", rows)

    message = error_of(csv)

    assert str(csv) in message and "line 4" in message and problem in message


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            '2,"1 2 3",PublicTest',
            "has 3 pixel values, expected 2304 (48x48); fix or remove that row",
        ),
        (
            "x,{good},PublicTest",
            "has emotion 'x', expected an integer 0..6; fix or remove that row",
        ),
        (
            "2,{good},Holdout",
            "has Usage 'Holdout', expected one of Training, PublicTest, PrivateTest; "
            "fix the value or remove that row",
        ),
    ],
    ids=["pixels", "emotion", "usage"],
)
def test_blank_lines_do_not_shift_the_line_named(tmp_path: Path, row: str, problem: str) -> None:
    good = f'"{pixel_string(pattern(0))}"'
    csv = tmp_path / "fer2013.csv"
    lines = ["emotion,pixels,Usage", f"0,{good},Training", "", f"1,{good},Training", "", " "]
    csv.write_text("\n".join([*lines, row.format(good=good), "", ""]))  # the bad row: line 7

    assert error_of(csv) == f"{csv}: line 7 {problem}"


def test_blank_lines_are_skipped_and_a_blank_first_line_is_named(tmp_path: Path) -> None:
    rows = labelled_rows({"Training": 2, "PublicTest": 1}, n_labels=7)
    csv = pixel_csv(tmp_path / "fer2013.csv", rows)
    header, *lines = csv.read_text().splitlines()
    csv.write_text("\n".join([header, "", *lines[:5], "", *lines[5:], "", ""]))

    assert sum(len(split) for split in load(csv).splits.values()) == 21
    csv.write_text("\n" + csv.read_text())
    assert error_of(csv) == (
        f"{csv}: no header on the first line; it must be the header emotion,pixels,Usage, "
        "as in the original fer2013.csv"
    )


def test_emotion_outside_fer_labels_names_the_line(tmp_path: Path) -> None:
    csv = pixel_csv(
        tmp_path / "fer2013.csv",
        [(0, pixel_string(pattern(0)), "Training"), (7, pixel_string(pattern(1)), "Training")],
    )

    message = error_of(csv)

    assert str(csv) in message and "line 3" in message and "0..6" in message
    assert "a CK+ CSV, with 8 labels, needs data.source=ckplus" in message  # 7 is CK+'s contempt


@pytest.mark.parametrize("usage", [True, False])
def test_a_csv_with_a_header_and_no_rows_is_named(tmp_path: Path, usage: bool) -> None:
    csv = tmp_path / "fer2013.csv"
    csv.write_text("emotion,pixels,Usage\n" if usage else "emotion,pixels\n")

    assert error_of(csv) == f"{csv}: a header and no rows; use the data set's original CSV file"


def test_a_zip_of_several_files_says_to_unzip_it(tmp_path: Path) -> None:
    archive = tmp_path / "archive.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("fer2013.csv", "emotion,pixels,Usage\n")
        zf.writestr("README.txt", "FER2013\n")

    message = error_of(archive)

    assert message.startswith(f"{archive}: not a readable CSV (")
    assert message.endswith("unzip it and point data.path (or --data) at the CSV inside")


def test_unknown_usage_names_the_line(tmp_path: Path) -> None:
    csv = pixel_csv(
        tmp_path / "fer2013.csv",
        [(0, pixel_string(pattern(0)), "Training"), (1, pixel_string(pattern(1)), "Holdout")],
    )

    message = error_of(csv)

    assert str(csv) in message and "line 3" in message and "Holdout" in message


@pytest.mark.parametrize("content", [b"", b"not a jpeg at all"], ids=["zero-byte", "corrupt"])
def test_bad_image_in_kaggle_folders_names_the_file(tmp_path: Path, content: bytes) -> None:
    class_tree(tmp_path / "train", {"happy": 3, "sad": 3}, ext=".jpg")
    bad = tmp_path / "train" / "sad" / "broken.jpg"
    bad.write_bytes(content)

    message = error_of(tmp_path)

    assert str(bad) in message and "remove or replace the file" in message


def test_empty_class_folder_is_named(tmp_path: Path) -> None:
    class_tree(tmp_path / "train", {"happy": 3, "sad": 3}, ext=".jpg")
    (tmp_path / "train" / "fear").mkdir()

    message = error_of(tmp_path)

    assert str(tmp_path / "train" / "fear") in message and "no images" in message


def test_train_folder_without_class_folders_is_named(tmp_path: Path) -> None:
    write_image(tmp_path / "train" / "loose.jpg", pattern(0))

    message = error_of(tmp_path)

    assert str(tmp_path / "train") in message and "no class folders" in message


def test_a_comma_ending_every_row_is_read_as_an_empty_last_column(tmp_path: Path) -> None:
    """Spreadsheet exports end rows with a comma: pandas made the labels an index, and the error
    quoted 2,304 pixels as the 'emotion'."""
    csv = pixel_csv(tmp_path / "fer2013.csv", labelled_rows({"Training": 3, "PublicTest": 1}, 7))
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join([lines[0], *(line + "," for line in lines[1:])]) + "\n")
    data = load(csv)
    assert len(data.splits["train"]) + len(data.splits["val"]) == 28
    assert_labels_match_pixels(data, list(EMOTIONS))


def test_a_long_bad_emotion_value_is_cut_short_in_the_message(tmp_path: Path) -> None:
    csv = tmp_path / "fer2013.csv"
    csv.write_text(f"emotion,pixels\n{pixel_string(pattern(0))},{pixel_string(pattern(1))}\n")
    message = error_of(csv)
    assert "line 2 has emotion '" in message and len(message) < 300


def test_the_fer_plus_label_file_is_named_as_such(tmp_path: Path) -> None:
    """It was called a CSV lacking columns, as if fer2013.csv were malformed."""
    csv = tmp_path / "fer2013new.csv"
    csv.write_text(
        "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,"
        "unknown,NF\nTraining,fer0000000.png,4,0,0,1,3,2,0,0,0,0\n"
    )
    assert error_of(csv) == (
        f"{csv}: a FER+ label file (annotators' votes per emotion, no pixels), which is not read; "
        "point data.path at the original fer2013.csv it relabels"
    )


@pytest.mark.parametrize("name", ["FER2013.csv", "fer2013.csv.gz"])
def test_the_csv_is_found_in_its_folder_in_any_case_or_compressed(tmp_path: Path, name) -> None:
    csv = pixel_csv(
        tmp_path / "src" / "fer2013.csv", labelled_rows({"Training": 3, "PublicTest": 1}, 7)
    )
    folder = tmp_path / "data"
    folder.mkdir()
    if name.endswith(".gz"):
        packed(csv, ".csv.gz").rename(folder / name)
    else:
        csv.rename(folder / name)
    data = load(folder)
    assert data.source["path"] == str(folder / name) and len(data.splits["val"]) == 7


def test_header_and_usage_are_read_in_any_case(tmp_path: Path) -> None:
    """A spreadsheet's `Emotion,Pixels,Usage` header and `training` values were refused."""
    csv = pixel_csv(tmp_path / "fer2013.csv", labelled_rows({"training": 3, "PUBLICTEST": 1}, 7))
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join(["Emotion,PIXELS,usage", *lines[1:]]) + "\n")
    data = load(csv)
    assert {split: len(s) for split, s in data.splits.items()} == {"train": 21, "val": 7}
    assert_labels_match_pixels(data, list(EMOTIONS))


def test_a_packed_csv_that_links_outside_its_archive_is_one_line(tmp_path: Path) -> None:
    """A tar whose fer2013.csv is a link ended prepare in a KeyError traceback."""
    import tarfile

    packed_csv = tmp_path / "fer2013.tar.gz"
    with tarfile.open(packed_csv, "w:gz") as archive:
        link = tarfile.TarInfo("fer2013.csv")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    message = error_of(packed_csv)
    assert message.startswith(f"{packed_csv}: not a readable CSV (") and "\n" not in message
