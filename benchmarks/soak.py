"""Soak one EmotionRecognizer as a long-lived service does: memory, file descriptors, latency drift.

Calls ``detect`` (or ``detect_batch``, ``read_crops``) many times, from one or several threads,
on composed photos of changing sizes (faces from ``--data`` pasted on noise; without it, the
embedded synthetic faces), and checks every answer against the same photo read single-threaded
(a call that raises is counted in ``errors``, its thread going on).
Progress lines go to stderr every ``--every`` calls; the result is one JSON line on stdout.
Linux only (it reads /proc; on Windows, WSL):

    python benchmarks/soak.py --data /path/to/fer2013/val --calls 5000 --threads 4
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

from timing import load_average, load_averages, speed_host

MODES = ("detect", "batch", "crops")


def rss_mb() -> float:
    """This process's resident memory (Linux), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def face_images(data: Path | None, seed: int) -> list[Any]:
    """Gray faces to paste: every image under ``data``, or 200 synthetic ones."""
    import numpy as np
    from PIL import Image

    if data is None:
        from facial_emotion.data import synthetic

        return list(synthetic.generate(200, seed)[0])
    files = sorted(p for p in data.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        sys.exit(f"soak: {data} holds no .jpg or .png faces; pass a folder of face images")
    picked = random.Random(seed).sample(files, min(500, len(files)))
    return [np.asarray(Image.open(p).convert("L")) for p in picked]


def compose(n: int, faces: list[Any], max_side: int, seed: int) -> list[Any]:
    """``n`` RGB photos from 160 to ``max_side`` pixels a side, holding 0 to 3 faces each."""
    import cv2
    import numpy as np

    rng = random.Random(seed)
    photos = []
    for i in range(n):
        w, h = rng.randint(160, max_side), rng.randint(160, max_side)
        photo = np.random.default_rng(i).integers(60, 200, (h, w, 3), dtype=np.uint8)
        for _ in range(rng.randint(0, 3)):
            side = rng.randint(60, max(61, min(w, h) // 2))
            face = cv2.resize(rng.choice(faces), (side, side))
            x, y = rng.randint(0, w - side), rng.randint(0, h - side)
            photo[y : y + side, x : x + side] = face[..., None]
        photos.append(photo)
    return photos


def percentiles(seconds: list[float]) -> dict[str, float]:
    import numpy as np

    if not seconds:
        return {}
    ms = np.array(seconds) * 1000
    return {f"p{q}_ms": round(float(np.percentile(ms, q)), 1) for q in (50, 95, 99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a folder of face images (default: synthetic)")
    parser.add_argument("--model", help="default: the shipped model")
    parser.add_argument("--detector", default="haar", choices=("haar", "mtcnn"))
    parser.add_argument("--mode", default="detect", choices=MODES, help="the method called")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1, help="threads sharing the recognizer")
    parser.add_argument("--photos", type=int, default=60, help="distinct photos, cycled")
    parser.add_argument("--max-side", type=int, default=1400, help="largest photo side, pixels")
    parser.add_argument("--every", type=int, default=500, help="calls between progress lines")
    args = parser.parse_args()
    if not sys.platform.startswith("linux"):  # not after the model's load and the warm-up
        sys.exit(
            f"soak: reads memory and open files from /proc, which only Linux has (this is "
            f"{sys.platform}); run it on Linux, or in WSL on Windows"
        )

    from facial_emotion import EmotionRecognizer

    rec = EmotionRecognizer(args.model, detector=args.detector)
    photos = compose(args.photos, face_images(args.data, 0), args.max_side, 0)

    def call(i: int) -> Any:
        photo = photos[i % len(photos)]
        if args.mode == "detect":
            return rec.detect(photo)
        picked = [photos[(i + j) % len(photos)] for j in range(1 + i % 7)]  # batches of 1 to 7
        if args.mode == "batch":
            return rec.detect_batch(picked)
        return rec.read_crops([p[: 60 + 9 * j, : 60 + 7 * j] for j, p in enumerate(picked)])

    def key(found: Any) -> str:
        flat = found if args.mode != "batch" else [f for faces in found for f in faces]
        return repr([(f.box, f.emotion, round(f.score, 5)) for f in flat])

    period = len(photos) * (7 if args.mode != "detect" else 1)
    expected = [key(call(i)) for i in range(period)]  # single-threaded; also the warm-up
    start_rss, start_fds = rss_mb(), open_fds()
    seconds = [0.0] * args.calls
    mismatches: list[int] = []
    errors: list[str] = []  # calls that raised where the single-threaded one answered
    calls = iter(range(args.calls))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                i = next(calls, None)
            if i is None:
                return
            began = time.perf_counter()
            try:
                found = call(i)
            except Exception as exc:  # counted: a thread it ended left its calls undone, unsaid
                errors.append(f"call {i}: {type(exc).__name__}: {exc}")
                found = None
            seconds[i] = time.perf_counter() - began
            if found is not None and key(found) != expected[i % period]:
                mismatches.append(i)

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    checkpoints, done = [], 0
    while any(t.is_alive() for t in threads):
        time.sleep(0.2)
        now = sum(1 for s in seconds if s)
        if now - done >= args.every:
            done = now
            point = {"calls": now, "rss_mb": round(rss_mb(), 1), "fds": open_fds()}
            checkpoints.append(point)
            print(json.dumps({**point, "load1": load_average()}), file=sys.stderr, flush=True)
    quarter = max(1, args.calls // 4)
    print(
        json.dumps(
            {
                "mode": args.mode,
                "detector": args.detector,
                "threads": args.threads,
                "calls": args.calls,
                "wall_s": round(time.perf_counter() - began, 1),
                "mismatches": len(mismatches),
                "errors": len(errors),
                "first_error": errors[0] if errors else None,
                "rss_mb": {"after_warmup": round(start_rss, 1), "end": round(rss_mb(), 1)},
                "fds": {"after_warmup": start_fds, "end": open_fds()},
                "checkpoints": checkpoints,
                "latency": percentiles(seconds),
                "first_quarter": percentiles(seconds[:quarter]),
                "last_quarter": percentiles(seconds[-quarter:]),
                "load_avg": load_averages(),
                "host": speed_host(),  # the latencies were measured there
            }
        )
    )


if __name__ == "__main__":
    main()
