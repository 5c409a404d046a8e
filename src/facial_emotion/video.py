"""Emotions frame by frame from a video file or a webcam: an annotated video and a per-frame CSV.

Faces are followed across frames by box overlap, so each keeps one id and its probabilities can be
averaged over the last N frames (a single frame's reading flickers).
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import cv2
import numpy as np

from facial_emotion.annotate import draw_faces
from facial_emotion.errors import FacialEmotionError
from facial_emotion.face_tracking import KEEP_ID_SECONDS, FaceTracker, same_face
from facial_emotion.faces import (
    Face,
    crop_faces,
    detector_cell,
    locate_faces,
)
from facial_emotion.files import (
    atomic_path,
    is_stream,
    partial_name,
    refuse_overwrite,
    require_writable,
)
from facial_emotion.media import image_kind, no_frames, sound_only
from facial_emotion.native_log import native_log_held_back, opencv_log_silenced
from facial_emotion.paths import video_name
from facial_emotion.predict import EmotionRecognizer
from facial_emotion.progress import progress_bar
from facial_emotion.stops import STOP_SIGNALS, interrupt_in
from facial_emotion.streams import LineStream, open_stream
from facial_emotion.wording import counted

if TYPE_CHECKING:
    from tqdm import tqdm

# FFmpeg's own complaint ("moov atom not found") would print above the one-line error this module
# gives for a file it cannot decode; read when OpenCV first opens a video, so set before that.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

DEFAULT_FPS = 30.0  # for the output when the source does not say (most webcams)
# Frames up to 8K a side are read; a 16000x12000 MJPEG clip took 2.7 GB, its frames decoded whole
MAX_FRAME_SIDE = 8192
# MPEG-4 Part 2, what an .mp4, .m4v, .mov or .mkv is written in, encodes up to 8191 pixels a side
MPEG4_MAX_SIDE = 8191
MAX_FPS = 1000.0  # phones film slow motion at up to 960 frames/s; a larger header value is noise
# A file's frames that do not decode are passed over up to this many seconds of them in a row;
# past it, the file has ended (a truncated one, whose header promised more)
UNDECODABLE_SECONDS = 2.0
CAMERA_PATIENCE = 1.0  # seconds a camera may give no frame (a driver's hiccup) before it is gone
# Seconds the rows still queued when a run ends (a camera's stop) may wait for a stalled reader
CSV_CLOSE_PATIENCE = 1.0
# Detector settings for video: searching a copy of the frame 320 px wide finds faces from ~48 px in
# a 640x480 frame at about a quarter of the cost of the full frame; the Haar cascade then needs
# fewer neighbours (3) to keep finding a face frame after frame.
VIDEO_DETECTOR_OPTIONS: dict[str, dict[str, int]] = {
    "haar": {"max_side": 320, "min_neighbors": 3},
    "mtcnn": {"max_side": 480},
}
WINDOW = "facial-emotion (q to quit)"
# The annotated video's codec by file name: the pip OpenCV has no H.264 encoder, so an .mp4 is
# MPEG-4 Part 2, which players play and browsers do not; a .webm is VP8, which browsers play.
CODECS = {".webm": "VP80"}
# OpenCV asks an encoder for fps x width x height bits/s (sides rounded down to even), and below
# 256 VP8 writes no frame at all (OpenCV 4.14: 4x4 or 5x5 frames at 15 frames/s none, at 16 all;
# 7x5 at 10 none, at 11 all; 16x16 at 1 frame/s all); MPEG-4 writes 2x2 frames at 1 frame/s
VP8_MIN_BITS_PER_SECOND = 256


def opencv_name(path: str | Path) -> str:
    """``path`` for OpenCV's video calls, which crash the process (a segmentation fault) on a
    file name that is not valid UTF-8, as names from old archives and shares can be."""
    name = str(path)
    try:
        name.encode()
    except UnicodeEncodeError:
        shown = os.fsencode(name).decode(errors="backslashreplace")
        raise FacialEmotionError(
            f"{shown}: OpenCV cannot open a file whose name is not valid UTF-8; rename it"
        ) from None
    return name


def is_camera(source: str | Path | int) -> bool:
    """Whether ``source`` names a webcam by index (0, "1"): a file of that name is read as the
    file, and a longer number, or digits of other scripts ("²"), is a path, not an index."""
    text = str(source).strip()
    return re.fullmatch("[0-9]{1,3}", text) is not None and not Path(str(source)).is_file()


def check_outputs(
    source: str | Path | int, output: str | Path | None, csv_path: str | Path | None
) -> tuple[Path | None, Path | None]:
    """The outputs as paths, refused before any work when they cannot be written, are not named
    as a video, or would replace the source or each other."""
    output = None if output is None else video_name(output)
    csv_path = None if csv_path is None else Path(csv_path)
    outputs = [path for path in (output, csv_path) if path is not None]
    source_file = Path(str(source))
    refuse_overwrite([source_file] if source_file.is_file() else [], outputs)
    for path in outputs:
        require_writable(path)
    return output, csv_path


def refuse_every_on_camera(source: str | Path | int, every: int) -> None:
    """A camera's frames come as fast as they are read: there are none to pass over."""
    if every > 1 and is_camera(source):
        raise FacialEmotionError(
            f"camera {source}: --every reads part of a file's frames; a camera gives frames as "
            "fast as they are read, so leave it out"
        )


