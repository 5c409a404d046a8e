"""Every registered architecture is a valid model in the project's input/output contract."""

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


def test_precision_auto_resolves_and_bad_value_is_rejected() -> None:
    assert models.resolve_precision("auto") in ("float32", "mixed_bfloat16")
    with pytest.raises(FacialEmotionError, match="train.precision"):
        models.resolve_precision("float8")
