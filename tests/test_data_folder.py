"""Any ``<root>/<label>/*`` tree: conversion to 48x48 gray, label spellings, splits, bad input."""

from __future__ import annotations

import io
import re
import shutil
import struct
import warnings
import zlib
from pathlib import Path

import cv2
import matplotlib.cbook
import numpy as np
import pytest
from data_fixtures import class_tree, code_of, flat, pattern, scan_bomb, write_image
from PIL import Image

from facial_emotion.data import folder, images
from facial_emotion.data.images import read_gray48
from facial_emotion.data.sources import load_for_scoring, load_source
from facial_emotion.errors import FacialEmotionError
from facial_emotion.faces import locate_faces, make_detector, to_gray
from facial_emotion.pictures import file_pixels
from facial_emotion.predict import as_pixels, load_image

CARVING = {"seed": 0, "val_fraction": 0.2, "test_fraction": 0.2}


def load(root: Path, seed: int = 0, val_fraction: float = 0.2, test_fraction: float = 0.2):
    return folder.load(root, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction)


def mixed_tree(root: Path) -> Path:
    """Three spellings and one unknown label; colour, odd sizes and several formats."""
    for k in range(10):
        write_image(root / "anger" / f"a{k}.png", flat(0, (60, 80)))
        write_image(root / "Happiness" / f"h{k}.jpg", flat(1, (100, 100, 3)))
        write_image(root / "sadness" / f"s{k}.bmp", flat(2, (30, 30)))
        write_image(root / "smirk" / f"m{k}.webp", flat(3, (48, 64, 3)))
    (root / "anger" / "notes.txt").write_text("not an image")
    (root / "anger" / "._a0.png").write_bytes(b"macOS resource fork")
    (root / ".thumbnails").mkdir()
    return root


def test_any_tree_becomes_48x48_gray_with_canonical_labels(tmp_path: Path) -> None:
    data = load(mixed_tree(tmp_path))

    assert data.classes == ("angry", "happy", "sad", "smirk")  # canonical first, unknown kept
    written = {0: "angry", 1: "happy", 2: "sad", 3: "smirk"}
    for split in data.splits.values():
        assert split.x.dtype == np.uint8 and split.x.shape[1:] == (48, 48)
        assert [data.classes[i] for i in split.y] == [written[code_of(x)] for x in split.x]
    assert sum(len(s) for s in data.splits.values()) == 40  # .txt and hidden files skipped
    assert data.source == {
        "name": "folder",
        "path": str(tmp_path),
        "format": "folders",
        "splits": "seeded stratified split (seed 0, val 0.2, test 0.2)",
        "skipped_files": 1,  # for prepare's warning
        "skipped_example": "anger/notes.txt",
        "unsquare_files": 20,  # 80x60 and 64x48: squeezed, and prepare warns
        "unsquare_of": 40,
        "unsquare_example": "anger/a0.png",
    }


def test_a_name_written_decomposed_is_the_same_class(tmp_path: Path) -> None:
    """Some macOS tools write ``ü`` as ``u`` and a combining mark; it is the same class."""
    for k in range(5):
        write_image(tmp_path / "\u00fcberrascht" / f"a{k}.png", flat(0, (48, 48)))
        write_image(tmp_path / "u\u0308berrascht" / f"b{k}.png", flat(1, (48, 48)))
        write_image(tmp_path / "happy" / f"h{k}.png", flat(2, (48, 48)))
    data = load(tmp_path)
    assert data.classes == ("happy", "\u00fcberrascht")
    assert sum(len(split) for split in data.splits.values()) == 15


def test_flat_tree_is_split_stratified_by_the_fractions(tmp_path: Path) -> None:
    data = load(mixed_tree(tmp_path), val_fraction=0.2, test_fraction=0.1)

    counts = data.counts()
    assert all(n == 2 for n in counts["val"].values())
    assert sum(counts["test"].values()) == 4 and all(n == 1 for n in counts["test"].values())
    assert all(n == 7 for n in counts["train"].values())


def test_colour_is_converted_to_luminance_and_big_images_are_shrunk(tmp_path: Path) -> None:
    bgr = np.zeros((96, 96, 3), np.uint8)
    bgr[:, :48] = (200, 40, 90)  # left half coloured, right half black
    image = read_gray48(write_image(tmp_path / "colour.png", bgr))

    expected = round(0.114 * 200 + 0.587 * 40 + 0.299 * 90)
    assert image.shape == (48, 48) and image.dtype == np.uint8
    assert abs(int(image[10, 5]) - expected) <= 1 and image[10, 40] == 0
    assert image[:, 23].mean() == pytest.approx(expected, abs=1)  # no bleed across the edge


@pytest.mark.parametrize(
    "names",
    [
        ("train", "validation", "test"),
        ("Train", "VAL", "Test"),
        ("train", "valid", "test"),  # Roboflow's export: valid/ was left out without a word
        ("Training", "PublicTest", "PrivateTest"),  # FER2013's Usage names: read as 3 classes
        ("training", "dev", "testing"),
    ],
    ids=["lower", "any case", "roboflow", "fer2013 usage", "other spellings"],
)
def test_split_folders_are_used_as_the_splits(tmp_path: Path, names: tuple[str, ...]) -> None:
    # In capitals too: they were taken for emotion classes
    train, val, test = names
    class_tree(tmp_path / train, {"anger": 5, "happy": 5})
    class_tree(tmp_path / val, {"anger": 2, "happy": 1})
    class_tree(tmp_path / test, {"anger": 1, "happy": 3})

    data = load(tmp_path)

    assert data.counts() == {
        "train": {"angry": 5, "happy": 5},
        "val": {"angry": 2, "happy": 1},
        "test": {"angry": 1, "happy": 3},
    }
    assert data.source["splits"] == f"folders {train}/ → train, {val}/ → val, {test}/ → test"


def test_same_seed_same_split_other_seed_other_split(tmp_path: Path) -> None:
    for k in range(30):
        write_image(tmp_path / "happy" / f"{k}.png", np.full((48, 48), k, np.uint8))
        write_image(tmp_path / "sad" / f"{k}.png", np.full((48, 48), 100 + k, np.uint8))

    first, again, other = load(tmp_path, seed=5), load(tmp_path, seed=5), load(tmp_path, seed=6)

    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(first.splits[split].x, again.splits[split].x)
    assert not np.array_equal(first.splits["val"].x, other.splits["val"].x)


def test_stratified_split_uses_every_sample_once_and_keeps_class_shares() -> None:
    y = np.repeat(np.arange(3), [50, 30, 20])

    parts = folder.stratified_split(y, seed=0, val_fraction=0.1, test_fraction=0.2)

    together = np.concatenate(list(parts.values()))
    assert sorted(together.tolist()) == list(range(100))
    assert np.bincount(y[parts["val"]]).tolist() == [5, 3, 2]
    assert np.bincount(y[parts["test"]]).tolist() == [10, 6, 4]
    assert "test" not in folder.stratified_split(y, seed=0, val_fraction=0.1, test_fraction=0.0)