def _camera_permission_hint() -> str:
    """macOS and Windows open no camera until the terminal is allowed it, and OpenCV then says
    only that the index cannot be opened."""
    if sys.platform == "darwin" or os.name == "nt":
        return ", allow this terminal the camera in the system's privacy settings"
    return ""


def open_source(source: str | Path | int) -> tuple[cv2.VideoCapture, np.ndarray, bool]:
    """The capture, its first frame (BGR) and whether it is a camera (an index such as 0 or
    "0"); clear errors otherwise."""
    source = str(source)
    camera = is_camera(source)
    # /dev/v4l/by-id/... names a camera by a link to /dev/videoN; a file in /dev/shm is a file
    real = os.path.realpath(source)
    if "://" in source or (real.startswith("/dev/") and not os.path.isfile(real)):
        raise FacialEmotionError(
            f"{source}: streams and device paths are not read; pass a video file, or a webcam's "
            "index (0 for /dev/video0)"
        )
    if not camera and Path(source).is_dir():
        raise FacialEmotionError(f"{source}: is a folder; pass one video file")
    if not camera and not Path(source).is_file():
        raise FacialEmotionError(f"{source}: no such video file; check the path")
    with opencv_log_silenced():
        cap = cv2.VideoCapture(int(source) if camera else opencv_name(source))
        opened = cap.isOpened()
        if opened:  # the header's size, so a frame too large is never decoded
            _refuse_large_frames(
                cap, source, cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)
            )
        ok, frame = cap.read() if opened else (False, None)
    if ok and frame is not None:
        _refuse_large_frames(cap, source, frame.shape[1], frame.shape[0])
        if not camera:
            _refuse_still(cap, source)
    if not ok or frame is None:
        cap.release()
        if camera:
            raise FacialEmotionError(
                f"camera {source}: cannot be opened; no webcam at that index (connect one, "
                f"close other programs using it{_camera_permission_hint()}, or pass a video file)"
            )
        if opened:
            raise FacialEmotionError(f"{source}: has no frame OpenCV can decode; it may be empty")
        if sound_only(source):  # OpenCV fails on it as on a damaged file
            raise _no_video_stream(source)
        if no_frames(source):
            raise FacialEmotionError(
                f"{source}: holds no frames (written by a program that stopped before its "
                "first); pass a video with frames"
            )
        raise FacialEmotionError(
            f"{source}: cannot be read as a video: damaged, cut off before its end (as a "
            "recording that crashed), or in a format OpenCV cannot decode; try another file"
        )
    return cap, frame, camera


def _refuse_still(cap: cv2.VideoCapture, source: str) -> None:
    """A photo (even named .mp4), or a sound file's cover picture (an MP3's, an M4A's), opens
    as a "video" of one frame, which helps no one: the MP3 ran with exit status 0, a warning
    that it was damaged and one that its 90000 frames/s could not be right."""
    kind = image_kind(source)
    if not (kind or sound_only(source)) or not _single_frame(source):
        return
    cap.release()
    if kind is None:
        raise _no_video_stream(source, cover=True)
    raise FacialEmotionError(
        f"{source}: is a {kind} image, not a video; read its faces with "
        f"`facial-emotion predict {source}`"
    )


def _no_video_stream(source: str, cover: bool = False) -> FacialEmotionError:
    held = "sound and a still picture (its cover)" if cover else "sound"
    return FacialEmotionError(f"{source}: has no video stream, only {held}; pass a video file")


def _single_frame(name: str) -> bool:
    """Whether the file holds one frame: a JPEG file can be a stream of them (an IP camera's
    .mjpeg), which FFmpeg reads as the video it is."""
    with opencv_log_silenced():
        cap = cv2.VideoCapture(name)
        single = cap.grab() and not cap.grab()
        cap.release()
    return single


