"""EmotionRecognizer: paths or pixels in, Face records out, with Keras and TFLite models."""

from __future__ import annotations

import asyncio
import base64
import json
import pickle
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import BinaryIO

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image

import facial_emotion.predict as predict_module
from facial_emotion.errors import FacialEmotionError
from facial_emotion.faces import HaarDetector, make_detector
from facial_emotion.labels import EMOTIONS
from facial_emotion.modelfile import save_keras
from facial_emotion.predict import EmotionRecognizer, as_pixels, default_model_path, load_image

HOPPER = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.fixture(scope="module")
def recognizer(tiny_model_path: Path) -> EmotionRecognizer:
    return EmotionRecognizer(tiny_model_path)


def test_one_face_with_a_distribution_over_the_card_classes(recognizer):
    (face,) = recognizer.detect(HOPPER)
    assert list(face.probabilities) == list(EMOTIONS)
    assert sum(face.probabilities.values()) == pytest.approx(1, abs=1e-4)
    assert face.emotion == max(face.probabilities, key=face.probabilities.get)
    assert face.score == face.probabilities[face.emotion]
    assert len(face.box) == 4 and all(isinstance(v, int) for v in face.box)


def test_pixels_give_the_same_faces_as_the_file(recognizer):
    rgb = np.asarray(Image.open(HOPPER).convert("RGB"))
    (from_file,) = recognizer.detect(HOPPER)
    (from_rgb,) = recognizer.detect(rgb)
    (from_float,) = recognizer.detect(rgb.astype(np.float32) / 255)
    (from_gray,) = recognizer.detect(np.asarray(Image.open(HOPPER).convert("L")))
    assert from_rgb == from_file
    assert from_float.box == from_file.box
    assert from_gray.box == from_file.box


def test_batch_gives_the_same_faces_as_one_by_one(recognizer, rng):
    crop = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    blank = np.full((200, 300), 127, np.uint8)
    batch = recognizer.detect_batch([HOPPER, blank, crop, str(HOPPER)])
    assert [len(faces) for faces in batch] == [1, 0, 1, 1]
    (single,) = recognizer.detect(crop)
    assert batch[2][0].box == (0, 0, 48, 48)
    for c in EMOTIONS:
        assert batch[2][0].probabilities[c] == pytest.approx(single.probabilities[c], abs=1e-5)
    assert recognizer.detect_batch([]) == []


class BoxesOnly:
    """A detector of your own that gives boxes alone, as the README describes one."""

    name = "boxes-only"
    crop_scale = 1.0

    def boxes(self, image: np.ndarray) -> list:
        return [(158, 107, 217, 217)]


def test_each_face_says_how_strongly_the_detector_found_it(recognizer, tiny_model_path, rng):
    """Haar's strength was used only to drop overlapping boxes; an app could not tell a weak
    hit from a strong one."""
    (face,) = recognizer.detect(HOPPER)
    assert face.detector_score >= recognizer.detector.min_neighbors + 1
    assert face.to_dict()["detector_score"] == face.detector_score
    crop = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    assert recognizer.detect_batch([crop])[0][0].detector_score is None  # nothing was detected
    assert recognizer.read_crops([crop])[0].detector_score is None
    (own,) = EmotionRecognizer(tiny_model_path, detector=BoxesOnly()).detect(HOPPER)
    assert own.box == (158, 107, 217, 217) and own.detector_score is None