def test_rounding_shares_out_val_among_small_classes() -> None:
    y = np.repeat(np.arange(4), 3)  # 12 samples, val 0.25 -> 3, not 4 x round(0.75)=4

    parts = folder.stratified_split(y, seed=0, val_fraction=0.25, test_fraction=0.0)

    assert len(parts["val"]) == 3 and len(set(y[parts["val"]])) == 3


def error_of(root: Path) -> str:
    with pytest.raises(FacialEmotionError) as caught:
        load(root)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_missing_root_is_named(tmp_path: Path) -> None:
    assert str(tmp_path / "absent") in error_of(tmp_path / "absent")


def test_root_that_is_a_file_is_named(tmp_path: Path) -> None:
    file = write_image(tmp_path / "face.png", flat(0))

    assert str(file) in error_of(file)


def test_no_class_folders_is_named(tmp_path: Path) -> None:
    write_image(tmp_path / "loose.png", flat(0))

    message = error_of(tmp_path)

    assert str(tmp_path) in message and "no class folders" in message


def test_empty_class_folder_is_named(tmp_path: Path) -> None:
    class_tree(tmp_path, {"happy": 5})
    (tmp_path / "sad").mkdir()
    (tmp_path / "sad" / "readme.txt").write_text("images go here")

    message = error_of(tmp_path)

    assert str(tmp_path / "sad") in message and "no images" in message


@pytest.mark.parametrize(
    ("files", "told"),
    [
        (["notes.md"], "class folder has no images; add images to it or remove the folder"),
        (["notes.md", "list.txt"], "holds list.txt, a label list, and no images"),
        (["list.txt", "label.csv"], "holds list.txt, a label list, and no images"),
        (["a.png", "label.csv"], "holds label.csv, a label list, beside its images"),
    ],
)
def test_a_class_folder_is_told_its_first_problem(tmp_path: Path, files, told) -> None:
    """The class folder is named with the fix for what is wrong first: a label list where no
    image is (RAF-DB's) says lists are not read, not merely that it has no images."""
    class_tree(tmp_path, {"happy": 5})
    for name in files:
        if name.endswith(".png"):
            write_image(tmp_path / "sad" / name, flat(0))
        else:
            (tmp_path / "sad").mkdir(exist_ok=True)
            (tmp_path / "sad" / name).write_text("sad")

    assert error_of(tmp_path).startswith(f"{tmp_path / 'sad'}: {told}")


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n truncated"], ids=["empty", "corrupt"])
def test_unreadable_image_is_named_with_the_fix(tmp_path: Path, content: bytes) -> None:
    class_tree(tmp_path, {"happy": 5, "sad": 5})
    bad = tmp_path / "sad" / "bad.png"
    bad.write_bytes(content)

    message = error_of(tmp_path)

    assert str(bad) in message and "remove or replace the file" in message


def test_both_val_and_validation_folders_is_ambiguous(tmp_path: Path) -> None:
    for split in ("train", "val", "validation"):
        class_tree(tmp_path / split, {"happy": 2})

    message = error_of(tmp_path)

    assert str(tmp_path) in message and "val/" in message and "validation/" in message


def test_a_split_left_empty_by_tiny_data_is_reported(tmp_path: Path) -> None:
    """The loader leaves a split empty (a set scored whole needs none); reading it to train on,
    as prepare does, stops on it."""
    class_tree(tmp_path, {"happy": 1, "sad": 1})
    with pytest.raises(FacialEmotionError) as caught:
        load_source("folder", str(tmp_path), **CARVING, synthetic_samples=0)

    message = str(caught.value)

    assert str(tmp_path) in message and "split has no samples" in message


def test_images_in_sub_folders_of_a_class_folder_count(tmp_path: Path) -> None:
    for k in range(5):
        sub = "" if k < 3 else "more"
        write_image(tmp_path / "angry" / sub / f"a{k}.jpg", flat(0))  # angry/ and angry/more/
        write_image(tmp_path / "happy" / "session1" / f"h{k}.jpg", flat(1))  # sub-folder only
    write_image(tmp_path / "happy" / ".thumbnails" / "t.jpg", flat(1))  # hidden: skipped

    data = load(tmp_path, val_fraction=0.2, test_fraction=0.0)

    assert data.classes == ("angry", "happy")
    assert data.counts() == {"train": {"angry": 4, "happy": 4}, "val": {"angry": 1, "happy": 1}}
    for split in data.splits.values():
        assert [data.classes[i] for i in split.y] == [data.classes[code_of(x)] for x in split.x]


def test_a_split_folder_spelt_in_two_cases_is_ambiguous(tmp_path: Path) -> None:
    for split in ("train", "Train"):
        class_tree(tmp_path / split, {"happy": 2})

    assert error_of(tmp_path) == (
        f"{tmp_path}: has both Train/ and train/; keep one of them as the train split"
    )