def _refuse_large_frames(cap: cv2.VideoCapture, source: str, width: float, height: float) -> None:
    if max(width, height) > MAX_FRAME_SIDE:
        cap.release()
        raise FacialEmotionError(
            f"{source}: frames of {width:.0f}x{height:.0f} are larger than the {MAX_FRAME_SIDE} "
            "pixels a side read here; scale the video down first (ffmpeg -vf scale=1920:-2)"
        )


def check_display() -> None:
    """Fail before any work when ``--show`` cannot open a window."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        raise FacialEmotionError(
            "--show needs a display and none is set (no DISPLAY); use --output to write a video"
        )
    try:
        cv2.namedWindow(WINDOW)
    except cv2.error as exc:
        raise FacialEmotionError(
            "--show needs OpenCV with GUI support (opencv-python, not -headless); "
            "use --output to write a video instead"
        ) from exc


@dataclass(frozen=True)
class FrameReading:
    """One frame's faces, as ``process_video`` hands them to ``on_frame``: ``time`` and
    ``frame`` as the CSV gives them, and each face's track id (``ids[i]`` is ``faces[i]``'s)."""

    time: float
    frame: int
    ids: list[int]
    faces: list[Face]


@dataclass
class VideoSummary:
    """What a run saw, printed by the CLI as one JSON line."""

    frames: int = 0
    frames_declared: int | None = None  # by a file's header; a camera has none
    every: int = 1  # a file's frames read: every Nth
    fps: float = DEFAULT_FPS  # of the annotated video
    fps_declared: float | None = None  # by the header, when it was not used (0 or past MAX_FPS)
    ended_early: bool = False  # a file whose later frames could not be decoded
    frames_undecodable: int = 0  # of a file, passed over: a damaged stretch in its middle
    camera_stopped: bool = False  # a camera that gave no more frames (unplugged, taken)
    csv_reader_left: bool = False  # the CSV's reader closed its pipe: the rows end there
    csv_rows_unsent: int = 0  # rows a stalled reader had no room for at the end
    size: tuple[int, int] = (0, 0)  # width and height of the frames, as the CSV's boxes count
    seconds: float = 0.0
    started: float | None = None  # a camera's: the Unix time its CSV times count from
    faces: int = 0
    ids: set[int] = field(default_factory=set)
    emotions: Counter[str] = field(default_factory=Counter)

    def add(self, faces: list[Face], ids: list[int]) -> None:
        self.frames += 1
        self.faces += len(faces)
        self.ids.update(ids)
        self.emotions.update(f.emotion for f in faces)

    def to_dict(self) -> dict[str, object]:
        return {
            "frames": self.frames,
            "frames_declared": self.frames_declared,
            "frames_undecodable": self.frames_undecodable,
            "ended_early": self.ended_early,
            "camera_stopped": self.camera_stopped,
            "csv_reader_left": self.csv_reader_left,
            "csv_rows_unsent": self.csv_rows_unsent,
            "size": list(self.size),
            "every": self.every,
            "fps": round(self.fps, 3),
            "seconds": round(self.seconds, 2),
            "started": None if self.started is None else round(self.started, 3),
            "frames_per_second": round(self.frames / self.seconds, 1) if self.seconds else None,
            "face_detections": self.faces,
            "distinct_faces": len(self.ids),
            "emotions": dict(self.emotions.most_common()),
        }


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP until the block ends, then raise them as they came.
    Raised in the middle of a frame's writes (Python takes a signal just after the C call it
    arrived in), a stop kept the CSV a frame ahead of the video or named the frame before the
    last one kept: 6 of 150 Ctrl-Cs at random times."""
    signums = STOP_SIGNALS
    main = threading.current_thread() is threading.main_thread()
    # only the main thread sets handlers; None is one set outside Python, which cannot be put back
    if not main or None in map(signal.getsignal, signums):
        yield
        return
    held: list[int] = []
    previous = {signum: signal.signal(signum, lambda n, _: held.append(n)) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if held:
            signal.raise_signal(held[0])  # to its own handler again


class _Sinks:
    """Where each processed frame goes: the CSV, the annotated video and the window, as asked.

    A ``live`` source (a camera) is recorded in real time: a frame is written as many times as
    ``fps`` frames fit in the time since the last one, so a recording made on a machine slower
    than the camera does not play faster than life.
    """

    def __init__(
        self,
        stack: ExitStack,
        first: np.ndarray,
        fps: float,
        classes: tuple[str, ...],
        output: Path | None,
        csv_path: Path | None,
        show: bool,
        live: bool = False,
        source: Path | None = None,
        on_csv_closed: Callable[[int], object] | None = None,
        on_csv_wait: Callable[[], object] | None = None,
    ) -> None:
        self.classes = classes
        self.show = show
        self.fps = fps
        self.live = live
        self.source = source
        self.written = 0
        self.last: tuple[int, float] | None = None  # the number and time of the last frame put
        self.kept: list[Path] = []  # the outputs kept under their partial names after a stop
        self.video = self.rows = None
        self.columns: list[str] = []  # the CSV's header, where there is one
        stack.push(self._note_stop)
        if output is not None:
            # checked once: the temporary name adds only ASCII to the output's
            tmp = str(stack.enter_context(atomic_path(opencv_name(output))))
            stack.push(self._keeper(Path(tmp), output))  # once the writer below is released
            h, w = first.shape[:2]
            self.size = (w, h)
            if min(w, h) < 2:  # rounded down to even sides, as codecs need: nothing is left
                raise FacialEmotionError(
                    f"{output}: frames of {w}x{h} are too small to encode (2 pixels a side at "
                    "least); leave out -o"
                )
            codec = self.codec = CODECS.get(output.suffix.lower(), "mp4v")
            fourcc = cv2.VideoWriter_fourcc(*codec)  # type: ignore[attr-defined]  # not in cv2's stubs
            # FFmpeg by name: left to choose, OpenCV took a .gif for an image sequence
            with native_log_held_back():  # FFmpeg's note that WebM tags VP8 its own way
                self.video = video = cv2.VideoWriter(tmp, cv2.CAP_FFMPEG, fourcc, fps, (w, h))
            stack.callback(video.release)  # before atomic_path deletes or renames it
            if not self.video.isOpened() and codec == "mp4v" and max(w, h) > MPEG4_MAX_SIDE:
                raise FacialEmotionError(
                    f"{output}: MPEG-4 encodes frames up to {MPEG4_MAX_SIDE} pixels a side, these "
                    f"are {w}x{h}; write a .webm or .avi"
                )
            if not self.video.isOpened():
                raise FacialEmotionError(
                    f"{output}: cannot write a video there; use a .mp4 or .webm path"
                )
        self.csv_path = csv_path
        self.stream: LineStream | None = (
            None  # the CSV when a program reads it as it comes, row by row
        )
        self.reader_left = False  # the stream's reader closed its end: no more rows
        self.rows_unsent = 0  # rows its reader, stalled, had no room for when the run ended
        self.on_csv_closed = on_csv_closed
        if csv_path is not None:
            handle: LineStream | TextIO
            if is_stream(csv_path):
                # stdout or stderr (`> log.csv` and `2>> log.csv` too: replaced whole at the end,
                # `>>` lost what the file held and a stop every row), a pipe, a FIFO: no file to
                # swap
                handle = self.stream = stream = open_stream(csv_path, on_csv_wait)
                stack.push(partial(self._close_stream, stream))
            else:
                csv_tmp = stack.enter_context(atomic_path(csv_path))
                stack.push(self._keeper(csv_tmp, csv_path))  # once the file below is closed
                # newline="": the csv module's own line ends, untranslated (its documented way)
                handle = open(csv_tmp, "w", encoding="utf-8", newline="")
                stack.callback(self._written, handle.close)  # a full disk shows when it flushes
            self.rows = csv.writer(handle, lineterminator="\n")
            self.columns = ["time", "frame", "face", "x", "y", "w", "h", "emotion", "score"]
            self.columns += [*classes, "detector_score"]
            self._written(self.rows.writerow, self.columns)
            if self.stream is not None:  # the columns, for a reader to know before a face
                self._to_reader(self.stream, self.stream.send)
        if output is not None:  # the video written

            def check(failed: type[BaseException] | None, *_: object) -> None:
                video.release()  # again on the way out: releasing twice is harmless
                if failed is None:
                    self._check_written(tmp, output)

            # checked before the CSV is closed and renamed: a video the disk could not hold
            # leaves neither output, as a failed CSV does
            stack.push(check)
        if show:
            stack.callback(cv2.destroyAllWindows)

    def put(
        self, t: float, index: int, frame: np.ndarray, faces: list[Face], ids: list[int]
    ) -> bool:
        """Record one frame; False when the user closed the window with q or Esc."""
        with _signals_held():  # a stop keeps the frame in both outputs or in neither
            if self.rows is not None:
                rows = [
                    [f"{t:.3f}", index, face_id, *face.box, face.emotion, f"{face.score:.6f}"]
                    + [f"{face.probabilities[c]:.6f}" for c in self.classes]
                    + [detector_cell(face.detector_score)]
                    for face_id, face in zip(ids, faces, strict=True)
                ]
                # a frame without a face: its time and number alone, as `predict --csv` gives a
                # faceless image its file alone. Without a row, its time was lost (a phone's
                # frames are unevenly spaced), and a reader could not tell "no face" from "not
                # read", or, as rows came, from "no frame yet"
                faceless = [f"{t:.3f}", index] + [""] * (len(self.columns) - 2)
                self._written(self.rows.writerows, rows or [faceless])
            if self.video is not None or self.show:
                draw_faces(frame, faces)
            if self.video is not None:
                # A camera or stream that changes resolution: the writer drops other sizes
                fitted = frame if frame.shape[1::-1] == self.size else cv2.resize(frame, self.size)
                copies = round(t * self.fps) + 1 - self.written if self.live else 1
                with opencv_log_silenced():  # FFmpeg's "Failed to write frame": checked at the end
                    for _ in range(copies):
                        self.video.write(fitted)
                self.written += max(copies, 0)
            self.last = (index, t)
        if self.stream is not None and not self.reader_left:
            # outside the held signals, waiting for a reader that stopped reading in steps
            # between which Ctrl-C and SIGTERM stop the run (not into a socket: streams.open_stream)
            self._to_reader(self.stream, self.stream.send)
        if self.show:
            cv2.imshow(WINDOW, frame)
            return cv2.waitKey(1) & 0xFF not in (ord("q"), 27)
        return True

    def _keeper(self, tmp: Path, target: Path) -> Callable[..., None]:
        """What to do with ``tmp`` on the way out: after a stop (Ctrl-C, SIGTERM) of a file's run
        with frames written, keep it under ``target``'s partial name (an hour's video stopped at
        minute 50 had lost all 50); otherwise ``atomic_path`` renames it to ``target`` or
        deletes it. Not in place of a device or pipe, written only whole, nor of the source."""

        def keep(kind: object, stop: BaseException | None, trace: object) -> None:
            partial = partial_name(target)
            if stop is None or interrupt_in(stop) is None or self.last is None:
                return
            if self.source is None or (target.exists() and not target.is_file()):
                return
            with contextlib.suppress(OSError):  # the stop stays the news; the note says no more
                if partial.exists() and partial.samefile(self.source):
                    return
                os.replace(tmp, partial)
                self.kept.append(partial)

        return keep

    def _note_stop(self, kind: object, stop: BaseException | None, trace: object) -> None:
        """Name what a stop kept on the interrupt, for the command to print; runs after the
        keepers."""
        interrupt = None if stop is None else interrupt_in(stop)
        if interrupt is not None and self.kept and self.last is not None:
            index, t = self.last
            names = " and ".join(str(path) for path in self.kept)
            interrupt.add_note(
                f"{self.source}: stopped after frame {index} ({t:.1f} s in); what was read up to "
                f"it is kept in {names}"
            )

    def _close_stream(
        self, stream: LineStream, kind: object, stop: BaseException | None, trace: object
    ) -> None:
        """Close the CSV's stream. Rows are left queued only by a stop (a camera's ends the run)
        or an error while the reader had stopped reading: they get ``CSV_CLOSE_PATIENCE``
        seconds to reach it, or none while the stop or error is on its way out. Those dropped
        then were lost without a word: the summary counts them, and a file's stop says so.
        A stop's own news stays the stop's: a hang-up (SIGHUP) comes with a terminal that takes
        no more rows (EIO), and that error took its place (exit status 1 or 2 for 129)."""
        interrupt = None if stop is None else interrupt_in(stop)

        def close() -> None:
            try:
                self.rows_unsent = stream.close(CSV_CLOSE_PATIENCE if stop is None else 0)
            except OSError as exc:
                if interrupt is None or isinstance(exc, (BrokenPipeError, ConnectionResetError)):
                    raise

        self._to_reader(stream, close)
        if interrupt is not None and self.rows_unsent:
            interrupt.add_note(unsent_note(self.csv_path, self.rows_unsent))

    def _to_reader(self, stream: LineStream, send: Callable[..., object], *args: object) -> None:
        """``send(*args)`` on the CSV's ``stream``. A reader that has closed its end (`| head`, a
        game that quit) ends the CSV, not the run: it was an error (exit status 2), which threw
        a webcam's whole recording away. Its rows stop, and ``on_csv_closed`` hears of it."""
        try:
            self._written(send, *args)
        except FacialEmotionError as exc:
            if not isinstance(exc.__cause__, (BrokenPipeError, ConnectionResetError)):
                raise
            stream.discard()
            self.rows = None
            self.reader_left = True
            if self.on_csv_closed is not None:
                self.on_csv_closed(0 if self.last is None else self.last[0])

    def _written(self, write: Callable[..., object], *args: object) -> None:
        """``write(*args)`` on the CSV; an error (a full disk) names the file."""
        try:
            write(*args)
        except OSError as exc:
            raise FacialEmotionError(
                f"{self.csv_path}: cannot be written ({exc.strerror or exc})"
            ) from exc

    def _check_written(self, tmp: str, output: Path) -> None:
        """Refuse a video that does not hold the frames written: OpenCV's writer fails without a
        word (a full disk left an unplayable file, renamed into place, and exit status 0)."""
        with opencv_log_silenced():
            cap = cv2.VideoCapture(tmp, cv2.CAP_FFMPEG)
            # a cut-off WebM's count is a duration's garbage, such as -2.8e17
            # its first frame decoded: a clip of 1-2 frames passed the count with none
            ok = cap.isOpened() and cap.read()[0]
            held = max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT))) if ok else 0
            cap.release()
        w, h = self.size
        encoded = (w - w % 2) * (h - h % 2)  # sides rounded down to even, as the writer does
        if not ok and self.codec == "VP80" and self.fps * encoded < VP8_MIN_BITS_PER_SECOND:
            raise FacialEmotionError(  # not a full disk, which the message below asked about
                f"{output}: frames of {w}x{h} at {self.fps:g} frames/s are too small to encode "
                "as VP8 (.webm), which wrote none of them; write a .mp4 or .avi, or leave out -o"
            )
        if not ok or held < self.written - 2:  # a container's count is exact to a frame or two
            raise FacialEmotionError(
                f"{output}: the video could not be written whole ({held} of {self.written} "
                "frames; is the disk full?); free some space or write it elsewhere"
            )


