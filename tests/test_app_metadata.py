"""Stripping an upload's metadata where Gradio keeps it, format by format, read back by Pillow.

Each picture carries a camera serial, a maker, XMP naming a person, GPS or comments as the format
allows; once stripped, none of them is in its bytes, and it reads as the same pixels, the same
way up. The app's own handler is driven with them in test_app.py.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image, ImageSequence, TiffImagePlugin

from facial_emotion.app_metadata import strip_jpeg, strip_metadata
from facial_emotion.predict import load_image

PERSONAL = (b"SERIAL-123456", b"Jane Doe", b"MAKER-CAM")
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">Jane Doe</x:xmpmeta>!'  # odd: a padded WebP chunk


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def camera_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "MAKER-CAM"
    exif.get_ifd(0x8769)[0xA431] = "SERIAL-123456"
    exif.get_ifd(0x8825).update({1: "N", 2: (51.0, 30.0, 0.0)})
    return exif


def stripped(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The app's reading of ``path`` before and after stripping it, which must change it."""
    before, data = load_image(path), path.read_bytes()
    assert [mark for mark in PERSONAL if mark in data]  # the picture carried some
    assert strip_metadata(path, before)
    kept = path.read_bytes()
    assert [mark for mark in PERSONAL if mark in kept] == []
    return before, load_image(path)


@pytest.mark.parametrize("lossless", [False, True])
def test_a_webp_keeps_its_image_data_and_orientation_alone(
    photo: Image.Image, tmp_path: Path, lossless: bool
) -> None:
    """Kept as sent with its EXIF and XMP: the VP8/VP8L data is copied, not encoded again, so a
    lossy WebP's preview is the same."""
    sent = tmp_path / "jane.webp"
    photo.save(sent, exif=camera_exif(), xmp=XMP, lossless=lossless, quality=80)
    image_data = webp_chunk(sent.read_bytes(), b"VP8L" if lossless else b"VP8 ")
    before, after = stripped(sent)
    assert np.array_equal(before, after) and before.shape[:2] == (512, 600)  # turned
    with Image.open(sent) as kept:
        assert dict(kept.getexif()) == {0x0112: 6} and "xmp" not in kept.info
    assert webp_chunk(sent.read_bytes(), b"VP8L" if lossless else b"VP8 ") == image_data


def webp_chunk(data: bytes, kind: bytes) -> bytes:
    at = data.index(kind)
    return data[at : at + 8 + struct.unpack("<I", data[at + 4 : at + 8])[0]]


