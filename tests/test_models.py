"""Every registered architecture is a valid model in the project's input/output contract."""

import re
from pathlib import Path

import numpy as np
import pytest

from facial_emotion import models
from facial_emotion.errors import FacialEmotionError


@pytest.mark.parametrize("name", sorted(models.ARCHITECTURES))
def test_architecture_maps_raw_faces_to_probabilities(name: str) -> None:
    model = models.build(name, 8)
    faces = np.random.default_rng(0).uniform(0, 255, (3, 48, 48, 1)).astype(np.float32)
    probs = np.asarray(model(faces, training=False))
    assert probs.shape == (3, 8)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(models.ARCHITECTURES))
def test_architecture_is_named_as_registered(name: str) -> None:
    """The error for a mismatched train.init_weights names the model by its Keras name."""
    assert models.build(name, 3).name == name


def test_every_architecture_is_documented() -> None:
    """models.ARCHITECTURES is the one list the code reads; a new one must also be named where
    users choose: params.yaml's train.architecture comment and the README's list."""
    repo = Path(__file__).resolve().parents[1]
    params = (repo / "params.yaml").read_text(encoding="utf-8")
    comment = params.partition("# architecture:")[2].partition("\n  architecture:")[0]
    readme = (repo / "README.md").read_text(encoding="utf-8")
    for name in models.ARCHITECTURES:
        assert re.search(rf"\b{name}\b", comment), f"params.yaml: add {name} to # architecture:"
        assert f"`{name}`" in readme, f"README.md: say what `{name}` is under Train on real data"


def test_flat_head_differs_from_vgg_wide_late_only_after_the_convolutions() -> None:
    """The two are compared on FER2013 as a head ablation, so their convolutions must match."""
    gap, flat = models.build("vgg_wide_late", 7), models.build("vgg_wide_late_flat", 7)

    def conv_shapes(model):
        return [w.shape for layer in model.layers if "conv" in layer.name for w in layer.weights]

    assert conv_shapes(flat) == conv_shapes(gap)
    assert flat.get_layer("fc").kernel.shape == (3 * 3 * 384, 256)
    assert gap.get_layer("fc").kernel.shape == (384, 256)


def test_bfloat16_model_converts_to_same_float32_predictions() -> None:
    mixed = models.build("sepnet", 7, precision="mixed_bfloat16")
    assert mixed.layers[-2].compute_dtype == "bfloat16"
    plain = models.as_float32(mixed, "sepnet", 7)
    assert all(layer.compute_dtype == "float32" for layer in plain.layers)
    faces = np.random.default_rng(1).uniform(0, 255, (4, 48, 48, 1)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(mixed(faces)), np.asarray(plain(faces)), atol=0.05)


def test_unknown_architecture_names_the_choices() -> None:
    with pytest.raises(FacialEmotionError, match="unknown train.architecture 'resnet9000'; choose"):
        models.build("resnet9000", 7)


def test_bfloat16_is_chosen_only_on_cpus_measured_faster_in_it(tmp_path) -> None:
    """precision auto trains in mixed bfloat16 only where it was measured faster: with AMX, and
    with AMD's AVX512-BF16; an Intel Xeon listing avx512_bf16 without AMX trained at 0.6-0.8x
    the speed of float32, and elsewhere bfloat16 is emulated."""
    cpus = {
        ("GenuineIntel", "avx512_bf16 amx_bf16 amx_tile"): True,
        ("AuthenticAMD", "avx512f avx512_bf16"): True,
        ("GenuineIntel", "avx512f avx512_bf16 avx512_fp16"): False,
        ("GenuineIntel", "avx512f avx512_vnni"): False,
        ("AuthenticAMD", "avx2"): False,
    }
    for (vendor, listed), chosen in cpus.items():
        cpuinfo = tmp_path / "cpuinfo"
        cpuinfo.write_text(
            f"processor\t: 0\nvendor_id\t: {vendor}\nflags\t\t: fpu sse2 {listed} xsave\n\n",
            encoding="utf-8",
        )
        assert models.cpu_prefers_bfloat16(cpuinfo) is chosen, (vendor, listed)
    assert models.cpu_prefers_bfloat16(tmp_path / "none") is False  # macOS, Windows


def test_a_bad_precision_is_rejected() -> None:
    with pytest.raises(FacialEmotionError, match="train.precision"):
        models.resolve_precision("float8")


def _members() -> list:
    import keras

    keras.utils.set_random_seed(2)
    return [models.build("tiny", 7) for _ in range(2)]


def test_ensemble_averages_its_members_and_round_trips_through_every_backend(
    tmp_path: Path,
) -> None:
    from facial_emotion.backends import load_backend
    from facial_emotion.export import tflite_bytes
    from facial_emotion.labels import EMOTIONS
    from facial_emotion.modelfile import save_keras

    members = _members()
    faces = np.random.default_rng(3).uniform(0, 255, (5, 48, 48, 1)).astype(np.float32)
    expected = (np.asarray(members[0](faces)) + np.asarray(members[1](faces))) / 2
    assert not np.allclose(np.asarray(members[0](faces)), np.asarray(members[1](faces)))
    ensemble = models.ensemble(members)
    assert [m.name for m in models.members_of(ensemble)] == ["member_1", "member_2"]
    np.testing.assert_allclose(ensemble.predict_on_batch(faces), expected, atol=1e-6)

    save_keras(ensemble, tmp_path / "ensemble.keras", EMOTIONS)
    np.testing.assert_allclose(
        load_backend(tmp_path / "ensemble.keras", "float32").predict(faces), expected, atol=1e-6
    )
    bf16 = load_backend(tmp_path / "ensemble.keras", "mixed_bfloat16").predict(faces)
    np.testing.assert_allclose(bf16, expected, atol=0.02)
    (tmp_path / "ensemble.tflite").write_bytes(tflite_bytes(ensemble))
    tflite = load_backend(tmp_path / "ensemble.tflite").predict(faces)
    np.testing.assert_allclose(tflite, expected, atol=1e-5)


def test_one_member_is_no_ensemble() -> None:
    member = _members()[0]
    assert models.ensemble([member]) is member
    assert models.members_of(member) == [member]


def test_saved_models_are_compressed_and_load_unchanged(tmp_path: Path) -> None:
    """The 20 MB package-data limit holds a two-model ensemble only because of this."""
    import zipfile

    import keras

    from facial_emotion.labels import EMOTIONS
    from facial_emotion.modelfile import save_keras

    model = models.build("baseline", 7)
    keras_own, ours = tmp_path / "plain.keras", tmp_path / "ours.keras"
    model.save(keras_own)
    save_keras(model, ours, EMOTIONS)
    assert ours.stat().st_size < keras_own.stat().st_size
    with zipfile.ZipFile(ours) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    faces = np.random.default_rng(4).uniform(0, 255, (3, 48, 48, 1)).astype(np.float32)
    loaded = keras.models.load_model(ours)
    np.testing.assert_array_equal(loaded.predict_on_batch(faces), model.predict_on_batch(faces))