def _frames(
    cap: cv2.VideoCapture,
    first: np.ndarray,
    limit: int | None,
    fps: float,
    every: int,
    summary: VideoSummary,
    camera: bool,
) -> Iterator[tuple[int, np.ndarray, float]]:
    """Every ``every``-th frame, with its number in the source and its time in seconds from the
    first. A file's own timestamps: a phone or screen recording varies its frame rate, so a
    frame's index over the average rate can be off by seconds. Where a timestamp is missing or
    runs backwards, the last one plus the frames since. Frames passed over are only grabbed,
    not converted to pixels."""
    frame: np.ndarray | None = first
    n, number, start, last = 0, 0, None, None
    while frame is not None and (limit is None or n < limit):
        stamp = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000
        start = stamp if start is None else start
        t = stamp - start
        if last is not None and not t > last:
            t = last + every / fps
        yield number, frame, t
        last = t
        n += 1
        if n == limit:
            break
        if camera:
            frame = _camera_frame(cap, summary)
            number += 1
        else:
            before = summary.frames_undecodable
            passed, frame = _file_frame(cap, every, fps, summary)
            if frame is not None and summary.frames_undecodable > before:
                # one failed read can hide many frames (a damaged chunk header in an MKV or
                # AVI): where the file's timestamps say more went by, they count
                gone = round((cap.get(cv2.CAP_PROP_POS_MSEC) / 1000 - start - last) * fps)
                if gone > passed:
                    summary.frames_undecodable += gone - passed
                    passed = gone
            number += passed


