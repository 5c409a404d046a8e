"""Placeholder until the `video` command lands; replaced by its real implementation."""

import argparse

from facial_emotion.errors import FacialEmotionError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise FacialEmotionError("'video' is not built yet")
