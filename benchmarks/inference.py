"""Inference speed: per-face latency, batched throughput and end-to-end video frames/s.

Prints one JSON line. Without --model it measures the FER2013 model shipped with the package:
Keras in float32 and bfloat16, TensorFlow Lite float32 and int8 (the shipped int8 export where there
is one), and end to end with what `predict` and `video` run by default. Run by hand:

    python benchmarks/inference.py [--model models/model.keras] [--tflite models/model.tflite]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from timing import load_average, median_seconds, speed_host

if TYPE_CHECKING:  # the rest is imported where used: --help need not wait a second for OpenCV
    from facial_emotion.predict import EmotionRecognizer

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TARGET_FPS = 30
DETECT_EVERY = 2  # the `video` command's default


def to_tflite(model_path: Path, folder: Path, int8: bool = False) -> Path:
    """TFLite conversion of a Keras model, with its card beside it. The int8 one is calibrated on
    random faces: right for timing, not for accuracy."""
    import keras

    from facial_emotion.export import tflite_bytes
    from facial_emotion.modelfile import card_path

    model = keras.models.load_model(model_path, compile=False)
    calibration = np.random.default_rng(0).integers(0, 256, (50, 48, 48), np.uint8)
    path = folder / ("converted.int8.tflite" if int8 else "converted.tflite")
    path.write_bytes(tflite_bytes(model, calibration if int8 else None))
    shutil.copy(card_path(model_path), card_path(path))
    return path


def median_ms(fn, repeats: int) -> float:
    return round(1000 * median_seconds(fn, repeats), 3)


def faces_per_second(backend, batch: int, repeats: int = 5) -> float:
    x = np.random.default_rng(0).uniform(0, 255, (batch, 48, 48, 1)).astype(np.float32)
    return round(batch / (median_ms(lambda: backend.predict(x), repeats) / 1000), 1)


def write_video(path: Path, faces: int, frames: int) -> None:
    """640x480 mp4 at 30 fps: the sample portrait ``faces`` times, drifting sideways."""
    import cv2
    import matplotlib.cbook

    photo = cv2.imread(str(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    width = min(240, 600 // faces - 20)
    face = cv2.resize(photo, (width, int(width * 600 / 512)), interpolation=cv2.INTER_AREA)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (640, 480))
    for i in range(frames):
        frame = np.full((480, 640, 3), 60, np.uint8)
        for k in range(faces):
            x = 20 + k * (width + 20) + (i % 20)
            y = 240 - face.shape[0] // 2
            frame[y : y + face.shape[0], x : x + width] = face
        writer.write(frame)
    writer.release()


def first_frame_rgb(video: Path) -> np.ndarray:
    import cv2

    cap = cv2.VideoCapture(str(video))
    frame = cap.read()[1]
    cap.release()
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def video_fps(
    video: Path, recognizer: EmotionRecognizer, detect_every: int, output: Path | None = None
) -> dict:
    """What `facial-emotion video` does, timed from the first frame read to the last written."""
    from facial_emotion.video import process_video

    process_video(str(video), recognizer, max_frames=10, progress=False)  # warm-up
    summary = process_video(
        str(video), recognizer, output=output, detect_every=detect_every, progress=False
    ).to_dict()
    return {
        "fps": summary["frames_per_second"],
        "faces_per_frame": round(summary["face_detections"] / summary["frames"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a .keras model (default: the shipped one)")
    parser.add_argument("--tflite", type=Path, help="a .tflite model (default: convert --model)")
    parser.add_argument(
        "--int8", type=Path, help="an int8 .tflite model (default: the shipped one, or convert)"
    )
    parser.add_argument("--frames", type=int, default=150, help="frames per test video")
    parser.add_argument("--repeats", type=int, default=200, help="timed single-face calls")
    args = parser.parse_args()
    from facial_emotion.backends import load_backend
    from facial_emotion.faces import make_detector
    from facial_emotion.predict import EmotionRecognizer, default_model_path, default_serving_path
    from facial_emotion.video import VIDEO_DETECTOR_OPTIONS

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_path = args.model or default_model_path()
        serving_path = default_serving_path() if args.model is None else model_path
        int8_path = args.int8 or (
            serving_path
            if serving_path.suffix == ".tflite"
            else to_tflite(model_path, tmp, int8=True)
        )
        backends = {
            "keras_float32": load_backend(model_path, precision="float32"),
            "keras_bfloat16": load_backend(model_path, precision="mixed_bfloat16"),
            "tflite_float32": load_backend(args.tflite or to_tflite(model_path, tmp)),
            "tflite_int8": load_backend(int8_path),
        }
        one = np.full((1, 48, 48, 1), 128, np.float32)
        results: dict = {"model": str(model_path), "int8_model": str(int8_path)}
        for name, backend in backends.items():
            one_face = functools.partial(backend.predict, one)
            results[f"{name}_ms_per_face_batch1"] = median_ms(one_face, args.repeats)
            results[f"{name}_faces_per_s_batch256"] = faces_per_second(backend, 256)

        detector = make_detector("haar", **VIDEO_DETECTOR_OPTIONS["haar"])
        recognizer = EmotionRecognizer(serving_path, detector)
        results["e2e_model"] = str(serving_path)
        for faces in (1, 3):
            video = tmp / f"faces{faces}.mp4"
            write_video(video, faces, args.frames)
            frame = first_frame_rgb(video)
            detect = functools.partial(detector.boxes, frame)
            results[f"detect_ms_{faces}face_frame"] = median_ms(detect, 30)
            for every in (DETECT_EVERY, 1):
                measured = video_fps(video, recognizer, every)
                name = f"e2e_fps_{faces}face_detect_every_{every}"
                results[name] = measured["fps"]
                results[f"{name}_faces_per_frame"] = measured["faces_per_frame"]
        results[f"e2e_fps_1face_detect_every_{DETECT_EVERY}_writing_mp4"] = video_fps(
            tmp / "faces1.mp4", recognizer, DETECT_EVERY, output=tmp / "annotated.mp4"
        )["fps"]
    results["target_fps"] = TARGET_FPS
    results["detector"] = {"name": detector.name, **VIDEO_DETECTOR_OPTIONS["haar"]}
    results["host"] = speed_host()  # which row of the speed table these figures belong to
    results["load_average_1min"] = load_average()
    print(json.dumps(results), file=sys.stdout)


if __name__ == "__main__":
    main()
