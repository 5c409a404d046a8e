"""Architecture registry: a name in ``params.yaml`` → a Keras model builder.

Every model takes float32 (N, 48, 48, 1) raw pixel values 0..255 and scales them with its own
``Rescaling`` layer, so export and serving see exactly the input training saw. Augmentation is not
part of the saved model: training applies it in the input pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
from keras import layers

from facial_emotion.config import PARAMS_FILE
from facial_emotion.errors import FacialEmotionError

INPUT_SHAPE = (48, 48, 1)


def _inputs() -> tuple[keras.KerasTensor, keras.KerasTensor]:
    inputs = keras.Input(INPUT_SHAPE, name="face")
    return inputs, layers.Rescaling(1 / 255, name="scale")(inputs)


def _head(x: keras.KerasTensor, n_classes: int, dropout: float) -> keras.KerasTensor:
    x = layers.Dropout(dropout, name="head_dropout")(x)
    x = layers.Dense(n_classes, name="logits")(x)
    # float32 softmax even under mixed precision, where bfloat16 would round probabilities
    return layers.Activation("softmax", dtype="float32", name="emotion")(x)


def tiny(n_classes: int, dropout: float = 0.0) -> keras.Model:
    """One convolution: for smoke tests and tests of the machinery, not for accuracy."""
    inputs, x = _inputs()
    x = layers.Conv2D(8, 3, activation="relu", name="conv")(x)
    x = layers.MaxPooling2D(4, name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, _head(x, n_classes, dropout), name="tiny")


def baseline(n_classes: int, dropout: float = 0.3) -> keras.Model:
    """The seeds' plain CNN: four convolutions, two dense layers, no normalisation."""
    inputs, x = _inputs()
    x = layers.Conv2D(32, 3, activation="relu", name="conv1")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Dropout(0.25, name="drop1")(x)
    x = layers.Conv2D(128, 3, activation="relu", name="conv3")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Conv2D(128, 3, activation="relu", name="conv4")(x)
    x = layers.MaxPooling2D(2, name="pool3")(x)
    x = layers.Dropout(0.25, name="drop2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(1024, activation="relu", name="dense")(x)
    return keras.Model(inputs, _head(x, n_classes, dropout), name="baseline")


def _conv_bn(x: keras.KerasTensor, filters: int, name: str) -> keras.KerasTensor:
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def vgg(
    n_classes: int,
    dropout: float = 0.3,
    widths: tuple[int, ...] = (32, 64, 128, 256),
    convs: tuple[int, ...] = (2, 2, 2, 2),
    flatten: bool = False,
) -> keras.Model:
    """Compact VGG: 3x3 conv + batch-norm blocks per stage, max-pool, then a dense layer.

    ``flatten=True`` feeds the dense layer the last 3x3 feature map whole, so it keeps where on
    the face a feature fired (brow, mouth), which global average pooling throws away.
    """
    inputs, x = _inputs()
    for stage, (width, n_convs) in enumerate(zip(widths, convs, strict=True), start=1):
        for block in range(n_convs):  # layers s1a, s1b, ...
            x = _conv_bn(x, width, f"s{stage}{chr(ord('a') + block)}")
        x = layers.MaxPooling2D(2, name=f"s{stage}_pool")(x)
        x = layers.SpatialDropout2D(0.1, name=f"s{stage}_drop")(x)
    if flatten:
        x = layers.Flatten(name="flatten")(x)
    else:
        x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dense(256, use_bias=False, name="fc")(x)
    x = layers.BatchNormalization(name="fc_bn")(x)
    x = layers.Activation("relu", name="fc_relu")(x)
    return keras.Model(inputs, _head(x, n_classes, dropout), name="vgg")


def vgg_wide(n_classes: int, dropout: float = 0.4) -> keras.Model:
    """The VGG above at twice the width: more accuracy per epoch, about 3x slower per image."""
    model = vgg(n_classes, dropout, widths=(64, 128, 256, 512))
    model.name = "vgg_wide"
    return model


def vgg_wide_late(n_classes: int, dropout: float = 0.3, flatten: bool = False) -> keras.Model:
    """Twice vgg's parameters for 15% more time per image: one conv at 48x48, wide at 12x12 and 6x6.

    On a 2-core CPU the full-resolution second conv costs a quarter of vgg's time; the same time
    buys 1.5x width where features are about expressions, not edges.
    """
    model = vgg(n_classes, dropout, widths=(32, 64, 192, 384), convs=(1, 2, 2, 2), flatten=flatten)
    model.name = "vgg_wide_late_flat" if flatten else "vgg_wide_late"
    return model


def vgg_wide_late_flat(n_classes: int, dropout: float = 0.3) -> keras.Model:
    """vgg_wide_late with a flattened head: the same convolutions, where-on-the-face kept."""
    return vgg_wide_late(n_classes, dropout, flatten=True)


def _residual(x: keras.KerasTensor, filters: int, stride: int, name: str) -> keras.KerasTensor:
    shortcut = x
    y = layers.Conv2D(filters, 3, stride, padding="same", use_bias=False, name=f"{name}_c1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_r1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_c2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, stride, use_bias=False, name=f"{name}_proj")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_projbn")(shortcut)
    return layers.Activation("relu", name=f"{name}_out")(
        layers.Add(name=f"{name}_add")([y, shortcut])
    )


def resnet(n_classes: int, dropout: float = 0.3) -> keras.Model:
    """Small ResNet: a stem and four stages of two residual blocks (32 → 256 channels)."""
    inputs, x = _inputs()
    x = _conv_bn(x, 32, "stem")
    for stage, (width, stride) in enumerate([(32, 1), (64, 2), (128, 2), (256, 2)], start=1):
        x = _residual(x, width, stride, f"s{stage}b1")
        x = _residual(x, width, 1, f"s{stage}b2")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, _head(x, n_classes, dropout), name="resnet")