def test_an_animated_webp_keeps_its_frames(photo: Image.Image, tmp_path: Path) -> None:
    sent = tmp_path / "jane.webp"
    frames = [photo, photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    frames[0].save(sent, save_all=True, append_images=frames[1:], exif=camera_exif(1), xmp=XMP)
    stripped(sent)
    with Image.open(sent) as kept:
        assert kept.n_frames == 2 and dict(kept.getexif()) == {} and "xmp" not in kept.info


def test_a_gif_keeps_its_frames_and_loop_without_comments_or_xmp(
    photo: Image.Image, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    frames = [photo, photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    frames[0].save(
        buffer, "GIF", save_all=True, append_images=frames[1:], loop=0, comment=b"Jane Doe"
    )
    xmp = b"\x21\xff\x0bXMP DataXMP" + bytes((len(XMP),)) + XMP + b"\x00"
    text = b"\x21\x01\x0c" + bytes(12) + b"\x0dSERIAL-123456\x00"  # a plain-text extension
    sent = tmp_path / "jane.gif"
    sent.write_bytes(buffer.getvalue()[:-1] + xmp + text + b";MAKER-CAM after the end")
    frames_sent = frames_of(sent)
    stripped(sent)
    assert all(map(np.array_equal, frames_of(sent), frames_sent)) and len(frames_sent) == 2
    with Image.open(sent) as kept:
        assert "comment" not in kept.info and kept.info["loop"] == 0


def frames_of(path: Path) -> list[np.ndarray]:
    with Image.open(path) as picture:
        return [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(picture)]


def tiff_tags() -> TiffImagePlugin.ImageFileDirectory_v2:
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[271] = "MAKER-CAM"  # Make
    tags[274] = 6
    tags[315] = "Jane Doe"  # Artist
    tags[700] = XMP
    tags[34665] = {0xA431: "SERIAL-123456"}
    tags[34853] = {1: "N", 2: (51.0, 30.0, 0.0)}
    return tags


@pytest.mark.parametrize("kind", ["EXIF and GPS", "LZW", "pages", "BigTIFF", "16-bit big-endian"])
def test_a_tiff_keeps_the_tags_that_draw_its_first_page(
    photo: Image.Image, tmp_path: Path, kind: str
) -> None:
    """A page Pillow wrote after the first named its EXIF directory wrongly: the serial stayed
    in bytes no directory named, so every byte the first page does not need is blanked."""
    sent = tmp_path / "jane.tif"
    if kind == "pages":
        small = photo.crop((0, 0, 64, 64))
        photo.save(sent, save_all=True, append_images=[small], tiffinfo=tiff_tags())
    elif kind in ("LZW", "BigTIFF"):  # tags libtiff writes: no EXIF or GPS directories
        plain = {271: "MAKER-CAM", 315: "Jane Doe", 274: 6}
        big = kind == "BigTIFF"  # written by Pillow itself: libtiff wrote a classic TIFF
        photo.save(sent, tiffinfo=plain, compression=None if big else "tiff_lzw", big_tiff=big)
    elif kind == "16-bit big-endian":
        deep = np.asarray(photo.convert("L"), np.uint16).astype(">u2") * 257
        tags = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"MM")
        tags.update({271: "MAKER-CAM", 274: 6, 34665: {0xA431: "SERIAL-123456"}})
        Image.frombytes("I;16B", photo.size, deep.tobytes()).save(sent, tiffinfo=tags)
    else:
        photo.save(sent, tiffinfo=tiff_tags())
    assert (sent.read_bytes()[2:4] in (b"+\x00", b"\x00+")) == (kind == "BigTIFF")
    before, after = stripped(sent)
    assert np.array_equal(before, after) and before.shape[:2] == (512, 600)
    with Image.open(sent) as kept:
        tags = kept.getexif()
        assert tags[0x0112] == 6 and not {271, 315, 700, 34665, 34853} & set(tags)
        assert getattr(kept, "n_frames", 1) == 1


def test_a_tiff_whose_byte_counts_are_wrong_still_reads_once_stripped(
    photo: Image.Image, tmp_path: Path
) -> None:
    """A strip byte count of 0, which libtiff forgives (it recomputes it): the app read the
    picture, and stripping by that count blanked its pixels, so the file the page's preview is
    served from read as truncated. It is left as sent."""
    sent = tmp_path / "jane.tif"
    photo.crop((0, 0, 64, 48)).save(sent, tiffinfo=tiff_tags())
    data = bytearray(sent.read_bytes())
    with Image.open(sent) as tiff:
        counts = tiff.tag_v2[279]
    counts = counts if isinstance(counts, tuple) else (counts,)
    at = data.index(struct.pack("<HHI", 279, 4, len(counts)))  # StripByteCounts, LONG
    where = at + 8 if len(counts) == 1 else struct.unpack_from("<I", data, at + 8)[0]
    struct.pack_into(f"<{len(counts)}I", data, where, *(0 for _ in counts))
    sent.write_bytes(data)
    before = load_image(sent)
    strip_metadata(sent, before)
    assert np.array_equal(load_image(sent), before)


def test_a_jpeg_2000_keeps_its_codestream_without_xml_or_uuid_boxes(
    photo: Image.Image, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG2000")
    data = buffer.getvalue()
    at = data.index(b"jp2c") - 4
    uuid = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC") + XMP  # XMP's UUID
    boxes = struct.pack(">I4s", 8 + len(XMP), b"xml ") + XMP
    boxes += struct.pack(">I4s", 8 + len(uuid), b"uuid") + uuid
    sent = tmp_path / "jane.jp2"
    sent.write_bytes(data[:at] + boxes + data[at:])
    before, after = stripped(sent)
    assert np.array_equal(before, after) and sent.read_bytes() == data


@pytest.mark.parametrize("suffix", [".bmp", ".ppm"])
def test_formats_without_metadata_fields_are_left_as_they_are(
    photo: Image.Image, tmp_path: Path, suffix: str
) -> None:
    sent = tmp_path / f"photo{suffix}"
    photo.save(sent)
    data = sent.read_bytes()
    assert not strip_metadata(sent, load_image(sent)) and sent.read_bytes() == data


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


@pytest.mark.parametrize("jfif", [True, False])
def test_a_jpeg_keeps_its_coded_bytes_and_orientation_alone_byte_for_byte(
    photo: Image.Image, jfif: bool
) -> None:
    """The walk keeps JFIF, the colour profile and every coding segment and scan as they are,
    restart markers and stuffed bytes included; drops EXIF, XMP, comments, other APPn, fill
    bytes and what follows the end of image; and writes the first EXIF block's orientation
    back, after JFIF's APP0 where there is one (it must come first)."""
    coded = io.BytesIO()  # from the pixels alone: the photo's own comment would be dropped too
    Image.fromarray(np.asarray(photo)).save(coded, "JPEG", restart_marker_blocks=1)
    plain = coded.getvalue()
    app0 = plain[2 : 4 + struct.unpack(">H", plain[4:6])[0]]
    assert app0[:2] == b"\xff\xe0" and b"\xff\xd0" in plain  # JFIF first; a restart marker
    rest = plain[2 + len(app0) :]  # tables, frame, scan and end of image
    icc = _segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + b"profile")
    sent = b"".join(
        [
            b"\xff\xd8",
            app0 if jfif else b"",
            _segment(0xE1, b"Exif\x00\x00" + camera_exif(6).tobytes()),
            _segment(0xE1, b"Exif\x00\x00" + camera_exif(3).tobytes()),  # not the one read
            _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP),
            icc,
            _segment(0xFE, b"Jane Doe"),
            _segment(0xE5, b"MAKER-CAM notes"),
            b"\xff\xff",  # fill bytes before a marker
            rest,
            b"a motion photo's video SERIAL-123456",
        ]
    )
    orientation = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00"
    exif = _segment(0xE1, orientation + b"\x06\x00\x00\x00\x00\x00\x00\x00")
    kept = [app0, exif] if jfif else [exif]
    assert strip_jpeg(sent) == b"".join([b"\xff\xd8", *kept, icc, rest])


@pytest.mark.parametrize(
    "cut", [lambda d: d[:-40], lambda d: d[:-2], lambda d: d[:3], lambda d: d[:1] + d[2:]]
)
def test_a_jpeg_the_walk_loses_its_way_in_is_left_alone(photo: Image.Image, cut) -> None:
    """A cut scan, a missing end of image, a cut marker or a start that is no JPEG's: None,
    so strip_metadata leaves the file as it is rather than write a broken copy."""
    coded = io.BytesIO()
    photo.convert("RGB").save(coded, "JPEG")
    assert strip_jpeg(coded.getvalue()) is not None
    assert strip_jpeg(cut(coded.getvalue())) is None