def test_a_truncated_jpeg_is_refused_not_read_with_flat_rows(tmp_path: Path) -> None:
    class_tree(tmp_path, {"happy": 5, "sad": 5})
    whole = write_image(tmp_path / "sad" / "cut.jpg", pattern(0)).read_bytes()
    (tmp_path / "sad" / "cut.jpg").write_bytes(whole[: len(whole) // 2])

    message = error_of(tmp_path)

    assert message.startswith(f"{tmp_path / 'sad' / 'cut.jpg'}: damaged or truncated image (")
    assert message.endswith("); remove or replace the file")


def test_every_bad_image_of_a_split_is_named_in_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading stopped at the first bad file: a 300,000-image folder with a few bad ones took a
    run of minutes per file to find them all; then the error named only one of the others."""
    monkeypatch.setattr(images, "NAMED_BAD_FILES", 3, raising=False)
    class_tree(tmp_path / "train", {"happy": 300, "sad": 300})
    for split in ("val", "test"):
        class_tree(tmp_path / split, {"happy": 2, "sad": 2})
    names = ("happy/a.jpg", "sad/b.jpg", "sad/c.png", "sad/d.png")
    for name in names:
        (tmp_path / "train" / name).write_bytes(b"not an image")

    message = error_of(tmp_path)

    first, *others = (tmp_path / "train" / name for name in names)
    assert message.startswith(f"{first}: not a readable image")
    assert message.endswith(
        f"; folder {tmp_path.name} train holds 3 more bad images: "
        f"{', '.join(map(str, others))}; fix them all before running again"
    )
    (tmp_path / "train" / "sad" / "e.png").write_bytes(b"not an image")
    assert error_of(tmp_path).endswith(
        f"holds 4 more bad images: {', '.join(map(str, others))} and 1 more; fix them all "
        "before running again"
    )


def test_the_bad_images_of_every_split_are_named_in_one_run(tmp_path: Path) -> None:
    """The first split with a bad file stopped the read: one in train/ and one in test/ took
    two runs, test/'s told only once train/'s was fixed."""
    for split in ("train", "val", "test"):
        class_tree(tmp_path / split, {"happy": 2, "sad": 2})
    for split in ("train", "test"):
        (tmp_path / split / "sad" / "x.jpg").write_bytes(b"not an image")

    message = error_of(tmp_path)

    train, test = (tmp_path / split / "sad" / "x.jpg" for split in ("train", "test"))
    assert message.startswith(f"{train}: not a readable image"), message
    assert f"remove or replace the file; and {test}: not a readable image" in message, message


def test_a_32_bit_float_tiff_is_refused_not_read_black(tmp_path: Path) -> None:
    class_tree(tmp_path, {"happy": 5, "sad": 5})
    tiff = tmp_path / "sad" / "float.tif"
    Image.fromarray(np.full((48, 48), 0.5, np.float32)).save(tiff)

    assert error_of(tmp_path) == (
        f"{tiff}: 32-bit float pixels have no fixed range to read faces in; "
        "save the image with 8- or 16-bit pixels"
    )


def test_8_bit_values_saved_in_16_bits_are_read_as_they_are_not_black(tmp_path: Path) -> None:
    """Their top byte, which 16-bit pixels are read by, is 0: predict found no face in them."""
    face = pattern(3)
    for path in (tmp_path / "deep.png", tmp_path / "deep.tif"):
        Image.fromarray(face.astype(np.uint16)).save(path)
        assert Image.open(path).mode.startswith("I;16")
        assert np.array_equal(read_gray48(path), face), path
        assert np.array_equal(load_image(path), face), path

    colour = np.dstack([face, face[::-1], 255 - face])  # Pillow reads these by their top bytes
    opaque = np.full(face.shape, 65535, np.uint16)  # an alpha of 16 bits, which is left out
    for name, channels in (("rgb.png", 3), ("rgba.png", 4), ("rgb.tif", 3)):
        bgra = np.dstack([colour[..., ::-1].astype(np.uint16), opaque])
        cv2.imwrite(str(tmp_path / name), bgra[..., :channels])
        assert np.array_equal(load_image(tmp_path / name), colour), name
        gray = cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY)
        assert np.array_equal(read_gray48(tmp_path / name), gray), name
    full = tmp_path / "full.png"  # 16-bit values over the whole range: their top bytes, as before
    cv2.imwrite(str(full), colour[..., ::-1].astype(np.uint16) * 257)
    assert np.array_equal(load_image(full), colour)
    # PPM and PGM: Pillow read 8-bit values of a 16-bit colour PPM as 0 and 1, and refused a
    # 16-bit PGM (opened as 32-bit) that prepare read
    cv2.imwrite(str(tmp_path / "deep.ppm"), colour[..., ::-1].astype(np.uint16))
    assert np.array_equal(load_image(tmp_path / "deep.ppm"), colour)
    cv2.imwrite(str(tmp_path / "deep.pgm"), face.astype(np.uint16) * 257)
    assert np.array_equal(load_image(tmp_path / "deep.pgm"), face)
    assert np.array_equal(read_gray48(tmp_path / "deep.pgm"), face)


def test_16_bit_colour_is_turned_upright_once_and_10_bit_ppm_keeps_its_range(tmp_path) -> None:
    """OpenCV turns a 16-bit colour PNG by its eXIf orientation, and Pillow's turn on top set a
    portrait photo upside down; OpenCV reads a 10-bit PPM's values unscaled, so it came out black
    (review AB)."""
    face = pattern(3)
    colour = np.dstack([face, face[::-1], 255 - face])
    exif = Image.Exif()
    exif[0x0112] = 6  # turn 90 degrees clockwise to view
    Image.fromarray(colour).save(tmp_path / "flat.png", exif=exif.tobytes())
    payload = exif.tobytes().removeprefix(b"Exif\x00\x00")
    chunk = struct.pack(">I", len(payload)) + b"eXIf" + payload
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + payload))
    for scale in (1, 257):  # 8-bit values in 16 bits, and the whole 16-bit range
        data = bytes(cv2.imencode(".png", colour[..., ::-1].astype(np.uint16) * scale)[1])
        (tmp_path / "deep.png").write_bytes(data[:33] + chunk + data[33:])  # after IHDR
        assert np.array_equal(load_image(tmp_path / "deep.png"), load_image(tmp_path / "flat.png"))
    ten_bit = np.round(colour * (1023 / 255)).astype(">u2")
    (tmp_path / "ten.ppm").write_bytes(b"P6 48 48 1023\n" + ten_bit.tobytes())
    assert np.array_equal(load_image(tmp_path / "ten.ppm"), colour)
    # before Pillow 11 (pyproject takes 9.4) a tile was a plain tuple: .args raised AttributeError
    with Image.open(tmp_path / "flat.png") as img:
        img.tile = [tuple(tile) for tile in img.tile]
        assert np.array_equal(file_pixels(img, lambda: b"", "flat.png"), np.rot90(colour, -1))


def test_transparent_pixels_read_white_whatever_lies_under_them_in_predict_and_prepare(
    tmp_path: Path,
) -> None:
    """The colour a file keeps under full transparency is its writer's leftover, never seen:
    predict and prepare read it as the face's surroundings (black, or noise), so the same cut-out
    face read neutral over white and happy over black. Both now lay it over white."""
    face = np.clip(pattern(3), 1, 255)  # 0 is the palette's transparent index below
    alpha = np.zeros(face.shape, np.uint8)
    alpha[8:40, 8:40] = 255
    seen = np.where(alpha == 255, face, 255).astype(np.uint8)
    noise = pattern(4)
    rgb = np.dstack([face] * 3)
    Image.fromarray(np.dstack([np.where(alpha[..., None], rgb, 0), alpha])).save(
        tmp_path / "black.png"
    )
    Image.fromarray(np.dstack([np.where(alpha[..., None], rgb, noise[..., None]), alpha])).save(
        tmp_path / "noise.png"
    )
    Image.fromarray(np.dstack([np.where(alpha, face, 0), alpha]), "LA").save(tmp_path / "la.png")
    palette = Image.fromarray(np.where(alpha == 255, face, 0).astype(np.uint8), "P")
    palette.putpalette([v for g in range(256) for v in (g, g, g)])
    for name in ("palette.png", "palette.gif"):
        palette.save(tmp_path / name, transparency=0)
    for name in ("black.png", "noise.png", "la.png", "palette.png", "palette.gif"):
        path = tmp_path / name
        assert np.array_equal(to_gray(load_image(path)), seen), name
        with Image.open(path) as img:  # the Python API's PIL images too
            assert np.array_equal(to_gray(as_pixels(img)), seen), name
        assert np.array_equal(read_gray48(path), seen), name


def test_a_bmp_is_asked_of_pillow_only_where_it_may_hold_alpha(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pillow's reader of a BMP's header took 200 us a file where OpenCV decodes a 48x48 BMP in
    6: a folder of 8-bit BMP faces read 5 times slower once transparency was looked for. Only a
    BMP of 32 bits a pixel may hold alpha, and it is still read over white. (Files from 4 KB are
    asked of Pillow for their size anyway: the 24-bit one is 36x36.)"""
    face = np.clip(pattern(3), 1, 255)
    alpha = np.zeros(face.shape, np.uint8)
    alpha[8:40, 8:40] = 255
    bgra = np.dstack([np.where(alpha[..., None], np.dstack([face] * 3), 0), alpha])
    (tmp_path / "alpha.bmp").write_bytes(bmp_with_alpha(bgra))
    assert np.array_equal(read_gray48(tmp_path / "alpha.bmp"), np.where(alpha, face, 255))
    for mode in ("L", "P"):
        Image.fromarray(face).convert(mode).save(tmp_path / f"{mode}.bmp")
    Image.fromarray(face[:36, :36]).convert("RGB").save(tmp_path / "RGB.bmp")
    read = {mode: read_gray48(tmp_path / f"{mode}.bmp") for mode in ("L", "P", "RGB")}
    assert np.array_equal(read["L"], face) and np.array_equal(read["P"], face)
    with monkeypatch.context() as patched:
        patched.setattr(images.Image, "open", lambda *a, **k: pytest.fail("Pillow asked"))
        for mode in ("L", "P", "RGB"):
            assert np.array_equal(read_gray48(tmp_path / f"{mode}.bmp"), read[mode]), mode


def bmp_with_alpha(bgra: np.ndarray) -> bytes:
    """A 32-bit BMP whose header (BITMAPV4) names an alpha mask: Pillow writes RGBA as 32 bits
    with no mask, which it reads back as RGB."""
    h, w = bgra.shape[:2]
    masks = struct.pack("<4I", 0xFF0000, 0xFF00, 0xFF, 0xFF000000)
    info = struct.pack("<IiiHHIIiiII", 108, w, -h, 1, 32, 3, bgra.size, 2835, 2835, 0, 0)
    info += masks + b"sRGB"[::-1] + bytes(48)
    return (
        b"BM"
        + struct.pack("<IHHI", 14 + len(info) + bgra.size, 0, 0, 14 + len(info))
        + (info + bgra.astype(np.uint8).tobytes())
    )


def test_16_bit_transparent_pixels_read_white_upright_in_predict_and_prepare(
    tmp_path: Path,
) -> None:
    """OpenCV's colour decoding, which reads 16-bit colour, dropped alpha: a 16-bit RGBA PNG was
    read with the colour under its transparent pixels (black, or noise) where an 8-bit one was
    laid over white. Alpha comes from OpenCV's unchanged decoding, which does not turn the picture
    by its eXIf orientation: Pillow's tag does."""
    face = pattern(3)
    alpha = np.zeros(face.shape, np.uint8)
    alpha[8:40, 4:30] = 255  # off centre, so a wrong turn shows
    seen = np.where(alpha == 255, face, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # turn 90 degrees clockwise to view
    payload = exif.tobytes().removeprefix(b"Exif\x00\x00")
    chunk = struct.pack(">I", len(payload)) + b"eXIf" + payload
    chunk += struct.pack(">I", zlib.crc32(b"eXIf" + payload))
    for scale in (1, 257):  # 8-bit values in 16 bits, and the whole 16-bit range
        for hidden in (np.zeros_like(face), pattern(4)):
            colour = np.where(alpha == 255, face, hidden).astype(np.uint16) * scale
            bgra = np.dstack([colour] * 3 + [alpha.astype(np.uint16) * scale])
            data = bytes(cv2.imencode(".png", bgra)[1])
            (path := tmp_path / "deep.png").write_bytes(data)
            assert np.array_equal(to_gray(load_image(path)), seen), scale
            assert np.array_equal(read_gray48(path), seen), scale
            path.write_bytes(data[:33] + chunk + data[33:])  # after IHDR
            assert np.array_equal(to_gray(load_image(path)), np.rot90(seen, -1)), scale
            assert np.array_equal(read_gray48(path), np.rot90(seen, -1)), scale
    half = np.dstack([np.full((48, 48, 3), 0, np.uint16), np.full((48, 48), 32768, np.uint16)])
    cv2.imwrite(str(tmp_path / "half.png"), half)  # black at half opacity over white: gray
    assert np.array_equal(load_image(tmp_path / "half.png"), np.full((48, 48, 3), 127, np.uint8))


def test_16_bit_transparent_png_turns_by_each_orientation_as_its_8_bit_twin(tmp_path) -> None:
    """A 16-bit RGBA PNG is decoded by OpenCV and turned by its eXIf tag separately from 8-bit
    pictures: for each of the eight orientations it reads as the same picture saved in 8 bits.
    Not square, so a turn that swaps the wrong axes shows."""
    colour = np.dstack([pattern(3)[:30], pattern(4)[:30], pattern(5)[:30]])
    alpha = np.zeros(colour.shape[:2], np.uint8)
    alpha[5:25, 3:30] = 255
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.fromarray(np.dstack([colour, alpha])).save(tmp_path / "flat.png", exif=exif.tobytes())
        payload = exif.tobytes().removeprefix(b"Exif\x00\x00")
        chunk = struct.pack(">I", len(payload)) + b"eXIf" + payload
        chunk += struct.pack(">I", zlib.crc32(b"eXIf" + payload))
        bgra = np.dstack([colour[..., ::-1], alpha]).astype(np.uint16) * 257
        data = bytes(cv2.imencode(".png", bgra)[1])
        (tmp_path / "deep.png").write_bytes(data[:33] + chunk + data[33:])  # after IHDR
        flat_read = load_image(tmp_path / "flat.png")
        assert flat_read.shape[:2] == ((48, 30) if orientation > 4 else (30, 48)), orientation
        assert np.array_equal(load_image(tmp_path / "deep.png"), flat_read), orientation


def test_a_colour_png_is_turned_gray_by_prepare_as_predict_turns_it(tmp_path: Path) -> None:
    """OpenCV's gray decoding of a colour PNG asks libpng, which truncates: 86% of a face's pixels
    read a level darker than predict read them, which moved its face box 2 px."""
    face = pattern(3)
    colour = np.dstack([face, face[::-1], 255 - face])
    Image.fromarray(colour).save(tmp_path / "colour.png")
    served = to_gray(load_image(tmp_path / "colour.png"))
    assert np.array_equal(served, cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY))
    assert np.array_equal(read_gray48(tmp_path / "colour.png"), served)


def test_a_jpeg_of_hundreds_of_scans_is_refused_by_prepare_and_predict_alike(tmp_path) -> None:
    """Each repeated scan is a few bytes and a pass over the whole picture: a small upload held
    the app for minutes. An ordinary progressive JPEG (about 10 scans) still reads."""
    class_tree(tmp_path, {"happy": 5, "sad": 5})
    ordinary = scan_bomb(tmp_path / "happy" / "ordinary.jpg", extra_scans=0)
    bomb = scan_bomb(tmp_path / "sad" / "bomb.jpg", extra_scans=200)
    assert read_gray48(ordinary).shape == load_image(ordinary).shape == (48, 48)

    message = f"{bomb}: a JPEG of 206 scans (photos have a few dozen at most), which would take"
    assert error_of(tmp_path).startswith(message)
    with pytest.raises(FacialEmotionError, match=re.escape(message)):
        load_image(bomb)


def test_scan_markers_outside_the_picture_do_not_count_and_hidden_scans_do(tmp_path) -> None:
    """The marker's bytes in an EXIF block (a thumbnail) or after the picture (a phone's motion
    photo holds a video there) refused ordinary photos; stray bytes before each scan, which the
    decoder skips, must not hide a scan bomb."""
    data = scan_bomb(tmp_path / "ordinary.jpg", extra_scans=0).read_bytes()
    exif = b"Exif\0\0" + b"\xff\xda" * 150
    segment = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(data[:2] + segment + data[2:] + b"\xff\xda\x00\x08" * 300)
    assert np.array_equal(load_image(photo), load_image(tmp_path / "ordinary.jpg"))
    assert read_gray48(photo).shape == (48, 48)

    last_scan = data[data.rindex(b"\xff\xda") : -2]
    hidden = tmp_path / "hidden.jpg"
    hidden.write_bytes(data[:-2] + (b"\x00\x01" + last_scan) * 200 + data[-2:])
    with pytest.raises(FacialEmotionError, match="a JPEG of 206 scans"):
        load_image(hidden)
    # empty comments by the ten thousand: each a step of the walk (50 MB of them took 6.7 s)
    flood = tmp_path / "flood.jpg"
    flood.write_bytes(data[:-2] + b"\xff\xfe\x00\x02" * 10_001 + data[-2:])
    with pytest.raises(FacialEmotionError, match="a JPEG of over 10000 segments"):
        load_image(flood)


def test_a_jpeg_header_padded_out_is_refused_before_pillow_reads_it(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pillow's header reader walks segments, fill bytes and restart markers before the first scan
    one at a time in Python: 50 MB of them held the app for 8-13 s before the segment cap was
    even asked, and fill bytes were never refused (review AB)."""
    data = scan_bomb(tmp_path / "ordinary.jpg", extra_scans=0).read_bytes()
    frame = re.search(rb"\xff[\xc0-\xc2]", data).start()
    pads = (b"\xff\xfe\x00\x02" * 10_001, b"\xff" * 70_000, b"\xff\xd0" * 35_000)
    for number, pad in enumerate(pads):
        padded = tmp_path / f"padded{number}.jpg"
        padded.write_bytes(data[:frame] + pad + data[frame:])
        with pytest.raises(FacialEmotionError, match="a JPEG of over 10000 segments"):
            read_gray48(padded)
        with monkeypatch.context() as patched:
            patched.setattr(Image, "open", lambda *_, **__: pytest.fail("Pillow read it first"))
            with pytest.raises(FacialEmotionError, match="a JPEG of over 10000 segments"):
                load_image(padded)
    assert load_image(tmp_path / "ordinary.jpg").shape[:2] == (48, 48)


def test_scans_hidden_behind_a_bogus_segment_length_count(tmp_path) -> None:
    """The walker read a length after FF 00, after FF FF 00 in coded data and after a reserved
    marker in a scan with restart intervals, all of which the decoder passes over: one jump of up
    to 64 KB hid thousands of scans it decoded; 120 here (review AA)."""
    com = b"\xff\xfe\x00\x02"  # an empty comment, which ends a scan's coded data
    for restarts, gadget in ((0, b"\xff\x00"), (0, b"\xff\xff\x00"), (1, b"\xff\x02")):
        buffer = io.BytesIO()
        Image.fromarray(pattern(0)).save(
            buffer, "JPEG", progressive=True, restart_marker_blocks=restarts
        )
        data = buffer.getvalue()
        last = data[data.rindex(b"\xff\xda") : -2]
        if restarts:  # the gadget stands in for a restart marker inside a scan's coded data
            at = re.search(rb"\xff[\xd0-\xd7]", last).start()
            carrier, last = last[:at], last[at + 2 :] + last * 119
        else:
            carrier, last = (com if gadget == b"\xff\x00" else b""), last * 120
        jump = (len(last) + 2).to_bytes(2, "big")
        assert b"\xff" not in jump
        hidden = tmp_path / "hidden.jpg"
        hidden.write_bytes(data[:-2] + carrier + gadget + jump + last + com + data[-2:])
        with pytest.raises(FacialEmotionError, match=r"a JPEG of 12\d scans"):
            load_image(hidden)
        with pytest.raises(FacialEmotionError, match=r"a JPEG of 12\d scans"):
            read_gray48(hidden)


def test_a_picture_predict_refuses_as_too_large_is_refused_before_it_is_decoded(tmp_path) -> None:
    """OpenCV decoded it (a 24 KB PNG of 200 million pixels took 480 MB); past a billion pixels
    its assertion ended prepare in a traceback."""
    class_tree(tmp_path, {"happy": 5, "sad": 5})
    huge = tmp_path / "sad" / "huge.png"
    Image.new("1", (20_000, 9_000)).save(huge)  # 180 million pixels in 22 KB

    with pytest.raises(FacialEmotionError) as predict_refusal:
        load_image(huge)
    assert error_of(tmp_path) == str(predict_refusal.value)
    assert str(predict_refusal.value) == (
        f"{huge}: image is too large to read safely (over 179 million pixels); scale it down first"
    )


def test_a_small_file_claiming_a_huge_picture_is_refused_in_one_line(tmp_path) -> None:
    """Files under 4 KB skip the header check: one whose header claimed 3.6 billion pixels ended
    prepare and evaluate in OpenCV's assertion, a traceback, and a GIF in Pillow's."""
    png, gif = io.BytesIO(), io.BytesIO()
    Image.new("L", (16, 16)).save(png, "PNG")
    Image.new("P", (16, 16)).save(gif, "GIF")
    ihdr = b"IHDR" + struct.pack(">II", 60_000, 60_000) + png.getvalue()[24:29]
    claims = {
        "huge.png": png.getvalue()[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)),
        "huge.gif": gif.getvalue()[:6] + struct.pack("<HH", 60_000, 60_000) + gif.getvalue()[10:],
    }
    for name, data in claims.items():
        huge = tmp_path / name
        huge.write_bytes(data + png.getvalue()[33:] if name == "huge.png" else data)
        assert len(huge.read_bytes()) < 4096
        refusal = f"{huge}: image is too large to read safely (over 179 million pixels); scale"
        with pytest.raises(FacialEmotionError, match=f"^{re.escape(refusal)}"):
            read_gray48(huge)
        with pytest.raises(FacialEmotionError, match=f"^{re.escape(refusal)}"):
            load_image(huge)


def test_a_large_photo_reads_without_pillow_s_bomb_warning(tmp_path, monkeypatch) -> None:
    """Pillow warns from 89 million pixels and refuses from twice that; predict silenced the
    warning, but prepare and evaluate printed it, with its source line, for a 12000x9000 photo
    they then read. (The limit is lowered here so a small picture stands for a large one.)"""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.dstack([pattern(0)[:40, :40]] * 3)).save(photo)  # 1,600 pixels
    assert photo.stat().st_size >= 4096  # checked from its header first
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert images.read_many([photo], "photos").shape == (1, 48, 48)
    assert [w.message for w in caught if w.category is Image.DecompressionBombWarning] == []


def test_a_whole_jpeg_reads_with_bytes_after_its_end_and_black_faces_read(tmp_path: Path) -> None:
    jpeg = write_image(tmp_path / "face.jpg", pattern(0))
    padded = tmp_path / "padded.jpg"
    padded.write_bytes(jpeg.read_bytes() + b"\0" * 16)  # as some cameras and tools write
    black = write_image(tmp_path / "black.jpg", np.zeros((48, 48), np.uint8))

    np.testing.assert_array_equal(read_gray48(padded), read_gray48(jpeg))
    assert not read_gray48(black).any()  # FER2013 has a few all-black faces: not refused


@pytest.mark.parametrize("extra", ["images", "happy"])
def test_a_folder_beside_the_splits_that_is_none_of_them_is_named(tmp_path: Path, extra) -> None:
    """Its images were left out without a word."""
    class_tree(tmp_path / "train", {"anger": 3, "happy": 3})
    class_tree(tmp_path / "test", {"anger": 1, "happy": 1})
    class_tree(tmp_path / extra, {"anger": 1, "happy": 1})
    with pytest.raises(FacialEmotionError, match=rf"{extra}: holds images beside the split fold"):
        load(tmp_path)


@pytest.mark.parametrize("split", ["test", "Valid", "testing"])
def test_a_split_folder_without_train_is_not_taken_for_a_class(tmp_path: Path, split) -> None:
    """Without train/, test/ and val/ were two "emotions": a classifier of the splits."""
    class_tree(tmp_path / "happy", {"a": 2})
    class_tree(tmp_path / split, {"anger": 2, "happy": 2})
    with pytest.raises(FacialEmotionError, match=rf"{split}: is named as a split, not a class"):
        load(tmp_path)


def test_images_beside_the_class_folders_are_named(tmp_path: Path) -> None:
    """They have no label, and were left out without a word."""
    class_tree(tmp_path, {"anger": 3, "happy": 3})
    write_image(tmp_path / "stray.png", flat(0))
    with pytest.raises(FacialEmotionError, match=r"holds 1 image file beside its class folders"):
        load(tmp_path)


def test_a_linked_folder_inside_a_class_folder_is_read_once_even_in_a_loop(tmp_path) -> None:
    """Its images were left out without a word, though a linked class folder was read."""
    elsewhere = class_tree(tmp_path / "elsewhere", {"more": 4})
    root = class_tree(tmp_path / "faces", {"anger": 3, "happy": 3})
    (root / "happy" / "linked").symlink_to(elsewhere / "more")
    (root / "happy" / "loop").symlink_to(root / "happy")
    counts = load(root).counts()
    assert sum(split["happy"] for split in counts.values()) == 3 + 4


def test_links_that_point_at_each_other_in_a_class_folder_are_passed_over(tmp_path) -> None:
    """a -> b -> a in a class folder stopped prepare and evaluate with "[Errno 40] Too many
    levels of symbolic links", no fix named (audit CJ); a link to nothing is passed over."""
    root = class_tree(tmp_path / "faces", {"anger": 3, "happy": 3})
    (root / "happy" / "a.png").symlink_to(root / "happy" / "b.png")
    (root / "happy" / "b.png").symlink_to(root / "happy" / "a.png")
    counts = load(root).counts()
    assert sum(split["happy"] for split in counts.values()) == 3


HOPPER = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def photo_tree(root: Path) -> Path:
    """train/ and val/ of two classes, each image a photo of one face; one photo has none."""
    mirrored = np.ascontiguousarray(load_image(HOPPER)[:, ::-1, ::-1])  # RGB → BGR, mirrored
    for split in ("train", "val"):
        (root / split / "happy").mkdir(parents=True)
        shutil.copy(HOPPER, root / split / "happy")
        write_image(root / split / "sad" / "mirrored.png", mirrored)
    write_image(root / "train" / "sad" / "wall.png", flat(3, (240, 320, 3)))
    return root


def test_detect_faces_trains_on_each_photos_face_cut_as_predict_cuts_it(tmp_path: Path) -> None:
    """Read whole, a photo became one 48x48 "face" of a shrunken scene, which predict never
    shows the model; a photo with no face was trained on all the same."""
    root = photo_tree(tmp_path)
    data = load_source("folder", str(root), **CARVING, synthetic_samples=0, detect_faces=True)
    assert data.source["faces"] == "largest face found by haar"
    assert data.source["faceless_files"] == 1
    assert data.source["faceless_example"] == str(Path("train/sad/wall.png"))
    assert [len(split) for split in data.splits.values()] == [2, 2]  # the wall left out
    _, served, _ = locate_faces(load_image(HOPPER), make_detector("haar"))
    trained = data.splits["train"].x[data.splits["train"].y == data.classes.index("happy")][0]
    # the same face and framing; prepare decodes JPEG to gray itself, so levels differ by a few
    assert np.abs(trained.astype(int) - served[0].astype(int)).mean() < 3
    whole = load_source("folder", str(root), **CARVING, synthetic_samples=0)
    assert "faces" not in whole.source and len(whole.splits["train"]) == 3
    assert np.abs(whole.splits["train"].x[0].astype(int) - served[0].astype(int)).mean() > 20


def test_detect_faces_stops_on_a_folder_with_no_face_and_on_cropped_sources(
    tmp_path: Path,
) -> None:
    class_tree(tmp_path / "walls", {"happy": 2, "sad": 2}, ext=".png")
    for image in (tmp_path / "walls").rglob("*.png"):  # flat pictures large enough to search
        write_image(image, flat(1, (200, 200)))
    with pytest.raises(FacialEmotionError, match=r"walls: no face found in any of its 2 training"):
        load_source(
            "folder", str(tmp_path / "walls"), **CARVING, synthetic_samples=0, detect_faces=True
        )
    with pytest.raises(FacialEmotionError, match="data.detect_faces is for data.source folder"):
        load_source("ckplus", str(tmp_path), **CARVING, synthetic_samples=0, detect_faces=True)


def test_no_face_in_one_training_photo_is_said_of_one_photo(tmp_path: Path) -> None:
    """It said "in any of its 1 training images" and "in any of the 1 training images of sad"."""
    from facial_emotion.data.photos import FaceFiles
    from facial_emotion.data.prepared import LabelledImages

    reader, classes = FaceFiles(), ("happy", "sad")
    none = LabelledImages(np.zeros((0, 48, 48), np.uint8), np.zeros(0, int))
    with pytest.raises(FacialEmotionError) as caught:
        reader.require_faces_of_each_class(
            classes, ([tmp_path / "a.png"], np.array([1])), none, tmp_path, "crop the faces"
        )
    assert str(caught.value) == f"{tmp_path}: no face found in its 1 training image; crop the faces"
    happy = LabelledImages(pattern(0)[None], np.array([0]))
    listed = ([tmp_path / "a.png", tmp_path / "b.png"], np.array([0, 1]))
    with pytest.raises(FacialEmotionError) as caught:
        reader.require_faces_of_each_class(classes, listed, happy, tmp_path, "crop the faces")
    assert str(caught.value) == (
        f"{tmp_path}: no face found in the 1 training image of sad; crop the faces"
    )


def test_no_face_found_says_what_the_user_of_each_command_can_do(tmp_path: Path) -> None:
    """Both said to set data.detect_faces false: prepare named no params file (another may have
    been read), and evaluate named a key its user never set; the card decides there."""
    walls = class_tree(tmp_path / "walls", {"happy": 2, "sad": 2}, ext=".png")
    for image in walls.rglob("*.png"):  # flat pictures large enough to search
        write_image(image, flat(1, (200, 200)))
    searched = (
        "searches a 1024 px copy of each photo for faces of 24 px or more there (about 95 px in "
        "a 4032 px photo)"
    )
    with pytest.raises(FacialEmotionError) as caught:
        load_source(
            "folder",
            str(walls),
            **CARVING,
            synthetic_samples=0,
            detect_faces=True,
            settings_from="other.yaml",
        )
    assert str(caught.value) == (
        f"{walls}: no face found in any of its 2 training images; data.detect_faces {searched}: "
        "set it false in other.yaml for face crops, or crop the faces"
    )
    card = {"source": {"name": "folder", "path": "photos", "faces": "largest face found by haar"}}
    with pytest.raises(FacialEmotionError) as caught:
        load_for_scoring(walls, card=card, split="all")
    assert str(caught.value) == (
        f"{walls}: no face found in any of its 4 photos, all scored; the model's card says it "
        f"trained on faces found in photos, so scoring {searched} too: crop the faces, or score "
        "a model trained on whole images (evaluate: --model)"
    )
    with pytest.raises(FacialEmotionError) as caught:  # 4 photos carve no test photo
        load_for_scoring(walls, card=card)
    assert str(caught.value) == (
        f"{walls}: the test split scored holds no photos; add photos, or score them all "
        "(--split all)"
    )


def test_a_model_trained_on_detected_faces_is_scored_on_faces_detected_so(tmp_path: Path) -> None:
    root = photo_tree(tmp_path / "photos")
    card = {"source": {"name": "folder", "path": str(root), "faces": "largest face found by haar"}}
    data, split = load_for_scoring(root, card=card)
    assert split == "val" and data.source["faces"] == "largest face found by haar"
    data, _ = load_for_scoring(root, card={"source": {"name": "folder", "path": str(root)}})
    assert "faces" not in data.source
    elsewhere = shutil.copytree(root, tmp_path / "copy")  # train/ and val/: FER2013's layout
    data, _ = load_for_scoring(elsewhere, card=card)
    assert data.source["name"] == "folder" and data.source["faces"] == card["source"]["faces"]


def test_detect_faces_splits_the_files_before_searching_them(tmp_path: Path) -> None:
    """Dropped before the split, a photo with no face found moved others between train and
    test; a class whose photos all lack a face vanished, or was blamed on its spelling."""
    root = tmp_path / "photos"
    hopper = np.asarray(load_image(HOPPER))[:, :, ::-1]
    for code, emotion in enumerate(("happy", "sad")):
        for k in range(10):  # each face marked apart, to tell which split it lands in
            marked = hopper.copy()
            marked[300 + 8 * code : 306 + 8 * code, 200 + 12 * k : 206 + 12 * k] = 0
            write_image(root / emotion / f"{k}.png", marked)
    photos = {**CARVING, "synthetic_samples": 0}
    found = load_source("folder", str(root), **photos, detect_faces=True)
    whole = load_source("folder", str(root), **photos)
    write_image(root / "sad" / "0.png", flat(3, (240, 320, 3)))  # now without a face
    fewer = load_source("folder", str(root), **photos, detect_faces=True)
    sizes = {s: len(part) for s, part in found.splits.items()}
    assert sizes == {s: len(part) for s, part in whole.splits.items()}
    assert sum(len(part) for part in fewer.splits.values()) == 19
    for split, part in fewer.splits.items():  # no photo changed split for the wall's sake
        assert {face.tobytes() for face in part.x} <= {
            face.tobytes() for face in found.splits[split].x
        }
    for k in range(10):
        write_image(root / "sad" / f"{k}.png", flat(3, (240, 320, 3)))
    with pytest.raises(
        FacialEmotionError, match=r"no face found in any of the 6 training images of sad"
    ):
        load_source("folder", str(root), **photos, detect_faces=True)


def test_a_small_colour_square_is_searched_as_predict_searches_it(tmp_path: Path) -> None:
    from facial_emotion.data.photos import face_reader

    colour = tmp_path / "colour.png"
    write_image(colour, np.dstack([pattern(0), pattern(1), pattern(2)])[:60, :60])
    gray = write_image(tmp_path / "gray.png", pattern(0)[:60, :60])
    read = face_reader()
    assert read(colour) is None  # searched, and no face in noise
    assert read(gray).shape == (48, 48)  # a gray face crop, used whole


def test_photos_with_no_face_found_are_counted_per_split(tmp_path: Path) -> None:
    """Review AF: a score needs its own split's count of photos it could not read."""
    root = photo_tree(tmp_path)
    write_image(root / "val" / "sad" / "wall.png", flat(3, (240, 320, 3)))
    data = load_source("folder", str(root), **CARVING, synthetic_samples=0, detect_faces=True)
    assert data.source["faceless_files"] == 2
    assert data.source["faceless_by_split"] == {"train": 1, "val": 1}


def test_labels_in_a_list_or_in_file_names_say_how_to_sort_them(tmp_path: Path) -> None:
    """RAF-DB's label list was blamed as an empty class folder to "remove", and JAFFE's flat
    folder of KA.AN1.39.tiff was told only that it had no class folders."""
    rafdb = tmp_path / "rafdb"
    write_image(rafdb / "Image" / "train_00001_aligned.jpg", flat(1))
    (rafdb / "EmoLabel").mkdir()
    (rafdb / "EmoLabel" / "list_patition_label.txt").write_text("train_00001.jpg 5\n")
    sort = (
        "sort the images into <emotion>/ folders (data.md, folder: labels in a list or in file "
        "names)"
    )
    assert error_of(rafdb) == (
        f"{rafdb / 'EmoLabel'}: holds list_patition_label.txt, a label list, and no images; lists "
        f"are not read, labels come from folder names: {sort}"
    )
    jaffe = tmp_path / "jaffe"
    write_image(jaffe / "KA.AN1.39.tiff", flat(1))
    write_image(jaffe / "KA.HA1.29.tiff", flat(2))
    assert error_of(jaffe) == (
        f"{jaffe}: 2 images (such as KA.AN1.39.tiff) and no class folders; labels are read "
        f"from folder names, not file names: {sort}"
    )


def test_a_label_list_beside_a_folders_images_is_not_read_as_a_class(tmp_path: Path) -> None:
    """FER+'s FER2013Train/ holds its faces and label.csv: the folder was read as a class named
    "fer2013train", and FER+ trained into a model telling its three splits apart, with only a
    warning to "convert" label.csv to JPEG."""
    ferplus = tmp_path / "ferplus"
    for split in ("FER2013Train", "FER2013Valid", "FER2013Test"):
        write_image(ferplus / split / "fer0000000.png", flat(1))
        write_image(ferplus / split / "fer0000001.png", flat(2))
        (ferplus / split / "label.csv").write_text('fer0000000.png,"(0, 0, 48, 48)",10,0\n')
    assert error_of(ferplus) == (
        f"{ferplus / 'FER2013Test'}: holds label.csv, a label list, beside its images; lists are "
        "not read, labels come from folder names, so all 2 images would be class "
        "'fer2013test': sort the images into <emotion>/ folders (data.md, folder: labels in a "
        "list or in file names), or move label.csv out if it labels nothing"
    )


RAFDB = ("surprise", "fear", "disgust", "happy", "sad", "angry", "neutral")  # folders 1 … 7


def test_data_labels_names_numbered_folders_as_their_data_set_does(tmp_path: Path) -> None:
    """RAF-DB's folders 1 … 7 became classes "1" … "7" (or, read as FER2013, its 0 … 6 codes):
    `labels: rafdb` gives the emotions, in FER2013 order, each over its own folder's faces."""
    root = tmp_path / "rafdb"
    for split in ("train", "test"):
        class_tree(root / split, {str(n): 5 for n in range(1, 8)})  # folder n: gray code n - 1
    for source in ("folder", "fer2013"):
        data = load_source(source, str(root), **CARVING, synthetic_samples=0, labels="rafdb")
        assert data.classes == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
        for split in data.splits.values():
            read = [RAFDB[code_of(x)] for x in split.x]
            assert read == [data.classes[y] for y in split.y] and len(set(read)) == 7
        assert data.source["labels"] == "rafdb" and "numbered_classes" not in data.source
    # AffectNet's 0 is neutral, where FER2013's 0 is angry; a mapping names any folder
    affectnet = class_tree(tmp_path / "affectnet", {"0": 5, "1": 5, "7": 5})
    data = load_source("folder", str(affectnet), **CARVING, synthetic_samples=0, labels="affectnet")
    assert data.classes == ("happy", "neutral", "contempt")
    mapping = {"0": "Neutral", "1": "happiness", "7": "contempt"}
    data = load_source("folder", str(affectnet), **CARVING, synthetic_samples=0, labels=mapping)
    assert data.classes == ("happy", "neutral", "contempt")
    assert data.source["labels"] == {"0": "neutral", "1": "happy", "7": "contempt"}
    y = data.splits["train"].y
    assert [data.classes[i] for i in y] == [
        ("neutral", "happy", "contempt")[code_of(x)]  # folders 0, 1, 7 in the tree's order
        for x in data.splits["train"].x
    ]


def test_a_class_folder_data_labels_does_not_name_is_one_line(tmp_path: Path) -> None:
    """Left under its own name it would have been a class "8" beside the emotions."""
    root = class_tree(tmp_path / "rafdb", {str(n): 3 for n in range(1, 9)})
    with pytest.raises(FacialEmotionError) as caught:
        load_source("folder", str(root), **CARVING, synthetic_samples=0, labels="rafdb")
    assert str(caught.value) == (
        f"{root / '8'}: class folder 8/ is not named by data.labels (or --labels) rafdb "
        "(1, 2, 3, 4, 5, 6, 7); give data.labels as a mapping {folder: emotion} that names it "
        "too, or move the folder out"
    )
    csv = tmp_path / "fer2013.csv"
    csv.write_text("emotion,pixels\n")
    with pytest.raises(FacialEmotionError, match="^.*fer2013.csv: a CSV labels its rows by"):
        load_source("fer2013", str(csv), **CARVING, synthetic_samples=0, labels="rafdb")


def test_scoring_the_data_a_model_trained_on_names_its_folders_as_training_did(
    tmp_path: Path,
) -> None:
    """The card records data.labels: evaluate on the training data needs no --labels again."""
    root = class_tree(tmp_path / "rafdb", {str(n): 5 for n in range(1, 8)})
    card = {"seed": 0, "source": {"name": "folder", "path": str(root), "labels": "rafdb"}}
    data, split = load_for_scoring(root, card=card)
    assert split == "test" and data.classes[0] == "angry" and data.source["labels"] == "rafdb"
    other = shutil.copytree(root, tmp_path / "copy")  # other data: the folder names, as given
    assert load_for_scoring(other, card=card)[0].classes == tuple(str(n) for n in range(1, 8))


def test_a_tiff_tag_of_the_wrong_type_is_a_damaged_file_to_every_reader(tmp_path: Path) -> None:
    """Strip offsets given as a fraction made Pillow's decoder raise a TypeError, a traceback from
    predict, the app and prepare (found by fuzzing TIFF uploads)."""
    buffer = io.BytesIO()
    Image.fromarray(np.full((48, 48), 128, np.uint8)).save(buffer, format="TIFF")
    data = bytearray(buffer.getvalue())
    directory = struct.unpack_from("<I", data, 4)[0]
    for entry in range(directory + 2, directory + 2 + 12 * data[directory], 12):
        if struct.unpack_from("<H", data, entry)[0] == 273:  # StripOffsets
            struct.pack_into("<H", data, entry + 2, 5)  # LONG -> RATIONAL
    path = tmp_path / "fraction.tif"
    path.write_bytes(bytes(data))
    for read in (load_image, images.read_gray):
        with pytest.raises(FacialEmotionError, match=r"fraction\.tif: damaged or truncated image"):
            read(path)
