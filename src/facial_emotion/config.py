"""``params.yaml`` → typed, validated settings, with a clear error on a bad key or value.

Each pipeline stage reads only its own group (``data``, ``train``, ``evaluate``, ``export``),
matching the params keys that stage declares in ``dvc.yaml``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from facial_emotion.errors import FacialEmotionError

PARAMS_FILE = "params.yaml"


@dataclass(frozen=True)
class DataSettings:
    source: str = "synthetic"
    path: str = "data/raw/README.md"  # synthetic reads none: one small file for DVC to hash
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    synthetic_samples: int = 3500
    detect_faces: bool = False
    labels: str | dict[str, str] = ""  # a preset (rafdb, affectnet, fer2013) or {folder: emotion}


@dataclass(frozen=True)
class ExploreSettings:
    samples_per_class: int = 8


@dataclass(frozen=True)
class AugmentSettings:
    flip: bool = True
    rotation: float = 0.05
    shift: float = 0.1
    zoom: float = 0.1
    contrast: float = 0.0
    crop_pad: int = 0
    erase: float = 0.0


@dataclass(frozen=True)
class TrainSettings:
    architecture: str = "vgg_wide_late_flat"
    precision: str = "auto"
    epochs: int = 12
    batch_size: int = 64
    optimizer: str = "adam"
    learning_rate: float = 0.001
    schedule: str = "plateau"
    warmup_epochs: int = 0
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    mixup: float = 0.0
    ema: float = 0.0
    class_weight: bool = False
    early_stopping_patience: int = 6
    dropout: float = 0.3
    members: int = 1
    init_weights: str = ""
    augment: AugmentSettings = field(default_factory=AugmentSettings)


@dataclass(frozen=True)
class EvaluateSettings:
    tta: bool = True
    tta_shift: int = 0
    mistakes: int = 16


@dataclass(frozen=True)
class ExportSettings:
    representative_samples: int = 200


@dataclass(frozen=True)
class Params:
    seed: int = 42
    data: DataSettings = field(default_factory=DataSettings)
    explore: ExploreSettings = field(default_factory=ExploreSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    evaluate: EvaluateSettings = field(default_factory=EvaluateSettings)
    export: ExportSettings = field(default_factory=ExportSettings)


T = TypeVar("T")


def _check_value(value: Any, kind: Any, where: str, source: str) -> Any:
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):  # a settings class
        return from_mapping(kind, value, source, prefix=f"{where}.")
    # a union (`str | dict[str, str]`) is any of its members; `dict[str, str]` alone is a dict
    union = typing.get_origin(kind) in (types.UnionType, typing.Union)
    kinds = [typing.get_origin(k) or k for k in (typing.get_args(kind) if union else (kind,))]
    if not any(_fits(value, k, where) for k in kinds):
        raise FacialEmotionError(
            f"{source}: {where} must be {' or '.join(k.__name__ for k in kinds)}, got {value!r}; "
            f"fix the value in {source}"
        )
    if isinstance(value, dict):  # YAML reads `1: surprise` with a number key; folders are names
        return {str(key): item for key, item in value.items()}
    return float(value) if kind is float else value


def _fits(value: Any, kind: Any, where: str) -> bool:
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        str: isinstance(value, str),
        dict: isinstance(value, dict),  # its keys and values are its reader's to check
    }.get(kind)
    if ok is None:
        raise TypeError(f"unsupported settings type {kind} for {where}")
    return ok


# Keys an older params.yaml may still hold, and what to do instead: "unknown key" alone sent the
# user to look for a misspelling.
REMOVED_KEYS = {
    "export.int8": "since 2026-11-22 the export stage always writes the int8 model: delete the "
    "line (`facial-emotion export --no-int8` skips int8 outside the pipeline)",
}


# A value's test and the words an error uses for it: "train.epochs must be positive, got 0".
Rule = tuple[Callable[[Any], bool], str]
POSITIVE: Rule = (lambda v: v > 0, "positive")
AT_LEAST_ZERO: Rule = (lambda v: v >= 0, "at least 0")
FRACTION: Rule = (lambda v: 0 <= v <= 1, "in [0, 1]")
BELOW_ONE: Rule = (lambda v: 0 <= v < 1, "in [0, 1)")
SHIFT_PIXELS: Rule = (lambda v: 0 <= v < 24, "0 to 23 pixels")  # under half the 48-px face
SEED: Rule = (lambda v: 0 <= v < 2**32, "0 to 4294967295")  # numpy's and Keras's seed range


def check_rules(
    section: str, rules: dict[str, tuple[Any, Rule]], source: str = PARAMS_FILE
) -> None:
    """Stop at the first ``section.key`` whose value breaks its rule, naming the file (or cell)
    it came from, key, rule and value."""
    for key, (value, (holds, wording)) in rules.items():
        if not holds(value):
            name = f"{section}.{key}" if section else key
            raise FacialEmotionError(f"{source}: {name} must be {wording}, got {value}")


def from_mapping(cls: type[T], values: Any, source: str = PARAMS_FILE, prefix: str = "") -> T:
    """Build settings ``cls`` from a mapping; reject unknown keys and values of the wrong type."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise FacialEmotionError(
            f"{source}: {prefix.rstrip('.') or 'the file'} must be a mapping, got {values!r}"
        )
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - names)
    for key in unknown:
        if removed := REMOVED_KEYS.get(f"{prefix}{key}"):
            raise FacialEmotionError(f"{source}: {prefix}{key} was removed; {removed}")
    if unknown:
        raise FacialEmotionError(
            f"{source}: unknown key {prefix}{unknown[0]}; valid keys are "
            f"{', '.join(prefix + n for n in sorted(names))}"
        )
    checked = {k: _check_value(v, hints[k], f"{prefix}{k}", source) for k, v in values.items()}
    return cls(**checked)


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """``params.yaml`` as typed settings, so no stage reads a raw mapping: a bad key or value is
    refused here, in one line naming the file and the key."""
    return _checked(from_mapping(Params, read_params_file(path), str(path)), str(path))


