"""examples/litert_standalone.py, the model card's "On a device" recipe without the package,
reads faces as `predict` does: the same boxes and the same probabilities. A port written from
the card's words alone missed faces cropped tight and moved boxes in large photos."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import matplotlib.cbook
import numpy as np
import pytest

from facial_emotion import EmotionRecognizer
from facial_emotion.data.prepared import full_range
from facial_emotion.faces import crop_face

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "litert_standalone.py"
SHIPPED = ROOT / "src" / "facial_emotion" / "weights" / "fer2013.int8.tflite"
HOPPER = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def example_module() -> dict:
    """The example's functions, without running its command line."""
    namespace: dict = {"__name__": "litert_standalone"}
    exec(compile(EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE), "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Lossless photos of one face, each taking another branch of the recipe."""
    bgr = cv2.imread(str(HOPPER))
    tight = bgr[130:310, 170:355]  # found only in the second search, inside a border
    variants = {
        "photo": bgr,
        "mirrored": bgr[:, ::-1],
        "dim": (bgr * 0.3).astype(np.uint8),  # stretched: rounding half to even matters
        "large": cv2.resize(bgr, None, fx=3, fy=3),  # searched on a 1024 px copy
        "tight": tight,
        "tight_large": cv2.resize(tight, None, fx=8, fy=8),  # a close-up shrunk to the 1024 px copy
        "crop48": cv2.resize(cv2.cvtColor(tight, cv2.COLOR_BGR2GRAY), (48, 48)),  # read whole
    }
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for name, pixels in variants.items():
        path = folder / f"{name}.png"
        cv2.imwrite(str(path), np.ascontiguousarray(pixels))
        paths.append(path)
    return paths


def test_the_example_reads_photos_as_predict_does_without_the_package(photos: list[Path]) -> None:
    # facial_emotion made unimportable: the example must stand alone
    code = (
        "import runpy, sys; sys.modules['facial_emotion'] = None; "
        f"sys.argv = ['x', *sys.argv[1:]]; runpy.run_path({str(EXAMPLE)!r}, run_name='__main__')"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(SHIPPED), *map(str, photos)],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    expected = EmotionRecognizer().detect_batch(photos)
    assert [line["file"] for line in lines] == [str(p) for p in photos]
    assert all(expected), "a photo where neither finds a face compares nothing"
    for line, faces in zip(lines, expected, strict=True):
        assert [f["box"] for f in line["faces"]] == [list(f.box) for f in faces], line["file"]
        for got, want in zip(line["faces"], faces, strict=True):
            assert got["emotion"] == want.emotion
            got_p = [got["probabilities"][c] for c in want.probabilities]
            np.testing.assert_allclose(got_p, list(want.probabilities.values()), atol=1e-6)


def test_the_example_stretches_every_range_as_training_did(rng: np.random.Generator) -> None:
    stretch = example_module()["stretch"]
    for spread in range(1, 256):  # every range a crop can span, each value in it
        low = int(rng.integers(0, 256 - spread))
        face = (low + np.arange(48 * 48) % (spread + 1)).reshape(48, 48).astype(np.uint8)
        np.testing.assert_array_equal(stretch(face), full_range(face), err_msg=f"{spread}")
    assert stretch(np.full((48, 48), 7, np.uint8)) is None


def test_the_example_crops_as_the_package_does(rng: np.random.Generator) -> None:
    crop = example_module()["crop"]
    gray = rng.integers(0, 256, (90, 120), dtype=np.uint8)
    for _ in range(200):  # boxes inside, across the edges and larger than the photo
        w = int(rng.integers(10, 150))
        box = (
            int(rng.integers(-40, 120)),
            int(rng.integers(-40, 90)),
            w,
            w + int(rng.integers(-3, 4)),
        )
        for scale in (1.0, 1.02):
            np.testing.assert_array_equal(crop(gray, box, scale), crop_face(gray, box, scale))


def test_the_example_reads_a_card_beside_the_model_as_utf8(tmp_path: Path) -> None:
    """An export older than the card inside the model has it beside, as JSON (UTF-8): read in
    the locale's encoding, Windows' cp1252, a class named "colère" came out as "colÃ¨re". The
    locale's encoding is an error here, as -X warn_default_encoding tells where it was used."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(SHIPPED.read_bytes()), 0)
    model.metadata = [m for m in model.metadata if m.name != b"facial_emotion.card"]
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    older = tmp_path / "older.tflite"
    older.write_bytes(bytes(builder.Output()))
    classes = ["colère", "dégoût", "peur", "joie", "tristesse", "surprise", "neutre"]
    card = json.dumps({"classes": classes}, ensure_ascii=False)
    older.with_suffix(".json").write_text(card, encoding="utf-8")
    code = (
        "import json, sys, warnings\n"
        "warnings.filterwarnings('error', category=EncodingWarning, module='litert_standalone')\n"
        "namespace = {'__name__': 'litert_standalone'}\n"
        f"source = open({str(EXAMPLE)!r}, encoding='utf-8').read()\n"
        "exec(compile(source, 'example', 'exec'), namespace)\n"
        "print(json.dumps(namespace['classes_for'](namespace['Path'](sys.argv[1]))))\n"
    )
    run = subprocess.run(
        [sys.executable, "-X", "warn_default_encoding", "-c", code, str(older)],
        capture_output=True,
        encoding="utf-8",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout) == classes