def _file_frame(
    cap: cv2.VideoCapture, every: int, fps: float, summary: VideoSummary
) -> tuple[int, np.ndarray | None]:
    """The next ``every``-th frame of a file and how many frames on it is, or None at the end.
    A damaged stretch is passed over and counted: ending there dropped the two thirds of a clip
    after it that decode (an SD card's bad block). Its end is where no frame decodes for
    ``UNDECODABLE_SECONDS``."""
    passed = failed = 0
    while failed <= UNDECODABLE_SECONDS * fps:
        passed += 1
        wanted = passed % every == 0
        ok, frame = cap.read() if wanted else (cap.grab(), None)
        if not ok:
            failed += 1
        elif wanted:
            summary.frames_undecodable += failed
            return passed, frame
        else:
            summary.frames_undecodable += failed
            failed = 0
    return passed, None


def _camera_frame(cap: cv2.VideoCapture, summary: VideoSummary) -> np.ndarray | None:
    """The camera's next frame, waiting out a driver's hiccup; None, and ``camera_stopped``,
    when it gives none for ``CAMERA_PATIENCE`` seconds: unplugged, the run ended without a word."""
    deadline = time.perf_counter() + CAMERA_PATIENCE
    while True:
        ok, frame = cap.read()
        if ok and frame is not None:
            return frame
        if time.perf_counter() > deadline:
            summary.camera_stopped = True
            return None
        time.sleep(0.05)


