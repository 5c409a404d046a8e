"""The app's live webcam: each frame the page streams comes back with its faces boxed, and a
text summary a screen reader can follow.

Gradio's page sends a frame every ``LIVE_EVERY`` seconds, none while the last one is being read,
and its server keeps only the newest frame sent: frames a busy machine cannot read are dropped,
never queued. Frames stay in memory, in and out; none is written to disk, as uploads are.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np

from facial_emotion.errors import FacialEmotionError

# A 640x480 frame took 0.20 s to read (Haar at the app's 1024 px, the shipped int8 model; p90
# 0.24 s) on 2 cores with the machine's load at 7-12. Asked for one every 0.25 s, the page showed
# 3.0 a second and the app used 31% of a core (1.9 and 20% at 0.5 s); with a reader taking 1 s a
# frame it read one a second back to back, and none after Stop: frames were dropped, not queued.
LIVE_EVERY = 0.25
# One stream is read at a time, so live reading takes at most about a core of two and photos are
# read beside it. A stream holds that slot this many seconds, then rejoins the queue by itself
# (Gradio's time_limit): a second person's stream takes its turn, where it would wait for good.
LIVE_LIMIT = 30
# Gradio asks the camera for 1920x1440: such a frame took 3 times as long as a 640x480 one (1.44
# s against 0.48 s, measured together), and with a camera's noise its JPEG, sent inline, was 717
# KB of the 1 MB the app takes in a request that is not an upload
LIVE_SIZE = {"video": {"width": {"ideal": 640}, "height": {"ideal": 480}}}
LIVE_MAX_PIXELS = 4_000_000  # a camera that gives 1920x1080 whatever is asked still passes
SAY_EVERY = 3.0  # seconds: the spoken summary changes at most this often
FRAME_PREFIXES = ("data:image/jpeg;base64,", "data:image/png;base64,")  # as the page sends them
NOT_A_FRAME = "the webcam frame: not a picture from the page's webcam; start the live webcam again"


def frame_pixels(frame: Any) -> np.ndarray:
    """The pixels of a frame as the page streams it, ``{"url": "data:image/jpeg;base64,..."}``;
    anything else (a path on the server, a URL) is refused."""
    from facial_emotion.predict import as_pixels

    url = frame.get("url") if isinstance(frame, dict) else None
    if not isinstance(url, str) or not url.startswith(FRAME_PREFIXES):
        raise FacialEmotionError(NOT_A_FRAME)
    try:
        data = base64.b64decode(url.partition(",")[2], validate=True)
    except binascii.Error as exc:
        raise FacialEmotionError(NOT_A_FRAME) from exc
    try:
        return as_pixels(data, max_pixels=LIVE_MAX_PIXELS)
    except FacialEmotionError as exc:  # named "the image bytes (N bytes)" there
        raise FacialEmotionError(f"the webcam frame: {str(exc).partition(': ')[2]}") from exc


def live_summary(faces: list[Any]) -> str:
    """The emotions left to right, without percentages: those change with every frame, and a
    screen reader would read out each change."""
    if not faces:
        return "No face in view."
    names = ", ".join(face.emotion for face in faces)
    if len(faces) == 1:
        return f"1 face: {names}."
    return f"{len(faces)} faces, left to right: {names}."


def read_frame(recognizer: Any, frame: Any) -> tuple[dict[str, str], str]:
    """A streamed frame's faces boxed, as the page shows an image (a JPEG data URL, not a file
    in the app's folder), and its summary."""
    import cv2

    from facial_emotion.annotate import annotated_copy

    pixels = frame_pixels(frame)
    faces = sorted(recognizer.detect(pixels), key=lambda f: f.box[0])
    _, jpeg = cv2.imencode(".jpg", annotated_copy(pixels, faces), [cv2.IMWRITE_JPEG_QUALITY, 80])
    shown = {"url": "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode("ascii")}
    return shown, live_summary(faces)


def to_say(summary: str, said: tuple[str, float] | None, now: float) -> bool:
    """Whether the spoken summary changes to ``summary``: when the reading changes, at most once
    every ``SAY_EVERY`` seconds (``said``: the last text said and when)."""
    return said is None or (summary != said[0] and now - said[1] >= SAY_EVERY)
