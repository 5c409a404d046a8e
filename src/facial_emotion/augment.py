"""Training-time augmentation, applied in the input pipeline so the saved model stays pure."""

from __future__ import annotations

import itertools

import keras
import tensorflow as tf
from keras import layers

from facial_emotion.config import AugmentSettings
from facial_emotion.models import INPUT_SHAPE


def augmentation_layers(settings: AugmentSettings, seed: int) -> keras.Sequential:
    """Random pad-and-crop, flip, rotation, shift, zoom, contrast and erasing, each switchable.

    Each layer draws from its own seed: given one seed, they drew the same numbers, so every
    flipped face was rotated one way, every other face the other way, and zoom followed rotation.
    """
    steps: list[layers.Layer] = []
    seeds = itertools.count(seed)
    if settings.crop_pad > 0:
        # Pad-and-crop as a whole-pixel shift of each face by up to crop_pad, with zero fill: the
        # same faces, but drawn per face, where Keras's RandomCrop moves a whole batch together.
        reach = (settings.crop_pad + 0.5) / INPUT_SHAPE[0]
        steps.append(
            layers.RandomTranslation(
                reach, reach, fill_mode="constant", interpolation="nearest", seed=next(seeds)
            )
        )
    if settings.flip:
        steps.append(layers.RandomFlip("horizontal", seed=next(seeds)))
    if settings.rotation > 0:
        steps.append(
            layers.RandomRotation(settings.rotation, fill_mode="reflect", seed=next(seeds))
        )
    if settings.shift > 0:
        steps.append(
            layers.RandomTranslation(
                settings.shift, settings.shift, fill_mode="reflect", seed=next(seeds)
            )
        )
    if settings.zoom > 0:
        steps.append(layers.RandomZoom(settings.zoom, fill_mode="reflect", seed=next(seeds)))
    if settings.contrast > 0:
        steps.append(layers.RandomContrast(settings.contrast, seed=next(seeds)))
    if settings.erase > 0:
        # Zhong et al. (2020): hiding part of the face forces the net to read the rest of it
        steps.append(
            layers.RandomErasing(
                factor=(settings.erase, settings.erase),
                scale=(0.02, 0.25),
                value_range=(0, 255),
                seed=next(seeds),
            )
        )
    return keras.Sequential(steps, name="augment")


def mixup(images: tf.Tensor, labels: tf.Tensor, alpha: float) -> tuple[tf.Tensor, tf.Tensor]:
    """Blend each example with another of the batch (Zhang et al., 2018), labels alike."""
    batch = tf.shape(images)[0]
    gamma1 = tf.random.gamma([batch], alpha)
    gamma2 = tf.random.gamma([batch], alpha)
    lam = gamma1 / (gamma1 + gamma2)
    order = tf.random.shuffle(tf.range(batch))
    lam_x = tf.reshape(lam, [-1, 1, 1, 1])
    lam_y = tf.reshape(lam, [-1, 1])
    mixed_x = lam_x * images + (1 - lam_x) * tf.gather(images, order)
    mixed_y = lam_y * labels + (1 - lam_y) * tf.gather(labels, order)
    return mixed_x, mixed_y