def test_crops_from_an_apps_own_detector_are_read_whole_in_colour_or_gray(recognizer):
    """``detect`` takes only a small square gray picture for a crop and searches any other;
    ``read_crops`` reads each image whole, as the one face it is."""
    (face,) = recognizer.detect(HOPPER)
    x, y, w, h = face.box
    rgb = np.asarray(Image.open(HOPPER).convert("RGB"))[y : y + h, x : x + w]
    gray48 = np.asarray(Image.fromarray(rgb).convert("L").resize((48, 48)))
    tight = rgb[h // 10 : -h // 10, w // 10 : -w // 10]
    read = recognizer.read_crops([gray48, tight, rgb[:, : w // 2]])
    assert [f.box for f in read] == [(0, 0, 48, 48), (0, 0, *tight.shape[1::-1]), (0, 0, w // 2, h)]
    assert all(f.whole_image and f.emotion in EMOTIONS for f in read)
    (whole,) = recognizer.detect(gray48)  # a crop detect recognises: read the same way
    assert whole.box == read[0].box and whole.whole_image
    assert whole.probabilities == pytest.approx(read[0].probabilities, abs=1e-5)
    assert not any(f.whole_image for f in recognizer.detect(tight))  # detect searches it
    assert recognizer.read_crops([]) == []
    stacked = recognizer.read_crops(np.stack([gray48, gray48]))  # an array of crops works too
    assert [f.box for f in stacked] == [(0, 0, 48, 48)] * 2
    with pytest.raises(FacialEmotionError, match=r"crop 1 \(1x1\) is one flat colour, not a face"):
        recognizer.read_crops([gray48, np.zeros((1, 1, 3), np.uint8)])


def test_a_dim_face_crop_is_read_whole(recognizer):
    """A face crop of a dark frame spans few gray levels, and the stretch to 0..255 reads it
    nearly as well as a bright one (FER2013 val faces cut to 6 levels: 61% right, 64% whole,
    shipped model), so only one flat colour is no face: noise is read "sad 0.8" at any span."""
    face = np.asarray(Image.open(HOPPER).convert("L").resize((48, 48)), np.float32)
    dim = (20 + np.round(face * 6 / 255)).astype(np.uint8)  # spans 6 gray levels
    assert int(dim.max()) - int(dim.min()) == 6
    (found,) = recognizer.detect(dim)
    assert found.whole_image and found.box == (0, 0, 48, 48)
    assert recognizer.read_crops([dim])[0].box == (0, 0, 48, 48)


@pytest.mark.parametrize(
    "one",
    [
        lambda: str(HOPPER),
        lambda: HOPPER,
        lambda: HOPPER.read_bytes(),
        lambda: Image.open(HOPPER),
        lambda: np.zeros((48, 48), np.uint8),
        lambda: np.zeros((60, 80, 3), np.uint8),
    ],
)
def test_one_image_where_a_list_goes_is_refused_not_read_as_its_parts(recognizer, one):
    """A path was read as a list of its characters ("/: is a folder") and an RGB array as a list
    of its rows, each a thin gray "crop" given an emotion."""
    for method in (recognizer.read_crops, recognizer.detect_batch):
        with pytest.raises(FacialEmotionError, match="takes a list of images; got one .*: pass"):
            method(one())


def test_a_generator_of_images_is_read_like_a_list(recognizer, rng):
    crops = [rng.integers(0, 256, (48, 48), dtype=np.uint8) for _ in range(2)]
    assert recognizer.read_crops(iter(crops)) == recognizer.read_crops(crops)


def test_an_upload_already_read_is_read_again_from_its_start(recognizer):
    """A framework that saved or sniffed the upload leaves it at its end: that read as an
    "empty file (0 bytes)" the user was told to remove."""
    expected = recognizer.detect(HOPPER)
    with HOPPER.open("rb") as upload:
        upload.read()
        assert recognizer.detect(upload) == expected


def test_an_asynchronous_upload_says_to_await_its_bytes(recognizer):
    class AsyncUpload:  # as FastAPI's UploadFile
        filename = "photo.jpg"

        async def read(self) -> bytes:
            return HOPPER.read_bytes()

    with pytest.raises(FacialEmotionError, match=r"photo.jpg: its read\(\) is asynchronous"):
        recognizer.detect(AsyncUpload())


def test_an_upload_whose_read_gives_a_future_says_to_await_its_bytes(recognizer):
    """An awaitable that is no coroutine (read() handing back a Future, as a read run in an
    executor does) has no close(): that AttributeError took the place of the message."""
    loop = asyncio.new_event_loop()
    try:

        class ExecutorUpload:
            filename = "photo.jpg"

            def read(self) -> asyncio.Future:
                return loop.create_future()  # as run_in_executor() gives, pending

        with pytest.raises(FacialEmotionError, match=r"photo.jpg: its read\(\) is asynchronous"):
            recognizer.detect(ExecutorUpload())
    finally:
        loop.close()


def test_classify_refuses_crops_it_would_misread(recognizer, rng):
    crops = rng.integers(0, 256, (2, 48, 48), dtype=np.uint8)
    assert recognizer.classify(crops).shape == (2, len(EMOTIONS))
    for wrong in (crops / 255, crops[..., None], crops[:, :40]):
        with pytest.raises(FacialEmotionError, match=r"classify takes uint8 \(N, 48, 48\)"):
            recognizer.classify(wrong)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"detector": None}, "detector None is not a detector; pass 'haar', 'mtcnn' or"),
        ({"model": 3}, "model 3 is not a path; pass the path of a .keras or .tflite"),
    ],
)
def test_a_recognizer_made_with_the_wrong_kind_of_option_says_so(options, message):
    with pytest.raises(FacialEmotionError, match=message):
        EmotionRecognizer(**options)


def test_default_model_missing_says_how_to_pass_one(monkeypatch, tmp_path):
    monkeypatch.setattr(predict_module, "WEIGHTS", tmp_path)
    with pytest.raises(FacialEmotionError, match=r"fer2013\.keras.*--model models/model\.keras"):
        default_model_path()
    with pytest.raises(FacialEmotionError, match="--model models/model.keras"):
        EmotionRecognizer()


def test_missing_model_names_the_file(tmp_path):
    with pytest.raises(FacialEmotionError, match=r"nope\.keras: model not found"):
        EmotionRecognizer(tmp_path / "nope.keras")


def test_corrupt_tflite_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.tflite"
    bad.write_bytes(b"garbage, not a flatbuffer" * 10)
    with pytest.raises(FacialEmotionError, match=r"x\.tflite: not a valid TensorFlow Lite model"):
        EmotionRecognizer(bad)


def test_tflite_model_agrees_with_keras(recognizer, tiny_model_path, tmp_path):
    import keras
    import tensorflow as tf

    model = keras.models.load_model(tiny_model_path, compile=False)
    path = tmp_path / "model.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    shutil.copy(tiny_model_path.with_suffix(".json"), tmp_path / "model.json")
    (lite,) = EmotionRecognizer(path).detect(HOPPER)
    (ref,) = recognizer.detect(HOPPER)
    assert lite.box == ref.box and lite.emotion == ref.emotion
    assert lite.score == pytest.approx(ref.score, abs=0.01)  # Keras serves in bfloat16 here


def test_load_image_turns_exif_rotated_photos_upright(tmp_path):
    img = Image.new("RGB", (60, 40), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    img.save(path, exif=exif)
    assert load_image(path).shape == (60, 40, 3)


def _tags_naming_the_same_bytes(order: str, tags: int, size: int) -> bytes:
    """A TIFF header and one directory of ``tags`` tags that each name the same ``size`` bytes."""
    import struct

    mark = b"II*\x00" if order == "<" else b"MM\x00*"
    data_at = 8 + 2 + 12 * tags + 4
    entries = b"".join(
        struct.pack(order + "HHII", 0x9000 + i, 7, size, data_at) for i in range(tags)
    )
    return (
        mark
        + struct.pack(order + "I", 8)
        + struct.pack(order + "H", tags)
        + entries
        + b"\x00" * (4 + size)
    )


def test_tags_naming_the_same_bytes_again_are_refused_before_pillow_reads_them(tmp_path):
    """Pillow reads every tag's data of a TIFF as it opens it and of EXIF as it reads the
    orientation: a 10 MB TIFF of 100 tags naming the same bytes took 1 GB and 6 s, a 10 MB PNG
    of 300 such EXIF tags 7.5 GB and over 100 s. A photo's own EXIF still reads."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    tiff = tmp_path / "tags.tif"
    # a readable 8x8 gray TIFF whose first directory also holds 50 tags naming its 8x8 bytes
    pixels_at, tags = 8, [(256, 3, 1, 8), (257, 3, 1, 8), (258, 3, 1, 8), (259, 3, 1, 1)]
    tags += [(262, 3, 1, 1), (273, 4, 1, 0), (277, 3, 1, 1), (278, 3, 1, 8), (279, 4, 1, 64)]
    tags += [(0x9000 + i, 7, 64, pixels_at) for i in range(50)]
    ifd_at = pixels_at + 64
    entries = b"".join(
        struct.pack("<HHIHH", t, k, n, v, 0) if k == 3 else struct.pack("<HHII", t, k, n, v)
        for t, k, n, v in tags
    )
    tiff.write_bytes(
        b"II*\x00" + struct.pack("<I", ifd_at) + b"\x80" * 64
        + struct.pack("<H", len(tags)) + entries + b"\x00" * 4
    )  # fmt: skip
    png = tmp_path / "exif.png"
    plain = tmp_path / "plain.png"
    Image.new("RGB", (60, 40), "white").save(plain)
    data = plain.read_bytes()
    end = data.index(b"IEND") - 4
    png.write_bytes(
        data[:end] + chunk(b"eXIf", _tags_naming_the_same_bytes(">", 50, 1000)) + data[end:]
    )
    for path in (tiff, png):
        with pytest.raises(FacialEmotionError, match=rf"{path.name}: its TIFF or EXIF tags name"):
            load_image(path)
    with pytest.raises(FacialEmotionError, match="its TIFF or EXIF tags name"):
        as_pixels(Image.open(png))
    rotated = tmp_path / "rotated.png"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (60, 40), "white").save(rotated, exif=exif)
    assert load_image(rotated).shape == (60, 40, 3)


def test_a_dark_uncompressed_tiff_is_not_taken_for_a_tag_bomb(tmp_path):
    """A directory chain ends at offset 0, which was searched as a directory: the header and the
    pixels after it were read as tags, and a 200x200 photo of a dark room saved as TIFF was
    refused as naming 280 times its size."""
    dark = np.clip(np.random.default_rng(0).normal(2, 3, (200, 200, 3)), 0, 255).astype(np.uint8)
    path = tmp_path / "night.tif"
    Image.fromarray(dark).save(path)
    np.testing.assert_array_equal(load_image(path), dark)


def test_a_tiff_header_cut_short_is_damaged_not_a_traceback(tmp_path):
    """The tag-bomb check read a TIFF header's directory offset past the end of a cut-short
    header: a JPEG whose EXIF block held the 4 bytes "II*\\0" ended the whole run with a
    struct.error traceback, as did a 6-byte file starting as a TIFF."""
    photo = tmp_path / "short_exif.jpg"
    Image.new("RGB", (60, 40), "white").save(photo, exif=b"Exif\x00\x00II*\x00")
    assert load_image(photo).shape == (40, 60, 3)
    for name, data in (
        ("cut.tif", b"II*\x00\x08\x00"),
        ("cut_big.tif", b"II+\x00\x08\x00\x00\x00"),
    ):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(FacialEmotionError, match=rf"{name}: not a readable picture"):
            load_image(tmp_path / name)
        with pytest.raises(FacialEmotionError):
            as_pixels(data)


def test_a_tag_bomb_in_imagemagick_s_exif_text_is_refused_with_its_exif_header(tmp_path):
    """ImageMagick's "Raw profile type exif" text holds the block as a JPEG's APP1 does, after
    "Exif\\0\\0", which Pillow drops: the check saw no TIFF header and passed it, and a 6 KB
    PNG (the text is compressed) of 1,000 such tags then took 450 MB and 0.4 s to read."""
    from PIL import PngImagePlugin

    for header in (b"", b"Exif\x00\x00"):
        block = (header + _tags_naming_the_same_bytes(">", 50, 1000)).hex()
        info = PngImagePlugin.PngInfo()
        info.add_text("Raw profile type exif", f"\nexif\n{len(block) // 2:8d}\n{block}\n", zip=True)
        path = tmp_path / f"raw{len(header)}.png"
        Image.new("RGB", (60, 40), "white").save(path, pnginfo=info)
        with pytest.raises(FacialEmotionError, match=rf"{path.name}: its TIFF or EXIF tags name"):
            load_image(path)


def test_pil_images_bytes_and_16_bit_pixels_are_read_as_files_are(recognizer, tmp_path):
    """The Python API takes what users have in hand; each form must find the face a file does."""
    upright = np.asarray(Image.open(HOPPER).convert("RGB"))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    path = tmp_path / "rotated.jpg"
    Image.fromarray(np.rot90(upright)).save(path, exif=exif, quality=95)
    (expected,) = recognizer.detect(path)
    (from_pil,) = recognizer.detect(Image.open(path))
    assert from_pil.box == expected.box
    (from_16_bit,) = recognizer.detect(upright.astype(np.uint16) * 257)
    assert from_16_bit.box == recognizer.detect(upright)[0].box
    (from_bytes,) = recognizer.detect(path.read_bytes())
    assert from_bytes.box == expected.box
    for form in (bytearray, memoryview):  # what other web libraries hand over
        assert [f.box for f in recognizer.detect(form(path.read_bytes()))] == [expected.box]
    with path.open("rb") as upload:  # an open file, as frameworks pass uploads
        assert [f.box for f in recognizer.detect(upload)] == [expected.box]
    with pytest.raises(
        FacialEmotionError, match=r"the image bytes \(9 bytes\): not a readable picture"
    ):
        recognizer.detect(b"not a jpg")


def closed_upload(path: Path) -> BinaryIO:
    """An upload read after its ``with`` block, or after the framework closed it."""
    with path.open("rb") as upload:
        return upload


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            lambda path: path.read_bytes()[:2000],
            r"the image bytes \(2000 bytes\): damaged or trunc",
        ),
        (lambda path: b"", r"the image bytes \(0 bytes\): empty file"),
        (lambda path: path.open(), r"photo.jpg: opened as text; open it in binary mode"),
        (lambda path: None, r"NoneType is not an image; pass a file path, the file's bytes"),
        (closed_upload, r"photo.jpg: the file is closed; pass it while open, or pass its bytes"),
    ],
)
def test_inputs_the_api_cannot_read_are_named_as_files_are(recognizer, tmp_path, given, message):
    path = tmp_path / "photo.jpg"
    path.write_bytes(HOPPER.read_bytes())
    with pytest.raises(FacialEmotionError, match=message):
        recognizer.detect(given(path))


def test_load_image_keeps_gray_files_gray(tmp_path):
    path = tmp_path / "gray.png"
    Image.new("L", (48, 48), 90).save(path)
    assert load_image(path).shape == (48, 48)


def test_load_image_scales_16_bit_pixels_as_evaluate_reads_them(tmp_path):
    gray = np.asarray(Image.open(HOPPER).convert("L"))
    path = tmp_path / "deep.png"
    Image.fromarray(gray.astype(np.uint16) * 257).save(path)  # 16-bit, the same picture
    assert Image.open(path).mode.startswith("I;16")
    assert np.array_equal(load_image(path), gray)


def test_a_16_bit_colour_key_reads_white_as_its_8_bit_twin_does(tmp_path):
    """A 16-bit RGB PNG's tRNS colour key was dropped: its transparent pixels read as the key's
    colour (black), where the same picture in 8 bits read them white, as viewers show them."""
    import struct
    import zlib

    import cv2

    rgb = np.zeros((4, 6, 3), np.uint16)
    rgb[:, :3] = (40000, 20000, 10000)  # the right half is the key colour, black
    png = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))[1].tobytes()
    key = b"tRNS" + struct.pack(">HHH", 0, 0, 0)
    at = png.index(b"IDAT") - 4
    deep = tmp_path / "deep.png"
    deep.write_bytes(png[:at] + struct.pack(">I", 6) + key + struct.pack(">I", zlib.crc32(key)))
    deep.write_bytes(deep.read_bytes() + png[at:])
    assert "transparency" in Image.open(deep).info
    shallow = tmp_path / "shallow.png"
    Image.fromarray((rgb >> 8).astype(np.uint8)).save(shallow, transparency=(0, 0, 0))
    assert np.array_equal(load_image(deep), load_image(shallow))
    assert load_image(deep)[0, 5].tolist() == [255, 255, 255]


def test_formats_beyond_picture_files_are_not_decoded(tmp_path):
    """Pillow handed an EPS upload named .jpg to Ghostscript, where it was installed."""
    eps = tmp_path / "photo.jpg"
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(FacialEmotionError, match="photo.jpg: not a readable picture; pass a"):
        load_image(eps)


def test_a_camera_jpeg_that_pillow_opens_as_mpo_is_read(tmp_path):
    path = tmp_path / "camera.jpg"
    frames = [Image.open(HOPPER).convert("RGB"), Image.open(HOPPER).convert("RGB")]
    frames[0].save(path, format="MPO", save_all=True, append_images=frames[1:])
    assert Image.open(path).format == "MPO"
    assert load_image(path).shape == np.asarray(frames[0]).shape


def test_an_image_without_read_permission_is_not_called_damaged(tmp_path, monkeypatch):
    """It was "damaged or truncated ...; save or copy it again": the wrong cause and fix. (Root
    reads any file, and CI runs as root, so the refusal is raised as the OS would raise it.)"""
    path = tmp_path / "locked.jpg"
    shutil.copy(HOPPER, path)

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Image, "open", refused)
    with pytest.raises(FacialEmotionError) as caught:
        load_image(path)
    assert str(caught.value) == (
        f"{path}: cannot be read (permission denied); give your user read access to it"
    )


def test_load_image_refuses_float_pixels_rather_than_guess_their_range(tmp_path):
    path = tmp_path / "float.tif"
    Image.fromarray(np.full((48, 48), 0.5, np.float32)).save(path)
    with pytest.raises(FacialEmotionError, match=r"float\.tif: 32-bit float pixels .* 16-bit"):
        load_image(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"just some text\n", "not a readable picture"),
        (HOPPER.read_bytes()[:2000], "damaged or truncated"),
    ],
)
def test_load_image_errors_name_the_file(tmp_path, content, message):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(FacialEmotionError, match=rf"photo\.jpg: {message}"):
        load_image(path)


def test_large_photos_read_quietly_and_too_large_ones_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # PIL warns above it, refuses above 2x
    Image.new("L", (40, 40)).save(tmp_path / "large.png")
    Image.new("L", (50, 50)).save(tmp_path / "huge.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_image(tmp_path / "large.png").shape == (40, 40)
    with pytest.raises(FacialEmotionError, match="huge.png: .*over 0 million pixels.*scale it"):
        load_image(tmp_path / "huge.png")
    # its bytes, as a web upload comes: PIL's own DecompressionBombError escaped a service that
    # catches FacialEmotionError
    with pytest.raises(FacialEmotionError, match=r"the image bytes \(\d+ bytes\): .*scale it"):
        as_pixels((tmp_path / "huge.png").read_bytes())


def test_a_model_file_name_keras_cannot_open_is_named(tmp_path):
    upper = tmp_path / "MODEL.KERAS"
    upper.write_bytes(b"PK")
    with pytest.raises(FacialEmotionError, match="MODEL.KERAS: Keras opens only names ending in"):
        EmotionRecognizer(model=upper)
    with pytest.raises(FacialEmotionError, match=f"{tmp_path}: is a folder; pass the model file"):
        EmotionRecognizer(model=tmp_path)


@pytest.mark.parametrize("classes", ["angry", [*EMOTIONS[:6], "angry"], [1, 2, 3, 4, 5, 6, 7]])
def test_a_card_whose_classes_are_not_distinct_names_is_refused(tiny_model_path, tmp_path, classes):
    model = tmp_path / "model.keras"
    shutil.copy(tiny_model_path, model)
    (tmp_path / "model.json").write_text(json.dumps({"classes": classes}))
    with pytest.raises(FacialEmotionError, match="model.json: 'classes' must be a list of disti"):
        EmotionRecognizer(model=model)


def test_a_model_that_does_not_read_48x48_gray_faces_is_refused_when_loaded(tmp_path):
    """It loaded, then failed at its first face with Keras's own error."""
    import keras

    inputs = keras.Input((64, 64, 3))
    outputs = keras.layers.Dense(len(EMOTIONS), activation="softmax")(
        keras.layers.GlobalAveragePooling2D()(inputs)
    )
    path = tmp_path / "rgb64.keras"
    save_keras(keras.Model(inputs, outputs), path, EMOTIONS)
    with pytest.raises(FacialEmotionError, match=r"rgb64.keras: the model reads inputs of shape "):
        EmotionRecognizer(model=path)


def test_a_model_ending_in_logits_is_refused_when_loaded(tmp_path):
    """Its raw outputs were served as probabilities: scores of -3 or 12 without a word."""
    import keras

    inputs = keras.Input((48, 48, 1))
    outputs = keras.layers.Dense(len(EMOTIONS))(keras.layers.Flatten()(inputs))
    path = tmp_path / "logits.keras"
    save_keras(keras.Model(inputs, outputs), path, EMOTIONS)
    with pytest.raises(FacialEmotionError, match=r"logits.keras: the model's outputs are not prob"):
        EmotionRecognizer(model=path)


def test_load_image_missing_file(tmp_path):
    with pytest.raises(FacialEmotionError, match=r"gone\.png: file not found"):
        load_image(tmp_path / "gone.png")


def test_importing_the_package_does_not_load_tensorflow():
    code = (
        "import sys, facial_emotion\n"
        "assert 'tensorflow' not in sys.modules and 'cv2' not in sys.modules\n"
        "import facial_emotion.cli\n"
        "assert 'tensorflow' not in sys.modules\n"
        "assert facial_emotion.EmotionRecognizer.__name__ == 'EmotionRecognizer'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_the_package_lists_what_an_integrator_imports():
    import facial_emotion
    from facial_emotion import Face

    assert {"EmotionRecognizer", "Face", "FacialEmotionError"} <= set(dir(facial_emotion))
    assert Face is facial_emotion.faces.Face
    assert facial_emotion.__version__.count(".") >= 1
    assert (Path(facial_emotion.__file__).parent / "py.typed").is_file()  # for mypy users
    run = subprocess.run(
        [sys.executable, "-m", "facial_emotion", "--version"], capture_output=True, text=True
    )
    assert run.stdout == f"facial-emotion {facial_emotion.__version__}\n"


class ArrayDetector:
    """A detector of one's own giving boxes as OpenCV's do: an (N, 4) array."""

    name = "mine"
    crop_scale = 1.0

    def __init__(self, boxes: list[tuple[int, int, int, int]]) -> None:
        self.found = np.array(boxes, np.int32).reshape(-1, 4)

    def boxes(self, image: np.ndarray) -> np.ndarray:
        return self.found


def test_a_detector_of_ones_own_may_give_an_array_and_boxes_with_no_face_are_dropped(
    tiny_model_path,
):
    """OpenCV's detectMultiScale gives an ndarray, whose truth value numpy refuses: a raw
    ValueError; a box of no area or off the picture was read as an emotion all the same."""
    (face,) = EmotionRecognizer(tiny_model_path, ArrayDetector([(149, 101, 229, 229)])).detect(
        HOPPER
    )
    assert face.box == (149, 101, 229, 229)
    nothing = [(10, 10, 0, 0), (300, 300, -50, -50), (5000, 5000, 100, 100)]
    assert EmotionRecognizer(tiny_model_path, ArrayDetector(nothing)).detect(HOPPER) == []
    assert EmotionRecognizer(tiny_model_path, ArrayDetector([])).detect(HOPPER) == []

    class ThreeNumbers(ArrayDetector):
        def boxes(self, image: np.ndarray) -> list[tuple[int, int, int]]:
            return [(1, 2, 3)]

    with pytest.raises(FacialEmotionError, match=r"detector mine: boxes\(\) gave \[\(1, 2, 3\)\]"):
        EmotionRecognizer(tiny_model_path, ThreeNumbers([])).detect(HOPPER)

    class Relative(ArrayDetector):
        def __init__(self, found: list[tuple[float, ...]]) -> None:
            self.relative = found  # as some detectors give them: fractions of the size

        def boxes(self, image: np.ndarray) -> list[tuple[float, ...]]:
            return self.relative

    # the second, alone, starts a little past the left edge: a face touching it
    for found in ([(0.29, 0.2, 0.45, 0.45)], [(-0.02, 0.1, 0.5, 0.6)]):
        with pytest.raises(FacialEmotionError, match=r"sides within 0\.\.1 .*; return pixels"):
            EmotionRecognizer(tiny_model_path, Relative(found)).detect(HOPPER)

    class NoScale:
        def boxes(self, image: np.ndarray) -> list:
            return []

    with pytest.raises(FacialEmotionError, match="a boxes\\(image\\) method and a crop_scale"):
        EmotionRecognizer(tiny_model_path, NoScale())


def test_a_pil_image_that_cannot_be_decoded_is_one_clear_error(recognizer, tmp_path):
    """PIL decodes lazily: a truncated upload opened with Image.open raised a raw OSError, a
    closed image a bare AssertionError (a web service's 500)."""
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(HOPPER.read_bytes()[:5000])
    with pytest.raises(FacialEmotionError, match="the PIL image: damaged, truncated or already"):
        recognizer.detect(Image.open(cut))
    with Image.open(HOPPER) as closed:
        pass
    with pytest.raises(FacialEmotionError, match="the PIL image: damaged, truncated or already"):
        recognizer.detect(closed)
    premultiplied = Image.open(HOPPER).convert("RGBA").convert("La")
    assert [f.box for f in recognizer.detect(premultiplied)] == [
        f.box for f in recognizer.detect(HOPPER)
    ]


def test_rgba_pixels_read_as_the_same_transparent_png_does(recognizer, tmp_path):
    """An (H, W, 4) array's alpha was dropped: a face cut out of its background read over the
    black its transparent pixels held (happy 0.31, another box) where the PNG read 0.27 over
    white. Now RGBA of each pixel type reads as the file; a gray HxWx1 reads as HxW."""
    face = np.asarray(Image.open(HOPPER).convert("RGB").crop((100, 60, 420, 380)))
    rgba = np.dstack([face, np.zeros(face.shape[:2], np.uint8)])
    rgba[40:280, 60:260, 3] = 255  # the face opaque; around it transparent, black under it
    rgba[rgba[..., 3] == 0, :3] = 0
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cut.png")
    as_file = [f.to_dict() for f in recognizer.detect(tmp_path / "cut.png")]
    assert as_file
    for pixels in (rgba, rgba.astype(np.uint16) * 257, rgba.astype(np.float32) / 255):
        assert [f.to_dict() for f in recognizer.detect(pixels)] == as_file, pixels.dtype
    gray = face.mean(axis=2).astype(np.uint8)
    assert recognizer.detect(gray[..., None]) == recognizer.detect(gray)
    for channels in (2, 5):  # gray with alpha, or no picture: one line, not a traceback
        with pytest.raises(FacialEmotionError, match=r"is not a picture; pass HxW gray or"):
            recognizer.detect(np.zeros((50, 50, channels), np.uint8))


def test_a_url_or_base64_text_is_named_as_such_in_a_short_line(recognizer):
    b64 = base64.b64encode(HOPPER.read_bytes()).decode()
    for text in (b64, "data:image/jpeg;base64," + b64, "https://example.com/a.jpg"):
        with pytest.raises(
            FacialEmotionError, match="is not a file path: URLs are not fetched"
        ) as e:
            recognizer.detect(text)
        assert len(str(e.value)) < 300
    assert recognizer.detect(base64.b64decode(b64))  # the bytes, as the message says


def test_classify_stretches_a_dim_crop_as_every_other_path_does(recognizer):
    crop = np.asarray(Image.open(HOPPER).convert("L").crop((149, 101, 378, 330)).resize((48, 48)))
    dim = (crop // 4).astype(np.uint8)
    np.testing.assert_allclose(
        recognizer.classify(dim[None]), recognizer.classify(crop[None]), atol=0.02
    )
    np.testing.assert_allclose(
        recognizer.classify(dim[None])[0],
        list(recognizer.read_crops([dim])[0].probabilities.values()),
        atol=1e-5,
    )


def test_batch_errors_name_the_image_and_paths_may_come_as_an_array(recognizer):
    with pytest.raises(FacialEmotionError, match=r"^image 1 of 3: the image bytes \(2 bytes\)"):
        recognizer.detect_batch([HOPPER, b"xx", HOPPER])
    paths = np.array([str(HOPPER), str(HOPPER)])  # as pandas hands a column over
    assert [len(faces) for faces in recognizer.detect_batch(paths)] == [1, 1]
    with pytest.raises(
        FacialEmotionError, match="detect_batch takes a list of images; got NoneType"
    ):
        recognizer.detect_batch(None)


def test_a_batch_can_give_each_unreadable_image_its_error_in_its_place(recognizer, tmp_path):
    """One bad file of a library's thousands lost the faces of every other: the batch raised."""
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"not a picture")
    images = [HOPPER, empty, np.full((200, 300), 127, np.uint8), garbage, str(HOPPER)]
    with pytest.raises(FacialEmotionError, match="^image 1 of 5: .*empty.jpg: empty file"):
        recognizer.detect_batch(images)  # the default: stop at the first
    found = recognizer.detect_batch(images, errors="return")
    assert [type(item).__name__ for item in found] == [
        "list",
        "FacialEmotionError",
        "list",
        "FacialEmotionError",
        "list",
    ]
    assert str(found[1]) == f"{empty}: empty file (0 bytes); remove or replace the file"
    assert str(found[3]).startswith(f"{garbage}: not a readable picture")
    alone_faces = recognizer.detect(HOPPER)
    for faces in (found[0], found[4]):  # a batch's sums may round otherwise (AVX2: 7th digit)
        assert [face.box for face in faces] == [face.box for face in alone_faces]
        assert [face.probabilities for face in faces] == [
            pytest.approx(face.probabilities, abs=1e-5) for face in alone_faces
        ]
    assert found[2] == []
    (alone,) = recognizer.detect_batch([empty], errors="return")
    assert str(alone) == str(found[1])
    with pytest.raises(FacialEmotionError, match=r"^errors='skip': pass 'raise' .* or 'return'"):
        recognizer.detect_batch(images, errors="skip")


def test_a_crop_too_small_to_hold_a_face_is_refused(recognizer):
    with pytest.raises(FacialEmotionError, match=r"crop 0 \(2x2\) is too small to hold a face"):
        recognizer.read_crops([np.array([[0, 255], [255, 0]], np.uint8)])


def test_a_recognizer_pickles_for_process_pools(recognizer):
    """Spawned worker processes (macOS, Windows) receive it pickled: "cannot pickle
    '_thread._local' object" stopped them."""
    again = pickle.loads(pickle.dumps(recognizer))
    assert again.model_path == recognizer.model_path
    assert again.detect(HOPPER) == recognizer.detect(HOPPER)


def test_detector_options_a_detector_does_not_take_are_one_line():
    with pytest.raises(FacialEmotionError, match="haar: takes the options max_side, scale_factor"):
        make_detector("haar", max_size=100)
    with pytest.raises(FacialEmotionError, match="max_side must be a whole number of pixels, 48"):
        make_detector("haar", max_side=0)
    with pytest.raises(FacialEmotionError, match="scale_factor must be above 1, got 1.0"):
        make_detector("haar", scale_factor=1.0)
    with pytest.raises(FacialEmotionError, match="haar: .*; pass numbers for scale_factor"):
        make_detector("haar", scale_factor="1.2")
    assert make_detector("haar", max_side=np.int64(640)).max_side == 640  # from numpy, as is


def test_a_keras_model_can_be_served_in_float32_as_evaluate_scores_it(tiny_model_path):
    rec = EmotionRecognizer(tiny_model_path, precision="float32")
    assert rec.backend.precision == "float32"
    assert pickle.loads(pickle.dumps(rec)).backend.precision == "float32"
    with pytest.raises(FacialEmotionError, match="precision 'fp16': choose auto"):
        EmotionRecognizer(tiny_model_path, precision="fp16")
    # the default model is the int8 export, which float32 would have left int8 without a word
    with pytest.raises(FacialEmotionError, match=r"int8.tflite is a TensorFlow Lite model, which"):
        EmotionRecognizer(precision="float32")


class Wider(HaarDetector):
    """A Haar detector framing faces more loosely, as a user might subclass it."""

    crop_scale = 1.3


def test_a_custom_detector_pickles_with_its_own_settings(tiny_model_path):
    """Rebuilt from fixed settings, a subclass or an instance's own crop_scale came back as the
    stock Haar detector."""
    detector = Wider(max_side=640)
    detector.min_neighbors = 6
    again = pickle.loads(pickle.dumps(EmotionRecognizer(tiny_model_path, detector))).detector
    assert type(again).__name__ == "Wider" and again.crop_scale == 1.3
    assert (again.max_side, again.min_neighbors) == (640, 6)
    assert again.boxes(np.asarray(load_image(HOPPER)))  # its cascade is loaded again


def test_a_service_caps_the_pixels_one_request_may_cost(tiny_model_path, tmp_path):
    """Bytes and open files had no cap short of Pillow's 179 million pixels, each decoded whole
    (537 MB of RGB) before the face search began."""
    capped = EmotionRecognizer(tiny_model_path, max_pixels=300_000)  # Hopper is 512x600
    content = HOPPER.read_bytes()
    with HOPPER.open("rb") as opened:
        for image, name in (
            (HOPPER, "grace_hopper.jpg"),
            (content, rf"the image bytes \({len(content)} bytes\)"),
            (opened, "grace_hopper.jpg"),
            (Image.open(HOPPER), "the PIL image"),
            (np.asarray(Image.open(HOPPER)), "the pixels"),
        ):
            with pytest.raises(FacialEmotionError, match=rf"{name}: 512x600 is more than the 0.3 "):
                capped.detect(image)
    assert pickle.loads(pickle.dumps(capped)).max_pixels == 300_000  # a process pool keeps it
    roomy = EmotionRecognizer(tiny_model_path, max_pixels=307_200)
    assert len(roomy.detect(content)) == 1
    with pytest.raises(FacialEmotionError, match="max_pixels 0: pass a whole number of pixels"):
        EmotionRecognizer(tiny_model_path, max_pixels=0)


def test_min_confidence_names_a_face_under_it_uncertain_and_keeps_its_probabilities(
    tiny_model_path,
):
    """An app that must abstain on a near-guess had no way to: every face got an emotion."""
    (plain,) = EmotionRecognizer(tiny_model_path).detect(HOPPER)
    (at_score,) = EmotionRecognizer(tiny_model_path, min_confidence=plain.score).detect(HOPPER)
    assert at_score == plain  # a score at the threshold is kept
    above = EmotionRecognizer(tiny_model_path, min_confidence=min(1.0, plain.score + 1e-3))
    (unsure,) = above.detect(HOPPER)
    assert unsure.emotion == "uncertain"
    assert (unsure.score, unsure.probabilities, unsure.box) == (
        plain.score,
        plain.probabilities,
        plain.box,
    )
    pixels = np.asarray(Image.open(HOPPER).convert("L"))[100:330, 150:380]
    (plain_crop,) = EmotionRecognizer(tiny_model_path).read_crops([pixels])
    strict = EmotionRecognizer(tiny_model_path, min_confidence=min(1.0, plain_crop.score + 1e-3))
    (crop,) = strict.read_crops([pixels])  # crops read whole are judged too
    assert (crop.emotion, crop.score) == ("uncertain", plain_crop.score)
    assert pickle.loads(pickle.dumps(above)).min_confidence == above.min_confidence


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), "0.5", True])
def test_min_confidence_must_be_a_probability(tiny_model_path, value):
    with pytest.raises(FacialEmotionError, match=r"min_confidence .*: pass a probability from 0"):
        EmotionRecognizer(tiny_model_path, min_confidence=value)


def test_min_confidence_may_be_a_numpy_number(tiny_model_path):
    """A threshold read from a NumPy array or a pandas table (np.float32(0.5), np.int64(1)) was
    refused as "not a probability from 0 to 1"."""
    for value in (np.float32(0.5), np.int64(1)):
        recognizer = EmotionRecognizer(tiny_model_path, min_confidence=value)
        assert recognizer.min_confidence == float(value)
        assert type(recognizer.min_confidence) is float  # JSON writes it, as predict's meta does
    with pytest.raises(FacialEmotionError, match=r"min_confidence .*: pass a probability from 0"):
        EmotionRecognizer(tiny_model_path, min_confidence=np.bool_(True))