def read_params_file(path: str | Path) -> Any:
    """The params file's YAML, as read by every reader of it: a missing file or broken YAML
    is one line naming the file, not a parser's traceback."""
    path = Path(path)
    if not path.is_file():
        raise FacialEmotionError(f"{path}: params file not found; run from the repository root")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FacialEmotionError(
            f"{path}: not valid YAML ({exc.__class__.__name__}); fix it"
        ) from exc


def _checked(params: Params, source: str) -> Params:
    """``params`` once the values no stage's own code checks hold their rules: explore's is read
    only by a plot, and the seed by numpy and Keras, which would fail with their own words."""
    check_rules("", {"seed": (params.seed, SEED)}, source)
    samples = params.explore.samples_per_class
    check_rules("explore", {"samples_per_class": (samples, POSITIVE)}, source)
    return params


def as_dict(settings: Any) -> dict[str, Any]:
    return dataclasses.asdict(settings)


def with_overrides(params: Params, overrides: list[str]) -> Params:
    """Apply ``group.key=value`` overrides (YAML values), as ``dvc exp run -S`` does."""
    raw = as_dict(params)
    for item in overrides:
        key, _, value = item.partition("=")
        *groups, leaf = key.split(".")
        node = raw
        for group in groups:
            if not isinstance(node.get(group), dict):
                raise FacialEmotionError(f"{item}: {key} is not a params key; see params.yaml")
            node = node[group]
        node[leaf] = yaml.safe_load(value)
    return from_mapping(Params, raw, "override")


def as_overrides(values: dict[str, Any], prefix: str) -> list[str]:
    """Flatten settings to ``group.key=value`` strings, the form ``with_overrides`` reads back."""
    flat: list[str] = []
    for key, value in values.items():
        if isinstance(value, dict):
            flat += as_overrides(value, f"{prefix}.{key}")
        else:
            flat.append(f"{prefix}.{key}={_as_yaml(value)}")
    return flat


def _as_yaml(value: Any) -> str:
    """``value`` as YAML: a string bare where it reads back as itself (``cosine``), quoted where
    it would not (``""`` reads as null, ``"true"`` as a bool)."""
    if isinstance(value, str):
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value)


NOTEBOOK_CELL = "the notebook's parameters cell"


def notebook_params(path: str | Path = PARAMS_FILE, **injected: Any) -> Params:
    """The params file with any groups the parameters cell gives laid over it (``None`` = not
    given), so a notebook run by hand and the same notebook run by ``dvc repro`` see the same
    settings."""
    raw = read_params_file(path) or {}
    given = _cells_own(raw, injected)
    file_params = _checked(from_mapping(Params, raw, str(path)), str(path))  # named as its own
    if not given:
        return file_params
    # the file holds good values, so a bad one is the parameters cell's: a value typed there
    # was blamed on params.yaml ("fix the value in params.yaml")
    return _checked(from_mapping(Params, _laid_over(raw, given), NOTEBOOK_CELL), NOTEBOOK_CELL)


def notebook_source(path: str | Path = PARAMS_FILE, **injected: Any) -> str:
    """What a bad value's error names in a notebook (train's and evaluate's value rules, which
    their stages check): the parameters cell where it gives values of its own, else the file."""
    return NOTEBOOK_CELL if _cells_own(read_params_file(path) or {}, injected) else str(path)


def _cells_own(raw: Any, injected: dict[str, Any]) -> dict[str, Any]:
    """The groups the parameters cell gives that the file does not hold: papermill injects the
    file's own groups, whose values are the file's, not the cell's."""
    groups = raw if isinstance(raw, dict) else {}
    return {k: v for k, v in injected.items() if v is not None and v != groups.get(k)}


def _laid_over(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` laid key by key over ``base``: ``-y "train: {epochs: 2}"`` changes the epochs and
    keeps the file's other train settings, where replacing the group reset them to the code's."""
    merged = dict(base)
    for key, value in over.items():
        both = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = _laid_over(merged[key], value) if both else value
    return merged
