"""Errors and warnings about data a run cannot use name it in words: a missing source or path
read "None: the 'val' split has no samples", "holds None data" and "(only in )"."""

from pathlib import Path

import numpy as np
import pytest

from facial_emotion.data.prepared import LabelledImages, PreparedData, require_samples
from facial_emotion.errors import FacialEmotionError
from facial_emotion.prepare import require_training_faces
from facial_emotion.stages import other_data


def _split(labels: list[int]) -> LabelledImages:
    return LabelledImages(np.zeros((len(labels), 48, 48), np.uint8), np.array(labels, np.int64))


def _data(source: dict[str, object], val: list[int]) -> PreparedData:
    return PreparedData(("happy", "sad"), {"train": _split([0, 1]), "val": _split(val)}, source)


def test_an_empty_split_of_generated_data_says_to_generate_more() -> None:
    with pytest.raises(FacialEmotionError) as stop:
        require_samples(_data({"name": "synthetic", "path": None}, []))
    assert str(stop.value) == (
        "the embedded synthetic data: the 'val' split has no samples; raise data.synthetic_samples"
    )


def test_an_empty_split_of_data_on_disk_names_its_path() -> None:
    with pytest.raises(FacialEmotionError, match=r"^/faces: the 'val' split has no samples; add"):
        require_samples(_data({"name": "folder", "path": "/faces"}, []))
    with pytest.raises(FacialEmotionError, match=r"^the data: the 'val' split has no samples"):
        require_samples(_data({}, []))


def test_prepared_data_that_records_no_source_is_called_so() -> None:
    said = other_data(Path("models/model.keras"), {"name": "fer2013", "path": "/fer"}, {})
    assert said is not None and "None" not in said
    assert "trained on fer2013 data from /fer, and " in said
    assert "holds data that records no source: this scores it on other data" in said


def test_a_class_in_no_split_at_all_is_said_to_be_in_none() -> None:
    data = PreparedData(
        ("happy", "sad", "surprise"), {"train": _split([0, 1]), "val": _split([0, 1])}
    )
    with pytest.raises(FacialEmotionError) as stop:
        require_training_faces(data, "faces")
    assert str(stop.value) == (
        "faces: no training faces of surprise (nor in any other split); "
        "spell the class the same in every split, or remove it"
    )