def process_video(
    source: str | Path | int,
    recognizer: EmotionRecognizer,
    *,
    output: str | Path | None = None,
    csv_path: str | Path | None = None,
    show: bool = False,
    smooth: int = 1,
    detect_every: int | None = None,
    max_frames: int | None = None,
    every: int = 1,
    progress: bool = True,
    on_open: Callable[[bool], object] | None = None,
    on_frame: Callable[[FrameReading], object] | None = None,
    on_csv_closed: Callable[[int], object] | None = None,
    on_csv_wait: Callable[[], object] | None = None,
) -> VideoSummary:
    """Read emotions in every frame, or every ``every``-th frame of a file; write what was asked
    for, each file atomically.

    A camera runs until ``max_frames``, ``q`` in the window, or Ctrl-C (which finishes cleanly);
    a file stops at its end, and Ctrl-C or SIGTERM there raises, leaves the outputs' names as they
    were, and keeps what was written under ``partial_name``s, which a note on the interrupt
    names. With
    ``detect_every`` N > 1, faces are searched every Nth frame read and the frames between reuse
    the boxes found (detection is most of a frame's cost; a face moves little in 1/30 s); by
    default 2, or 1 with ``every`` > 1, as faces move between the frames read. With ``every``
    N > 1, the annotated video holds the frames read, at 1/N of the rate, so it plays in the
    source's time (a constant rate: a file whose own rate varies is written at its average).
    ``on_open(camera)`` runs once the source is open as a video, before its first frame is read.
    ``on_frame(reading)`` gets each frame's ``FrameReading`` as soon as it is read, for a program
    that reacts live (a game, a kiosk); returning False ends the run as ``q`` does.
    A ``csv_path`` stream whose reader closes its end (`| head`, a game that quit) ends the CSV,
    not the run: ``on_csv_closed(frame)`` runs with the number of the frame whose rows it missed,
    the summary says ``csv_reader_left``, and the run goes on for ``output``, ``show`` or
    ``on_frame``, or ends there without them, as ``q`` ends it. A ``csv_path`` FIFO that no
    program reads yet holds the run before its first frame until one opens it; ``on_csv_wait()``,
    if given, runs once as that wait begins.
    """

    detect_every = _checked_rates(smooth, detect_every, every)
    if show:
        check_display()
    refuse_every_on_camera(source, every)
    output, csv_path = check_outputs(source, output, csv_path)
    cap, first, camera = open_source(source)
    fps, summary = _opened_summary(cap, first, camera, every)
    total = _frames_to_read(summary, every, max_frames)
    # in frames read: at least 5, the tracker's own default, for --every's sparse frames
    tracker = FaceTracker(smooth=smooth, max_missed=max(5, round(fps / every * KEEP_ID_SECONDS)))
    start = time.perf_counter()
    if camera:  # its times count on the monotonic clock from here; this ties them to the day's
        summary.started = time.time()
    with ExitStack() as stack:
        stack.callback(cap.release)
        if on_open is not None:
            on_open(camera)
        sinks = _Sinks(
            stack,
            first,
            fps / every,
            recognizer.classes,
            output,
            csv_path,
            show,
            live=camera,
            source=None if camera else Path(str(source)),
            on_csv_closed=on_csv_closed,
            on_csv_wait=on_csv_wait,
        )
        # what a run goes on for once its CSV's reader has left
        other_outputs = output is not None or show or on_frame is not None
        bar = stack.enter_context(
            progress_bar(total, unit="frame", leave=False, off=camera or not progress)
        )
        try:
            frames = _frames(cap, first, max_frames, fps, every, summary, camera)
            last = _read_frames(
                frames,
                recognizer,
                tracker,
                summary,
                sinks,
                bar,
                detect_every=detect_every,
                camera_start=start if camera else None,
                on_frame=on_frame,
                other_outputs=other_outputs,
            )
            if last is not None:  # the frames ran out: a header's count is exact to a frame or two
                reached = last // every + 1  # frames read, and the damaged ones passed over
                summary.ended_early = not camera and reached < (total or 0) - 2
        except (KeyboardInterrupt, SystemError) as exc:  # a camera's run ends so
            if not camera or interrupt_in(exc) is None:
                raise
    summary.seconds = time.perf_counter() - start
    summary.csv_reader_left = sinks.reader_left
    summary.csv_rows_unsent = sinks.rows_unsent
    return summary


