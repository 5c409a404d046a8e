"""The model card inside a ``.tflite`` file, so its class names travel with it.

A ``.tflite`` handed over without its JSON card gave a device no class names: a CK+ export read
in FER2013's order would name every emotion wrongly without a word. The card is stored as a
named entry of the model's own ``metadata`` list, as the converter stores its own
``CONVERSION_METADATA``: LiteRT and TensorFlow Lite run the model unchanged, and C++ reads it
with ``FlatBufferModel::ReadAllMetadata()["facial_emotion.card"]``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from facial_emotion.errors import FacialEmotionError

CARD_METADATA = "facial_emotion.card"


def _schema() -> Any:
    """The TensorFlow Lite schema's Python classes, from LiteRT or else from TensorFlow."""
    try:
        from ai_edge_litert import schema_py_generated
    except ImportError:  # LiteRT not installed: TensorFlow ships the same generated code
        from tensorflow.lite.python import schema_py_generated
    return schema_py_generated


def with_card(content: bytes, card: dict[str, Any]) -> bytes:
    """``content`` with ``card`` as its ``facial_emotion.card`` entry (any earlier one replaced).

    The model is unpacked and packed again, as the converter does to add its own entry: the
    operators and weights are unchanged."""
    import flatbuffers

    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(card, ensure_ascii=False).encode(), np.uint8)
    model.buffers = [*(model.buffers or []), buffer]
    entry = schema.MetadataT()
    entry.name = CARD_METADATA
    entry.buffer = len(model.buffers) - 1
    kept = []
    for old in model.metadata or []:
        if _name(old.name) != CARD_METADATA:
            kept.append(old)
        else:  # its buffer stays, emptied: removing it would renumber the tensors' buffers
            model.buffers[old.buffer] = schema.BufferT()
    model.metadata = [*kept, entry]
    builder = flatbuffers.Builder(len(content) + buffer.data.size + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _name(raw: bytes | str | None) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def embedded_card(content: bytes, path: Path) -> dict[str, Any] | None:
    """The card stored in ``content``, or None for a model exported without one."""
    model = _schema().Model.GetRootAs(content, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if _name(entry.Name()) != CARD_METADATA:
            continue
        data = model.Buffers(entry.Buffer()).DataAsNumpy()
        try:
            card = json.loads(np.asarray(data, np.uint8).tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FacialEmotionError(
                f"{path}: its embedded card ({CARD_METADATA}) is not valid JSON ({exc}); "
                "re-export the model with `facial-emotion export`"
            ) from exc
        if not isinstance(card, dict):
            raise FacialEmotionError(
                f"{path}: its embedded card ({CARD_METADATA}) is not a JSON object; "
                "re-export the model with `facial-emotion export`"
            )
        return card
    return None
