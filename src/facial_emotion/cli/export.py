"""Placeholder until the `export` command lands; replaced by its real implementation."""

import argparse

from facial_emotion.errors import FacialEmotionError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise FacialEmotionError("'export' is not built yet")