def _checked_rates(smooth: int, detect_every: int | None, every: int) -> int:
    """``detect_every``, or its default (2; 1 with ``every`` > 1); a rate below 1 is refused
    before any source is opened."""
    if detect_every is None:
        detect_every = 2 if every == 1 else 1
    if smooth < 1 or detect_every < 1 or every < 1:
        raise FacialEmotionError(
            "--smooth, --detect-every and --every must be at least 1, got "
            f"{smooth}, {detect_every} and {every}"
        )
    return detect_every


def _opened_summary(
    cap: cv2.VideoCapture, first: np.ndarray, camera: bool, every: int
) -> tuple[float, VideoSummary]:
    """The source's frame rate, its header's where that is believable, and the summary a run
    starts from: the header's frame count and rate as the JSON line reports them."""
    declared = cap.get(cv2.CAP_PROP_FPS)
    fps = declared if 0 < declared <= MAX_FPS else DEFAULT_FPS
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    summary = VideoSummary(
        frames_declared=count if count > 0 and not camera else None,
        fps=fps / every,
        fps_declared=None if fps == declared or camera else declared,
        every=every,
        size=(first.shape[1], first.shape[0]),
    )
    return fps, summary


def _frames_to_read(summary: VideoSummary, every: int, max_frames: int | None) -> int | None:
    """How many frames the run will read, for the progress bar and ``ended_early``; None for a
    camera, or a file whose header gives no count, unless ``max_frames`` caps it."""
    count = summary.frames_declared
    total = -(-count // every) if count is not None else None
    if max_frames is not None:
        total = min(total, max_frames) if total else max_frames
    return total


def _read_frames(
    frames: Iterator[tuple[int, np.ndarray, float]],
    recognizer: EmotionRecognizer,
    tracker: FaceTracker,
    summary: VideoSummary,
    sinks: _Sinks,
    bar: tqdm,
    *,
    detect_every: int,
    camera_start: float | None,
    on_frame: Callable[[FrameReading], object] | None,
    other_outputs: bool,
) -> int | None:
    """Read each frame's faces into ``summary`` and ``sinks``; the last frame's number once the
    frames ran out, or None when the run was ended: ``q``, a CSV reader gone with nothing else
    to write, or ``on_frame`` returning False. A camera's times are from ``camera_start``, as its
    frames came; a file's, its own."""
    number = 0
    for index, (number, frame, stamp) in enumerate(frames):
        t = time.perf_counter() - camera_start if camera_start is not None else stamp
        detect = index % detect_every == 0
        faces, ids = _read_frame(frame, recognizer, tracker, detect)
        summary.add(faces, ids)
        if not sinks.put(t, number, frame, faces, ids):
            return None
        if sinks.reader_left and not other_outputs:
            return None
        if on_frame is not None and on_frame(FrameReading(t, number, ids, faces)) is False:
            return None
        bar.update(1)
    return number


def unsent_note(csv_path: object, rows: int) -> str:
    """What a stop, or a camera's end, cost a ``--csv`` reader that had stopped reading."""
    return (
        f"{csv_path}: its reader had stopped reading, and {counted(rows, 'row')} it had no room "
        "for did not reach it"
    )


def _read_frame(
    frame: np.ndarray, recognizer: EmotionRecognizer, tracker: FaceTracker, detect: bool
) -> tuple[list[Face], list[int]]:
    """Faces of one BGR frame with smoothed probabilities, and their track ids."""
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    if detect:
        boxes, crops, scores = locate_faces(rgb, recognizer.detector)
    else:  # the last boxes, where the face is still there: not the background it left
        seen = tracker.seen()
        again = crop_faces(rgb, [box for box, _, _ in seen], recognizer.detector.crop_scale)
        kept = [i for i, (_, face, _) in enumerate(seen) if same_face(again[i], face)]
        boxes, crops = [seen[i][0] for i in kept], again[kept]
        scores = [seen[i][2] for i in kept]  # the detection's that found the face
    probs = recognizer.classify(crops) if len(crops) else np.zeros((0, len(recognizer.classes)))
    ids, smoothed = tracker.update(boxes, probs, crops, scores)
    return recognizer.faces_from(boxes, smoothed, detector_scores=scores), ids