def _separable(x: keras.KerasTensor, filters: int, name: str) -> keras.KerasTensor:
    shortcut = layers.Conv2D(filters, 1, 2, padding="same", use_bias=False, name=f"{name}_proj")(x)
    shortcut = layers.BatchNormalization(name=f"{name}_projbn")(shortcut)
    for i in (1, 2):
        x = layers.SeparableConv2D(
            filters, 3, padding="same", use_bias=False, name=f"{name}_sep{i}"
        )(x)
        x = layers.BatchNormalization(name=f"{name}_bn{i}")(x)
        if i == 1:
            x = layers.Activation("relu", name=f"{name}_r{i}")(x)
    x = layers.MaxPooling2D(3, 2, padding="same", name=f"{name}_pool")(x)
    return layers.Add(name=f"{name}_add")([x, shortcut])


def sepnet(n_classes: int, dropout: float = 0.3) -> keras.Model:
    """Depthwise-separable residual net in the style of mini-Xception: few parameters, fast."""
    inputs, x = _inputs()
    x = _conv_bn(x, 16, "stem1")
    x = _conv_bn(x, 32, "stem2")
    for stage, width in enumerate((64, 128, 256, 512), start=1):
        x = _separable(x, width, f"s{stage}")
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, _head(x, n_classes, dropout), name="sepnet")


ARCHITECTURES: dict[str, Callable[..., keras.Model]] = {
    "tiny": tiny,
    "baseline": baseline,
    "vgg": vgg,
    "vgg_wide": vgg_wide,
    "vgg_wide_late": vgg_wide_late,
    "vgg_wide_late_flat": vgg_wide_late_flat,
    "resnet": resnet,
    "sepnet": sepnet,
}


def require_architecture(name: str, source: str = PARAMS_FILE) -> None:
    if name not in ARCHITECTURES:
        raise FacialEmotionError(
            f"{source}: unknown train.architecture {name!r}; choose one of "
            f"{', '.join(ARCHITECTURES)}"
        )


def build(
    name: str, n_classes: int, dropout: float = 0.3, precision: str = "float32"
) -> keras.Model:
    """Build the named architecture, or say which names exist.

    ``precision="mixed_bfloat16"`` computes in bfloat16 with float32 weights: 2-4x faster training
    on CPUs with AMX/AVX512-BF16 (measured on the project's 2-core machine).
    """
    require_architecture(name)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        return ARCHITECTURES[name](n_classes, dropout)
    finally:
        keras.mixed_precision.set_global_policy(previous)


def as_float32(model: keras.Model, name: str, n_classes: int) -> keras.Model:
    """The same weights in a float32 model, so saved models serve and export the same everywhere."""
    plain = build(name, n_classes)
    plain.set_weights(model.get_weights())
    return plain


def ensemble(members: list[keras.Model]) -> keras.Model:
    """One model that averages its members' probabilities, so predict, evaluate, the app and the
    TensorFlow Lite export use an ensemble exactly as they use a single model."""
    if len(members) == 1:
        return members[0]
    name = f"ensemble_{len(members)}x_{members[0].name}"
    for i, member in enumerate(members, start=1):
        member.name = f"member_{i}"
    inputs = keras.Input(INPUT_SHAPE, name="face")
    outputs = layers.Average(name="mean_probabilities")([member(inputs) for member in members])
    return keras.Model(inputs, outputs, name=name)


def members_of(model: keras.Model) -> list[keras.Model]:
    """The models an ensemble averages; a single model is its own only member."""
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return nested or [model]


def with_compute_dtype(model: keras.Model, policy: str) -> keras.Model:
    """The same model and weights computing under ``policy``, but for its float32 output layer."""
    nested = members_of(model)
    if nested != [model]:
        copy = ensemble([with_compute_dtype(member, policy) for member in nested])
        copy.name = model.name
        return copy
    last = model.layers[-1].name

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        if layer.name != last:
            config["dtype"] = policy
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def cpu_prefers_bfloat16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """Whether this CPU trains faster in bfloat16 than in float32, from what Linux lists in
    ``cpuinfo``; False where there is no such file. Listing the instructions is not enough:
    measured with `vgg_wide_late_flat`, bfloat16 ran faster with AMX and 1.6x as fast with AMD's
    AVX512-BF16, but 0.6-0.8x as fast with Intel's AVX512-BF16 and no AMX (2026-12-07)."""
    try:
        listed = Path(cpuinfo).read_text(encoding="utf-8").split()
    except OSError:
        return False
    return "amx_bf16" in listed or ("avx512_bf16" in listed and "AuthenticAMD" in listed)


def resolve_precision(precision: str, source: str = PARAMS_FILE) -> str:
    """``auto`` → mixed_bfloat16 where the CPU trains faster in it, else float32."""
    if precision == "auto":
        return "mixed_bfloat16" if cpu_prefers_bfloat16() else "float32"
    if precision not in ("float32", "mixed_bfloat16"):
        raise FacialEmotionError(
            f"{source}: train.precision is {precision!r}; choose auto, float32 or mixed_bfloat16"
        )
    return precision
