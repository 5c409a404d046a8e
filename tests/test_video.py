"""`facial-emotion video` on a clip the test writes itself, and source errors."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import cv2
import matplotlib.cbook
import numpy as np
import pytest

from facial_emotion.cli import main
from facial_emotion.errors import FacialEmotionError
from facial_emotion.labels import EMOTIONS
from facial_emotion.video import _Sinks

FRAMES = 12
# "1 row", "57 rows", "1,234 rows": how `video.unsent_note` counts the rows a reader missed
UNSENT_ROWS = r"(1 row|\d{1,3}(,\d{3})* rows)"


def hopper(width: int, height: int) -> np.ndarray:
    """Grace Hopper's portrait, the photo matplotlib ships, as a BGR image of this size."""
    photo = cv2.imread(str(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    return cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA)


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 10) -> Path:
    """An mp4 of ``frames`` (BGR, all one size)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def sliding_face(scene: np.ndarray, step: int, frames: int, face_frames: int) -> list[np.ndarray]:
    """``frames`` copies of a 640x480 ``scene``, the first ``face_frames`` with the portrait
    pasted ``step`` pixels further right each time."""
    face = hopper(200, 234)
    shots = [scene.copy() for _ in range(frames)]
    for i, shot in enumerate(shots[:face_frames]):
        shot[120:354, 100 + step * i : 300 + step * i] = face
    return shots


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 640x480 mp4 of 12 frames: Grace Hopper's portrait sliding right on a gray background."""
    scene = np.full((480, 640, 3), 60, np.uint8)
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    return write_clip(path, sliding_face(scene, step=8, frames=FRAMES, face_frames=FRAMES))


def variable_rate(clip: Path, target: Path) -> Path:
    """``clip`` as a phone would record it: the first half of its frames at twice its rate, the
    rest at two thirds, in the same time (its mp4 index, after the frames, is rewritten)."""
    data = clip.read_bytes()

    def boxes(start: int, end: int) -> bytes:
        out, pos = b"", start
        while pos < end:
            size, kind = struct.unpack(">I4s", data[pos : pos + 8])
            body = data[pos + 8 : pos + size]
            if kind in (b"moov", b"trak", b"mdia", b"minf", b"stbl"):
                body = boxes(pos + 8, pos + size)
            elif kind == b"stts":  # one (count, duration) entry: every frame equally long
                count, step = struct.unpack(">II", body[8:16])
                steps = [step // 2] * (count // 2) + [step * 3 // 2] * (count - count // 2)
                entries = b"".join(struct.pack(">II", 1, d) for d in steps)
                body = body[:4] + struct.pack(">I", count) + entries
            out += struct.pack(">I4s", len(body) + 8, kind) + body
            pos += size
        return out

    target.write_bytes(boxes(0, len(data)))
    return target


def run(capsys, *argv: object) -> tuple[int, str, str]:
    code = main(["video", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def run_in_a_process(*argv: object, **options) -> subprocess.CompletedProcess[str]:
    """`facial-emotion video` in a process of its own, for what only a process shows (FFmpeg's
    own stderr when no test captures it, the CSV on the real stdout)."""
    command = [sys.executable, "-m", "facial_emotion", "video", *map(str, argv)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, **options)


@contextlib.contextmanager
def small_files() -> Iterator[None]:
    """A limit of 1,000 bytes a file standing in for a full disk (a 12-frame CSV is 1.3 KB): a
    failed write, not a process killed by SIGXFSZ. Set in this process (a Python of its own
    loads TensorFlow again, 10-15 s each on a loaded machine) and lifted after: the soft limit
    alone, so the hard one that lets it rise again stays."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_an_empty_source_is_refused_before_the_model_loads(capsys, monkeypatch):
    """`video "$CLIP"` with CLIP unset: after the model loaded, ": is a folder; pass one video
    file", naming the working folder ("" is ".") as an empty word."""

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr("facial_emotion.predict.EmotionRecognizer", no_model)
    with pytest.raises(SystemExit) as stop:
        run(capsys, "")
    assert stop.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines()[-1] == (  # as its -o and --csv say it
        'facial-emotion video: error: argument SOURCE: "": an empty video name (an unset '
        "variable?); name the video file, or a webcam index (0)"
    )


@pytest.mark.parametrize(
    ("option", "said"),
    [
        ("-o", '"": an empty file name (an unset variable?); name the video file, e.g. out.mp4'),
        ("--csv", '"": an empty file name (an unset variable?); name the file, e.g. faces.csv'),
    ],
)
def test_an_empty_output_name_is_refused_as_such(capsys, clip, option, said):
    """`-o "$OUT"` or `--csv "$OUT"` with OUT unset: "" is Path("."), so the refusal named ".",
    a name the user never typed, as predict's -o did before d29e3d7."""
    with pytest.raises(SystemExit) as stop:
        run(capsys, clip, option, "")
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(said)


def test_annotated_video_and_per_frame_csv(capsys, clip, tiny_model_path, tmp_path):
    video, table = tmp_path / "out" / "annotated.mp4", tmp_path / "out" / "faces.csv"
    args = [clip, "--model", tiny_model_path, "-o", video, "--csv", table, "--smooth", "3"]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["frames"] == FRAMES and summary["distinct_faces"] == 1
    assert summary["face_detections"] >= FRAMES - 2

    cap = cv2.VideoCapture(str(video))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES
    ok, frame = cap.read()
    cap.release()
    assert ok and frame.shape == (480, 640, 3)

    rows = list(csv.DictReader(table.open()))
    assert list(rows[0]) == [
        "time",
        "frame",
        "face",
        "x",
        "y",
        "w",
        "h",
        "emotion",
        "score",
        *EMOTIONS,
        "detector_score",
    ]
    assert len(rows) == summary["face_detections"]
    # Haar's neighbour count (video's min_neighbors 3, + 1), on the frames it searched and, from
    # the search that found the face, on those between (--detect-every 2)
    assert all(int(r["detector_score"]) >= 4 for r in rows)
    assert {r["face"] for r in rows} == {"1"}  # one person, one id throughout
    assert float(rows[-1]["time"]) == pytest.approx(int(rows[-1]["frame"]) / 10, abs=1e-3)
    xs = [int(r["x"]) for r in rows]
    assert xs[-1] > xs[0]  # the box follows the face to the right
    assert sorted(p.name for p in video.parent.iterdir()) == ["annotated.mp4", "faces.csv"]


def test_csv_times_are_the_frames_own_in_a_variable_rate_video(
    capsys, clip, tiny_model_path, tmp_path
):
    """Index over the average rate put frame 6 at 0.6 s; it is shown at 0.3 s."""
    table = tmp_path / "faces.csv"
    vfr = variable_rate(clip, tmp_path / "phone.mp4")
    args = [vfr, "--model", tiny_model_path, "--csv", table, "--detect-every", "1"]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    times = {int(r["frame"]): float(r["time"]) for r in csv.DictReader(table.open())}
    half = FRAMES // 2
    expected = {i: i * 0.05 if i <= half else 0.3 + (i - half) * 0.15 for i in range(FRAMES)}
    assert times == pytest.approx({i: expected[i] for i in times}, abs=1e-3)
    assert len(times) >= FRAMES - 2


def test_a_webm_output_is_vp8_which_browsers_play(capfd, clip, tiny_model_path, tmp_path):
    video = tmp_path / "annotated.webm"
    code, _, err = run(capfd, clip, "--model", tiny_model_path, "-o", video)
    assert code == 0, err
    assert err == ""  # not FFmpeg's note on WebM's tag for VP8
    written = cv2.VideoCapture(str(video))
    fourcc = int(written.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode()
    assert fourcc == "VP80" and int(written.get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES


def test_min_confidence_marks_smoothed_faces_under_it_uncertain(
    capsys, clip, tiny_model_path, tmp_path
):
    """With --smooth the threshold judges the averaged score a row shows, not the frame's own:
    a threshold between the two, for some frame, tells them apart."""

    def scores(*options: str) -> list[tuple[str, float]]:
        table = tmp_path / "faces.csv"
        args = [clip, "--model", tiny_model_path, "--csv", table, "--max-frames", "6", *options]
        code, out, err = run(capsys, *args)
        assert code == 0, err
        rows = list(csv.DictReader(table.open()))
        assert json.loads(out)["emotions"] == dict(Counter(r["emotion"] for r in rows))
        return [(r["emotion"], float(r["score"])) for r in rows]

    own = [score for _, score in scores()]
    smoothed = [score for _, score in scores("--smooth", "3")]
    # a frame whose own score clears the threshold while its smoothed one does not, or back
    pairs = enumerate(zip(own, smoothed, strict=True))
    frame, cut = next((i, (a + b) / 2) for i, (a, b) in pairs if abs(a - b) > 1e-4)
    judged = scores("--smooth", "3", "--min-confidence", f"{cut:.6f}")
    assert [emotion == "uncertain" for emotion, _ in judged] == [s < cut for s in smoothed]
    assert (judged[frame][0] == "uncertain") != (own[frame] < cut)


def test_max_frames_and_no_outputs(capsys, clip, tiny_model_path):
    code, out, _ = run(capsys, clip, "--model", tiny_model_path, "--max-frames", "3")
    assert code == 0 and json.loads(out)["frames"] == 3


def test_a_file_that_is_not_a_video_is_one_clear_line(capsys, tiny_model_path, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x01 this is not a video" * 50)
    code, out, err = run(capsys, bad, "--model", tiny_model_path, "-o", tmp_path / "o.mp4")
    assert code == 2 and out == ""
    assert err == f"facial-emotion video: error: {bad}: cannot be read as a video: " + (
        "damaged, cut off before its end (as a recording that crashed), or in a format OpenCV "
        "cannot decode; try another file\n"
    )
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize(
    ("name", "kind"), [("photo.mp4", "JPEG"), ("photo.jpg", "JPEG"), ("a.mov", "PNG")]
)
def test_a_photo_is_named_as_one_not_read_as_a_video_of_one_frame(
    capsys, tiny_model_path, tmp_path, name, kind
):
    """A JPEG named .mp4 (or .jpg) ran as a one-frame "video", exit status 0 (audit AC)."""
    photo = tmp_path / name
    photo.write_bytes(cv2.imencode(f".{kind.lower()}", hopper(200, 234))[1].tobytes())
    table = tmp_path / "faces.csv"
    code, out, err = run(capsys, photo, "--model", tiny_model_path, "--csv", table)
    assert code == 2 and out == ""
    assert err == (
        f"facial-emotion video: error: {photo}: is a {kind} image, not a video; read its faces "
        f"with `facial-emotion predict {photo}`\n"
    )
    assert not table.exists()


def test_a_stream_of_jpegs_is_read_as_the_video_it_is(capsys, tiny_model_path, tmp_path):
    """An IP camera's .mjpeg is one JPEG after another, which FFmpeg reads as a video."""
    frames = [cv2.imencode(".jpg", hopper(160, 120))[1].tobytes() for _ in range(4)]
    stream = tmp_path / "camera.mjpeg"
    stream.write_bytes(b"".join(frames))
    code, out, err = run(capsys, stream, "--model", tiny_model_path)
    assert code == 0 and json.loads(out)["frames"] == 4, err


def sound_files(clip: Path, folder: Path) -> list[Path]:
    """A WAV, an MP3 (a tag, then silent frames) and an MP4 whose one track is sound (``clip``
    with its track's handler made "soun", as FFmpeg then reads it): files with no pictures."""
    import wave

    wav = folder / "voice.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(1600))
    mp3 = folder / "song.mp3"  # MPEG-1 layer III, 128 kb/s at 44.1 kHz: 417-byte frames
    mp3.write_bytes(b"ID3\x04" + bytes(6) + (b"\xff\xfb\x90\x64" + bytes(413)) * 20)
    data = clip.read_bytes()
    handler = data.find(b"hdlr") + 12
    m4a = folder / "interview.mp4"
    m4a.write_bytes(data[:handler] + b"soun" + data[handler + 4 :])
    return [wav, mp3, m4a]


def test_a_file_of_sound_alone_is_said_to_have_no_video_stream(
    capsys, clip, tiny_model_path, tmp_path
):
    """An audio file (even named .mp4) was called damaged or cut off (audit AC)."""
    for sound in sound_files(clip, tmp_path):
        code, out, err = run(capsys, sound, "--model", tiny_model_path)
        assert code == 2 and out == ""
        assert err == (
            f"facial-emotion video: error: {sound}: has no video stream, only sound; pass a video "
            "file\n"
        )


def test_a_sound_files_cover_picture_is_not_read_as_a_video(capsys, tiny_model_path, tmp_path):
    """An MP3 with its album's cover (an ID3 APIC frame), as music files come, opened as a
    one-frame video: exit status 0, called damaged, at 90000 frames/s (review AM)."""
    cover = cv2.imencode(".jpg", hopper(64, 64))[1].tobytes()
    picture = b"\x00image/jpeg\x00\x03\x00" + cover  # no text encoding, type 3: front cover
    frame = b"APIC" + struct.pack(">I", len(picture)) + b"\x00\x00" + picture
    size = bytes((len(frame) >> shift) & 0x7F for shift in (21, 14, 7, 0))  # ID3's syncsafe
    song = tmp_path / "song.mp3"
    song.write_bytes(b"ID3\x03\x00\x00" + size + frame + (b"\xff\xfb\x90\x64" + bytes(413)) * 20)
    table = tmp_path / "faces.csv"
    code, out, err = run(capsys, song, "--model", tiny_model_path, "--csv", table)
    assert code == 2 and out == ""
    assert err == (
        f"facial-emotion video: error: {song}: has no video stream, only sound and a still "
        "picture (its cover); pass a video file\n"
    )
    assert not table.exists()


def test_an_mp4_index_is_read_from_its_first_byte(tmp_path: Path) -> None:
    """The index was read 8 bytes late, past a handler box that opens it."""
    from facial_emotion.media import sound_only

    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    handler = box(b"hdlr", bytes(8) + b"soun" + bytes(12))
    data = box(b"ftyp", b"M4A " + bytes(4)) + box(b"moov", handler)
    path = tmp_path / "voice.m4a"
    path.write_bytes(data)
    assert sound_only(path)


def test_an_mp4_cut_off_in_a_box_header_is_called_damaged(capsys, tiny_model_path, tmp_path):
    """A box announcing a 64-bit length at the file's end: reading the length raised."""
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(b"\x00\x00\x00\x10ftypisom" + bytes(4) + b"\x00\x00\x00\x01mdat\x00\x00")
    code, out, err = run(capsys, cut, "--model", tiny_model_path)
    assert code == 2 and out == "" and "cannot be read as a video: damaged" in err, err


def test_an_undecodable_file_prints_no_ffmpeg_complaint(tiny_model_path, tmp_path):
    """FFmpeg writes to the process's stderr itself, so only a separate process shows it."""
    bad = tmp_path / "text.mp4"
    bad.write_text("not a video\n")
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_FFMPEG_LOGLEVEL"}
    result = run_in_a_process(bad, "--model", tiny_model_path, env=env)
    assert result.returncode == 2 and "moov atom" not in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith("in a format OpenCV cannot decode; try another file")


def test_terminating_a_run_keeps_what_was_read_under_partial_names(tiny_model_path, tmp_path):
    """SIGTERM, as `kill` and `docker stop` send it, keeps what was read as Ctrl-C does, and
    no temporary file."""
    signum, said = signal.SIGTERM, "terminated"
    # minutes of work, so the run is still going when it is stopped
    long_clip = write_clip(tmp_path / "long.mp4", [hopper(128, 150)] * 6000, fps=30)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "facial_emotion", "video", str(long_clip)]
    command += ["--model", str(tiny_model_path), "-o", str(out / "a.mp4")]
    command += ["--csv", str(out / "a.csv")]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)

    def rows_written() -> int:  # they reach the file a buffer's worth at a time
        return sum(table.read_text().count("\n") for table in out.glob(".a.*.csv"))

    # until both outputs are being written, frames in them: a fixed second after they appeared
    # may pass, on a loaded machine, before the first frame is read, and then none is kept
    deadline = time.monotonic() + 300
    while (len(list(out.glob(".a.*"))) < 2 or rows_written() < 2) and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, err
    kept = [out / "a.partial.csv", out / "a.partial.mp4"]
    assert sorted(out.iterdir()) == kept
    assert err.splitlines()[-2] == f"facial-emotion video: {said}"
    assert err.splitlines()[-1].endswith(f"is kept in {kept[0]} and {kept[1]}")
    rows = list(csv.DictReader(kept[0].open()))
    video = cv2.VideoCapture(str(kept[1]))
    assert len(rows) == int(video.get(cv2.CAP_PROP_FRAME_COUNT)) > 0  # a face in every frame


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="Windows has no SIGHUP")
def test_a_hang_up_keeps_what_was_read_as_sigterm_does(
    capsys, clip, tiny_model_path, tmp_path, monkeypatch
):
    """SIGHUP, as a closed terminal or a dropped SSH session sends it, ended the run keeping
    nothing. Raised in this process, at frame 5, through the handler the command installs (the
    SIGTERM test above sends its signal to a process of its own)."""
    import facial_emotion.video as video

    if signal.getsignal(signal.SIGHUP) is not signal.SIG_DFL:
        pytest.skip("SIGHUP is ignored here (nohup), and a run goes on through it by design")
    read_frame, calls = video._read_frame, []

    def hung_up_at_frame_5(*args, **kwargs):
        calls.append(1)
        if len(calls) == 6:
            # without the command's handler, SIGHUP's default would end pytest itself
            assert signal.getsignal(signal.SIGHUP) is not signal.SIG_DFL, "no SIGHUP handler"
            signal.raise_signal(signal.SIGHUP)
        return read_frame(*args, **kwargs)

    monkeypatch.setattr(video, "_read_frame", hung_up_at_frame_5)
    out = tmp_path / "out"
    args = [clip, "--model", tiny_model_path, "-o", out / "a.mp4", "--csv", out / "a.csv"]
    code, _, err = run(capsys, *args, "--detect-every", "1")
    assert code == 128 + signal.SIGHUP, err
    kept = [out / "a.partial.csv", out / "a.partial.mp4"]
    assert sorted(out.iterdir()) == kept
    assert err.splitlines()[-2] == "facial-emotion video: hung up"
    assert err.splitlines()[-1].endswith(f"is kept in {kept[0]} and {kept[1]}")
    rows = list(csv.DictReader(kept[0].open()))
    recording = cv2.VideoCapture(str(kept[1]))
    assert len(rows) == int(recording.get(cv2.CAP_PROP_FRAME_COUNT)) == 5


def test_a_stop_whose_csv_terminal_is_gone_is_still_a_stop(tmp_path):
    """`video --csv /dev/stdout` on a terminal that hung up: the rows still queued as SIGHUP
    stopped the run met the closed terminal (EIO) as the stream was closed, and that error took
    the stop's place: exit status 1 with a traceback, or 2 (measured on a pty: master closed,
    then SIGHUP), where a hang-up is 129."""
    from facial_emotion.stops import Terminated

    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # opened, so the writer does not wait
    try:
        frame = np.zeros((48, 64, 3), np.uint8)
        with pytest.raises(Terminated), ExitStack() as stack:
            sinks = _Sinks(stack, frame, 10.0, tuple(EMOTIONS), None, fifo, False)
            sinks.stream.queued += b"a row the terminal no longer takes\n"

            def gone(patience: float | None = None) -> None:
                raise OSError(5, "Input/output error")

            sinks.stream.send = gone
            raise Terminated(signal.SIGTERM)
    finally:
        os.close(reader)


@pytest.mark.parametrize("raised", ["interrupt", "in TensorFlow"])
def test_ctrl_c_on_a_file_keeps_what_was_read_and_leaves_the_outputs_names_alone(
    capsys, clip, tiny_model_path, tmp_path, monkeypatch, raised
):
    """A video stopped at minute 50 of 60 kept nothing of the 50 (audit AC). Ctrl-C while C code
    calls back into Python comes out as a SystemError, the interrupt its cause."""
    import facial_emotion.video as video

    read_frame, calls = video._read_frame, []

    def stopped_at_frame_5(*args, **kwargs):
        calls.append(1)
        if len(calls) == 6:
            if raised == "interrupt":
                raise KeyboardInterrupt
            raise SystemError("returned a result with an exception set") from KeyboardInterrupt()
        return read_frame(*args, **kwargs)

    monkeypatch.setattr(video, "_read_frame", stopped_at_frame_5)
    annotated, table = tmp_path / "annotated.mp4", tmp_path / "faces.csv"
    table.write_text("an earlier run's\n")
    args = [clip, "--model", tiny_model_path, "-o", annotated, "--csv", table]
    code, out, err = run(capsys, *args, "--detect-every", "1")
    assert code == 130 and out == ""
    kept = [tmp_path / "faces.partial.csv", tmp_path / "annotated.partial.mp4"]
    assert err.endswith(
        "facial-emotion video: interrupted\n"
        f"facial-emotion video: note: {clip}: stopped after frame 4 (0.4 s in); what was read "
        f"up to it is kept in {kept[0]} and {kept[1]}\n"
    )
    assert sorted(tmp_path.iterdir()) == sorted([table, *kept])
    assert table.read_text() == "an earlier run's\n"
    assert [int(r["frame"]) for r in csv.DictReader(kept[0].open())] == [0, 1, 2, 3, 4]
    recording = cv2.VideoCapture(str(kept[1]))
    assert int(recording.get(cv2.CAP_PROP_FRAME_COUNT)) == 5 and recording.read()[0]


def test_a_stop_during_a_frames_writes_keeps_that_frame_in_both_outputs(
    capsys, clip, tiny_model_path, tmp_path, monkeypatch
):
    """Ctrl-C that came while the writer encoded frame 4 was raised just after it: the video
    held frames 0-4 and the note said "stopped after frame 3" (review AM: 6 of 150 stops at
    random times named the frame before, or kept a CSV a frame ahead of the video)."""
    import facial_emotion.video as video

    real = cv2.VideoWriter

    class StoppedAtFrame4:
        def __init__(self, *args: object) -> None:
            self.writer, self.frames = real(*args), 0

        def write(self, frame: np.ndarray) -> None:
            self.writer.write(frame)
            self.frames += 1
            if self.frames == 5:
                signal.raise_signal(signal.SIGINT)

        def __getattr__(self, name: str) -> object:
            return getattr(self.writer, name)

    monkeypatch.setattr(video.cv2, "VideoWriter", StoppedAtFrame4)
    annotated, table = tmp_path / "a.mp4", tmp_path / "a.csv"
    args = [clip, "--model", tiny_model_path, "-o", annotated, "--csv", table, "--detect-every", 1]
    code, _, err = run(capsys, *args)
    assert code == 130
    assert f"{clip}: stopped after frame 4 (0.4 s in)" in err, err
    rows = [int(row["frame"]) for row in csv.DictReader((tmp_path / "a.partial.csv").open())]
    kept = cv2.VideoCapture(str(tmp_path / "a.partial.mp4"))
    assert rows == [0, 1, 2, 3, 4] and int(kept.get(cv2.CAP_PROP_FRAME_COUNT)) == 5


def test_a_stop_before_any_frame_was_read_keeps_nothing(
    capsys, clip, tiny_model_path, tmp_path, monkeypatch
):
    import facial_emotion.video as video

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(video, "_read_frame", stop)
    code, _, err = run(capsys, clip, "--model", tiny_model_path, "--csv", tmp_path / "f.csv")
    assert code == 130 and err.endswith("facial-emotion video: interrupted\n")
    assert list(tmp_path.iterdir()) == []


def turned_on_its_side(path: Path, frames: list[np.ndarray]) -> Path:
    """A phone's portrait clip: ``frames`` (upright) stored turned a quarter anticlockwise, as
    its sensor films them, with the display matrix of its "rotate=90" in the mp4's track header
    (a version 0 ``tkhd``: the matrix follows 40 bytes of times, ids, layer and volume)."""
    write_clip(path, [cv2.rotate(f, cv2.ROTATE_90_COUNTERCLOCKWISE) for f in frames])
    data = bytearray(path.read_bytes())
    matrix = data.find(b"tkhd") + 4 + 40
    one = 1 << 16  # 16.16 fixed point; the last entry 2.30
    data[matrix : matrix + 36] = struct.pack(">9i", 0, one, 0, -one, 0, 0, 0, 0, 1 << 30)
    path.write_bytes(bytes(data))
    return path


def test_a_phones_portrait_clip_is_read_and_written_upright(capsys, tiny_model_path, tmp_path):
    """Phones store a portrait clip on its side with a rotation tag: read as stored, its faces
    lie on their side, where Haar finds none, and the annotated video would too. OpenCV turns
    the frames as the tag says; this keeps it so."""
    portrait = np.full((640, 480, 3), 60, np.uint8)
    portrait[200:434, 140:340] = hopper(200, 234)
    clip = turned_on_its_side(tmp_path / "phone.mp4", [portrait] * 4)
    video, table = tmp_path / "out.mp4", tmp_path / "faces.csv"
    code, out, err = run(capsys, clip, "--model", tiny_model_path, "-o", video, "--csv", table)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["size"] == [480, 640] and summary["face_detections"] == 4
    assert all(int(r["y"]) > 150 for r in csv.DictReader(table.open()))  # the portrait's pixels
    cap = cv2.VideoCapture(str(video))
    ok, frame = cap.read()
    assert ok and frame.shape == (640, 480, 3) and cap.get(cv2.CAP_PROP_ORIENTATION_META) == 0
    cap.release()


def test_an_output_that_replaces_a_file_says_so(capsys, clip, tiny_model_path, tmp_path):
    """An earlier run's video and CSV were replaced without a word (audit AC); a device written
    into is not a file replaced."""
    video, table = tmp_path / "a.mp4", tmp_path / "a.csv"
    args = [clip, "--model", tiny_model_path, "-o", video, "--csv", table, "--max-frames", "2"]
    code, _, err = run(capsys, *args)
    assert code == 0 and err == "", err
    code, _, err = run(capsys, *args)
    assert code == 0
    assert err == "".join(
        f"facial-emotion video: note: {path}: exists, and is replaced when the run ends (a "
        "stopped run leaves it)\n"
        for path in (video, table)
    )
    code, _, err = run(capsys, clip, "--model", tiny_model_path, "--csv", os.devnull)
    assert code == 0 and err == "", err


def test_a_source_that_is_no_video_replaces_nothing_and_says_nothing_of_it(
    capsys, tiny_model_path, tmp_path
):
    """A photo given as the source, with an existing -o: the note that the file "is replaced"
    came first, then the error, and the file was left as it was (review AM)."""
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(cv2.imencode(".jpg", hopper(200, 234))[1].tobytes())
    table = tmp_path / "a.csv"
    table.write_text("an earlier run's\n")
    code, _, err = run(capsys, photo, "--model", tiny_model_path, "--csv", table)
    assert code == 2 and "exists" not in err and "is a JPEG image, not a video" in err, err
    assert table.read_text() == "an earlier run's\n"


def clip_as_camera(clip: Path):
    """An ``open_source`` that opens ``clip`` as if it were a webcam: no camera in a test."""

    def open_source(source):
        cap = cv2.VideoCapture(str(clip))
        return cap, cap.read()[1], True

    return open_source


def test_a_cameras_output_that_replaces_a_file_says_so(
    capsys, clip, tiny_model_path, tmp_path, monkeypatch
):
    """A camera's run ends on Ctrl-C and replaces the file then too: no "a stopped run leaves
    it". A file read as a camera stands in for one."""
    import facial_emotion.video as video

    monkeypatch.setattr(video, "open_source", clip_as_camera(clip))
    monkeypatch.setattr(video, "CAMERA_PATIENCE", 0.1)
    table = tmp_path / "a.csv"
    table.write_text("an earlier recording's\n")
    code, _, err = run(capsys, "0", "--model", tiny_model_path, "--csv", table, "--max-frames", 2)
    assert code == 0
    assert (
        err == f"facial-emotion video: note: {table}: exists, and is replaced when the run ends\n"
    )


def test_the_output_never_replaces_the_source(capsys, clip, tiny_model_path):
    before = clip.read_bytes()
    code, out, err = run(capsys, clip, "--model", tiny_model_path, "-o", clip)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert clip.read_bytes() == before


@pytest.mark.parametrize("name", ["out.gif", "out.png", "out.csv", "out"])
def test_an_output_not_named_as_a_video_is_refused_before_any_work(capsys, clip, name, tmp_path):
    """OpenCV wrote a .gif as one frame (or failed, by its temporary name's digits) and a .png
    as a stream nothing plays, each with exit status 0."""
    with pytest.raises(SystemExit) as stop:
        run(capsys, clip, "-o", tmp_path / name)
    assert stop.value.code == 2
    assert (
        f"{name}: the annotated video is a video file; name it .mp4, .m4v, .avi, .mkv, .mov, .webm"
        in (capsys.readouterr().err)
    )
    assert list(tmp_path.iterdir()) == []


def test_a_folder_or_a_video_without_frames_is_named_as_such(capsys, tiny_model_path, tmp_path):
    code, _, err = run(capsys, tmp_path, "--model", tiny_model_path)
    assert code == 2 and err.strip().endswith(f"{tmp_path}: is a folder; pass one video file")
    empty = tmp_path / "empty.avi"
    cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 30, (64, 48)).release()
    code, _, err = run(capsys, empty, "--model", tiny_model_path)
    assert code == 2
    assert err.strip().endswith("empty.avi: has no frame OpenCV can decode; it may be empty")


@pytest.mark.parametrize(
    ("suffix", "codec"), [(".mp4", "mp4v"), (".mov", "mp4v"), (".webm", "VP80")]
)
def test_a_video_closed_before_its_first_frame_is_not_called_damaged(
    capsys, tiny_model_path, tmp_path, suffix, codec
):
    """OpenCV's writer closed with no frame leaves a whole file OpenCV cannot open, which was
    called "damaged, cut off before its end, or in a format OpenCV cannot decode"."""
    empty = tmp_path / f"empty{suffix}"
    cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*codec), 30, (64, 48)).release()
    code, _, err = run(capsys, empty, "--model", tiny_model_path)
    assert code == 2
    assert err.strip().endswith(
        f"{empty}: holds no frames (written by a program that stopped before its first); pass a "
        "video with frames"
    )


def wide_avi(path: Path, width: int) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (width, 16))
    for _ in range(2):
        writer.write(np.zeros((16, width, 3), np.uint8))
    writer.release()
    return path


def test_frames_over_8k_a_side_are_refused_in_one_line(capsys, tiny_model_path, tmp_path):
    """A 16000x12000 clip was decoded whole, frame after frame (2.7 GB)."""
    code, _, err = run(capsys, wide_avi(tmp_path / "wide.avi", 8200), "--model", tiny_model_path)
    assert code == 2
    assert err.strip().endswith(
        "wide.avi: frames of 8200x16 are larger than the 8192 pixels a side read here; "
        "scale the video down first (ffmpeg -vf scale=1920:-2)"
    )


def test_an_mp4_too_wide_for_mpeg4_names_the_cause(capsys, tiny_model_path, tmp_path):
    """It said "cannot write a video there; use a .mp4 or .webm path" of an .mp4 path."""
    wide = wide_avi(tmp_path / "vr.avi", 8192)  # 8K VR video is 8192 wide
    code, _, err = run(capsys, wide, "--model", tiny_model_path, "-o", tmp_path / "out.mp4")
    assert code == 2
    assert err.strip().endswith(
        "out.mp4: MPEG-4 encodes frames up to 8191 pixels a side, these are 8192x16; "
        "write a .webm or .avi"
    )
    code, _, err = run(capsys, wide, "--model", tiny_model_path, "-o", tmp_path / "out.webm")
    assert code == 0, err


def test_a_video_name_that_is_not_utf8_is_one_line_not_a_crash(capsys, clip, tmp_path):
    latin1 = tmp_path / os.fsdecode(b"clip\xe9.mp4")
    shutil.copy(clip, latin1)
    for args in ([latin1], [clip, "-o", latin1.with_name(os.fsdecode(b"out\xe9.mp4"))]):
        code, _, err = run(capsys, *args)
        assert code == 2  # the status of every error the command explains
        assert err.strip().endswith("not valid UTF-8; rename it") and "\n" not in err.strip()


def mjpeg_copy(clip: Path, target: Path) -> Path:
    """``clip`` as MJPG (in AVI or MKV, by ``target``'s name): each frame a JPEG of its own."""
    source = cv2.VideoCapture(str(clip))
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for _ in range(FRAMES):
        writer.write(source.read()[1])
    writer.release()
    return target


def test_a_truncated_video_is_read_as_far_as_it_goes_with_a_warning(
    capsys, clip, tiny_model_path, tmp_path
):
    """It exits 0, as `predict` does when one image was read, so a script tells it by the
    summary's `ended_early`: comparing `frames` with `frames_declared` misread --every."""
    avi = mjpeg_copy(clip, tmp_path / "clip.avi")  # readable up to where it was cut
    cut = tmp_path / "cut.avi"
    cut.write_bytes(avi.read_bytes()[: avi.stat().st_size // 2])
    for video, warned in ((avi, False), (cut, True)):
        code, out, err = run(capsys, video, "--model", tiny_model_path)
        assert code == 0, err
        summary = json.loads(out)
        assert summary["frames_declared"] == FRAMES
        assert (summary["frames"] < FRAMES) == warned
        assert summary["ended_early"] == warned
        assert ("the rest could not be decoded" in err) == warned, err


@pytest.mark.parametrize(
    ("damaged_frames", "warned"),
    [
        ((4, 5, 6), "passed over 3 frames that could not be decoded (a damaged stretch); "
         "the frames after them were read"),
        ((4,), "passed over 1 frame that could not be decoded (a damaged stretch); "
         "the frames after it were read"),  # it said "1 frames"
    ],
    ids=["three", "one"],
)  # fmt: skip
def test_a_damaged_stretch_is_passed_over_and_the_frames_after_it_read(
    capsys, clip, tiny_model_path, tmp_path, damaged_frames, warned
):
    """Three frames that did not decode ended the run there, and the two thirds of a clip after
    them were lost, with a warning that they could not be decoded."""
    avi = mjpeg_copy(clip, tmp_path / "clip.avi")
    data = bytearray(avi.read_bytes())
    starts = [i for i in range(len(data) - 1) if data[i : i + 2] == b"\xff\xd8"]  # each JPEG
    for k in damaged_frames:
        data[starts[k] : starts[k + 1] - 8] = bytes(starts[k + 1] - 8 - starts[k])
    damaged = tmp_path / "damaged.avi"
    damaged.write_bytes(data)
    table = tmp_path / "faces.csv"
    code, out, err = run(capsys, damaged, "--model", tiny_model_path, "--csv", table)
    assert code == 0, err
    summary = json.loads(out)
    lost = len(damaged_frames)
    assert (summary["frames"], summary["frames_undecodable"]) == (FRAMES - lost, lost)
    assert warned in err
    assert "the rest could not be decoded" not in err
    rows = list(csv.DictReader(table.open()))
    kept = [n for n in range(FRAMES) if n not in damaged_frames]
    assert [int(r["frame"]) for r in rows] == kept  # the source's own
    assert [float(r["time"]) for r in rows] == pytest.approx([n / 10 for n in kept], abs=1e-3)


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="file size limits are POSIX")
@pytest.mark.parametrize("option", ["-o", "--csv"])
def test_an_output_the_disk_could_not_hold_fails_and_is_not_kept(
    capfd, clip, tiny_model_path, tmp_path, option
):
    """OpenCV's writer fails without a word: a full disk left an unplayable video, renamed into
    place, with exit status 0. A limit on file size stands in for the full disk."""
    target = tmp_path / ("out.mp4" if option == "-o" else "out.csv")
    capfd.readouterr()
    with small_files():
        code = main(["video", str(clip), option, str(target), "--model", str(tiny_model_path)])
    out, err = capfd.readouterr()  # file descriptors: FFmpeg writes to stderr's itself
    assert code == 2 and out == "", err
    assert err.startswith(f"facial-emotion video: error: {target}: "), err
    assert len(err.splitlines()) == 1, err  # no FFmpeg lines above it
    assert list(tmp_path.iterdir()) == []


def test_a_camera_that_stops_giving_frames_is_reported(clip):
    """An unplugged camera ended the run with exit status 0 and no word; a capture past its
    last frame fails its reads as the camera's do."""
    from facial_emotion.video import VideoSummary, _camera_frame

    cap = cv2.VideoCapture(str(clip))
    while cap.grab():
        pass
    summary = VideoSummary()
    start = time.perf_counter()
    assert _camera_frame(cap, summary) is None and summary.camera_stopped
    assert time.perf_counter() - start >= 1.0  # a driver's hiccup is waited out first
    cap.release()


def test_a_large_video_without_faces_says_how_to_find_small_ones(
    capsys, clip, tiny_model_path, tmp_path
):
    """A 4K clip's 220-px faces gave 0 detections and no hint to raise --detect-size."""
    scene = np.full((1080, 1920, 3), 60, np.uint8)
    large = write_clip(tmp_path / "large.mp4", [scene] * 3)
    code, out, err = run(capsys, large, "--model", tiny_model_path)
    assert code == 0 and json.loads(out)["face_detections"] == 0, err
    assert "no face found in 3 frames of 1920x1080; faces under about 144 px are missed" in err
    assert "pass --detect-size 960" in err
    code, _, err = run(capsys, clip, "--model", tiny_model_path, "--max-frames", "1")
    assert code == 0 and "no face found" not in err, err  # a 640x480 clip is searched whole


def test_missing_video_file(capsys, tiny_model_path, tmp_path):
    code, _, err = run(capsys, tmp_path / "nope.mp4", "--model", tiny_model_path)
    assert code == 2 and "nope.mp4: no such video file" in err


@pytest.mark.skipif(Path("/dev/video7").exists(), reason="a camera is present")
def test_a_camera_that_cannot_be_opened_on_macos_points_at_its_privacy_settings(
    capfd, monkeypatch, tiny_model_path
):
    """macOS opens no camera for a terminal not allowed it, and OpenCV says only that it cannot."""
    monkeypatch.setattr(sys, "platform", "darwin")
    assert main(["video", "7", "--model", str(tiny_model_path)]) == 2
    said = capfd.readouterr()[1]
    assert "allow this terminal the camera in the system's privacy settings" in said


@pytest.mark.skipif(Path("/dev/video0").exists(), reason="a camera is present")
def test_webcam_without_a_camera_fails_with_one_message(capfd, tiny_model_path):
    assert main(["video", "0", "--model", str(tiny_model_path)]) == 2
    out, err = capfd.readouterr()
    assert out == ""
    assert "facial-emotion video: error: camera 0: cannot be opened; no webcam" in err
    assert "VIDEOIO" not in err and "WARN" not in err  # OpenCV's own probing stays quiet


def test_show_without_a_display_fails_before_any_work(capsys, clip, tiny_model_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, out, err = run(capsys, clip, "--model", tiny_model_path, "--show")
    assert code == 2 and out == ""
    assert "--show needs a display" in err


def test_csv_under_another_format_name_is_refused(capsys, clip):
    with pytest.raises(SystemExit) as stop:
        main(["video", str(clip), "--csv", "frames.json"])
    assert stop.value.code == 2
    assert "frames.json: --csv writes CSV; name the file .csv" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "said"),
    [("0", "--smooth: must be at least 1, got 0"), ("two", "--smooth: invalid count value: 'two'")],
)
def test_smooth_must_be_a_count(capsys, clip, value, said):
    with pytest.raises(SystemExit) as stop:
        main(["video", str(clip), "--smooth", value])
    assert stop.value.code == 2
    assert said in capsys.readouterr().err


def test_detect_every_reuses_boxes_between_detections(capsys, clip, tiny_model_path, tmp_path):
    table = tmp_path / "faces.csv"
    args = [clip, "--model", tiny_model_path, "--csv", table, "--detect-every", "3"]
    assert run(capsys, *args)[0] == 0
    boxes = {}
    for row in csv.DictReader(table.open()):
        boxes[int(row["frame"])] = tuple(int(row[k]) for k in "xywh")
    assert boxes[0] == boxes[1] == boxes[2]  # frames 1 and 2 reuse frame 0's box
    assert boxes[3] != boxes[0]  # frame 3 searches again and follows the face


def test_a_frame_rate_past_belief_is_replaced_with_a_warning(capsys, tiny_model_path, tmp_path):
    """A header's 5,000 frames/s became 30 without a word, and the summary did not say."""
    avi = tmp_path / "odd.avi"
    writer = cv2.VideoWriter(str(avi), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(5):
        writer.write(np.full((48, 64, 3), 40 * i, np.uint8))
    writer.release()
    data = bytearray(avi.read_bytes())
    rate = data.find(b"strh") + 28  # the stream header's time scale and rate
    data[rate : rate + 8] = struct.pack("<II", 1, 5000)
    avi.write_bytes(bytes(data))
    output = tmp_path / "out.mp4"
    code, out, err = run(capsys, avi, "--model", tiny_model_path, "-o", output)
    assert code == 0
    assert json.loads(out)["fps"] == 30
    assert err == (
        f"facial-emotion video: warning: {avi}: its header gives 5000 frames/s, which cannot be "
        "right; the annotated video is written at 30 (the CSV's times are the frames' own)\n"
    )
    assert cv2.VideoCapture(str(output)).get(cv2.CAP_PROP_FPS) == 30


@pytest.mark.parametrize("suffix", [".m4v", ".avi", ".mkv", ".mov"])
def test_every_video_name_allowed_is_written_whole(capsys, clip, tiny_model_path, tmp_path, suffix):
    output = tmp_path / f"out{suffix}"
    assert run(capsys, clip, "--model", tiny_model_path, "-o", output)[0] == 0
    written = cv2.VideoCapture(str(output))
    assert int(written.get(cv2.CAP_PROP_FRAME_COUNT)) == FRAMES


def test_frames_that_change_size_are_fitted_to_the_video_not_dropped(tmp_path):
    """A camera that renegotiates its resolution: the writer silently dropped the frames."""
    output = tmp_path / "camera.mp4"
    with ExitStack() as stack:
        sinks = _Sinks(stack, np.zeros((48, 64, 3), np.uint8), 10.0, EMOTIONS, output, None, False)
        for shape in [(48, 64, 3), (96, 128, 3), (30, 40, 3)]:
            sinks.put(0.0, 0, np.full(shape, 200, np.uint8), [], [])
    recording = cv2.VideoCapture(str(output))
    assert int(recording.get(cv2.CAP_PROP_FRAME_COUNT)) == 3


@pytest.mark.parametrize("source", ["rtsp://camera.local/stream", "/dev/video0", "/dev/null"])
def test_a_stream_or_device_path_is_named_as_unsupported(capsys, tiny_model_path, source):
    code, _, err = run(capsys, source, "--model", tiny_model_path)
    assert code == 2
    assert f"{source}: streams and device paths are not read; pass a video file" in err


@pytest.mark.parametrize("background", ["flat", "textured"])
def test_a_face_that_left_is_not_read_on_the_frames_that_reuse_its_box(
    capsys, tiny_model_path, tmp_path, background
):
    """Frame 5 reused frame 4's box and gave the background it left an emotion."""
    scene = np.full((480, 640, 3), 60, np.uint8)
    if background == "textured":
        noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3)).astype(np.uint8)
        scene = cv2.GaussianBlur(noise, (9, 9), 3)
    shots = sliding_face(scene, step=4, frames=8, face_frames=5)
    clip = write_clip(tmp_path / "leaves.mp4", shots)
    table = tmp_path / "faces.csv"
    assert run(capsys, clip, "--model", tiny_model_path, "--csv", table)[0] == 0
    frames = [int(r["frame"]) for r in csv.DictReader(table.open()) if r["face"]]
    assert frames == [0, 1, 2, 3, 4]  # 1 and 3 reuse the box of the face still there


def test_every_frame_read_has_a_csv_row_a_faceless_one_with_its_time_alone(
    capsys, tiny_model_path, tmp_path
):
    """A frame without a face had no row, so its time was lost (a phone's frames are not evenly
    spaced) and a program joining the rows to frame times, or reacting as they came, could not
    tell "no face" from "not read" or "the clip had ended"; `predict --csv` gives a faceless
    image a row with its file alone."""
    scene = np.full((480, 640, 3), 60, np.uint8)
    clip = write_clip(tmp_path / "leaves.mp4", sliding_face(scene, step=4, frames=8, face_frames=3))
    table = tmp_path / "faces.csv"
    code, out, err = run(capsys, clip, "--model", tiny_model_path, "--csv", table, "--every", "2")
    assert code == 0, err
    rows = list(csv.DictReader(table.open()))
    assert [(r["time"], r["frame"]) for r in rows] == [
        ("0.000", "0"),
        ("0.200", "2"),
        ("0.400", "4"),
        ("0.600", "6"),
    ]
    assert all(r["face"] and r["emotion"] for r in rows[:2])
    assert all(set(r.values()) == {r["time"], r["frame"], ""} for r in rows[2:]), rows[2:]
    assert sum(bool(r["face"]) for r in rows) == json.loads(out)["face_detections"] == 2


@pytest.mark.parametrize("size", [(1, 1), (4097, 1), (1, 64)])
def test_frames_too_small_to_encode_are_said_so(tmp_path, size):
    """A 1-pixel-wide clip's -o x.mp4 was told "cannot write a video there; use a .mp4 or .webm
    path": its sides, rounded down to even numbers, are 0."""
    output = tmp_path / "out.mp4"
    frame = np.zeros((size[1], size[0], 3), np.uint8)
    with pytest.raises(FacialEmotionError) as caught, ExitStack() as stack:
        _Sinks(stack, frame, 20.0, tuple(EMOTIONS), output, None, False)
    assert str(caught.value) == (
        f"{output}: frames of {size[0]}x{size[1]} are too small to encode (2 pixels a side at "
        "least); leave out -o"
    )
    assert list(tmp_path.iterdir()) == []


def test_frames_too_small_for_vp8_are_said_so_not_a_full_disk(capsys, tmp_path, tiny_model_path):
    """VP8 writes no frame below 256 bits/s, which OpenCV asks of it for 4x4 frames at 10 frames/s:
    `-o out.webm` asked "is the disk full?". MPEG-4 writes them, and VP8 does at 16 frames/s."""
    frames = [np.full((4, 4, 3), 40 * i, np.uint8) for i in range(5)]
    clip = write_clip(tmp_path / "tiny.mp4", frames, fps=10)
    code, _, err = run(capsys, clip, "--model", tiny_model_path, "-o", tmp_path / "out.webm")
    assert (code, err.strip()) == (
        2,
        f"facial-emotion video: error: {tmp_path / 'out.webm'}: frames of 4x4 at 10 frames/s are "
        "too small to encode as VP8 (.webm), which wrote none of them; write a .mp4 or .avi, or "
        "leave out -o",
    )
    assert not (tmp_path / "out.webm").exists()
    code, _, err = run(capsys, clip, "--model", tiny_model_path, "-o", tmp_path / "out.mp4")
    assert code == 0, err
    faster = write_clip(tmp_path / "faster.mp4", frames, fps=16)
    code, _, err = run(capsys, faster, "--model", tiny_model_path, "-o", tmp_path / "out.webm")
    assert code == 0, err


@pytest.mark.parametrize(("live", "frames"), [(True, 6), (False, 3)])
def test_a_camera_is_recorded_in_real_time(tmp_path, live, frames):
    """Frames a slow machine read 0.1 and 0.15 s apart from a 20 fps camera fill those seconds
    (2 and 3 frames), so the recording plays as long as it took; a file's frames go one to one."""
    output = tmp_path / "camera.mp4"
    frame = np.zeros((64, 64, 3), np.uint8)
    with ExitStack() as stack:
        sinks = _Sinks(stack, frame, 20.0, tuple(EMOTIONS), output, None, False, live)
        for t in (0.0, 0.1, 0.25):
            sinks.put(t, 0, frame.copy(), [], [])
    recording = cv2.VideoCapture(str(output))
    assert int(recording.get(cv2.CAP_PROP_FRAME_COUNT)) == frames
    assert recording.get(cv2.CAP_PROP_FPS) == 20.0


def test_every_nth_frame_is_read_and_the_annotated_video_keeps_the_files_time(
    capsys, clip, tiny_model_path, tmp_path
):
    """An hour of video took an hour or more; a summary of it needs one frame a second."""
    video, table = tmp_path / "every.mp4", tmp_path / "every.csv"
    args = [clip, "--model", tiny_model_path, "-o", video, "--csv", table, "--every", "5"]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["frames"] == 3 and summary["every"] == 5 and summary["fps"] == 2  # 0, 5, 10
    rows = list(csv.DictReader(table.open()))
    assert [int(r["frame"]) for r in rows] == [0, 5, 10]  # the source's frame numbers
    assert [float(r["time"]) for r in rows] == pytest.approx([0, 0.5, 1.0], abs=1e-3)
    cap = cv2.VideoCapture(str(video))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3 and cap.get(cv2.CAP_PROP_FPS) == 2
    cap.release()
    assert "could not be decoded" not in err  # 3 of 12 frames read is the whole file


@pytest.mark.parametrize(("every", "frames"), [(50, 1), (12, 1), (11, 2)])
def test_every_past_the_clips_frames_says_so(capsys, clip, tiny_model_path, every, frames):
    """--every 50 on a 12-frame clip read its first frame alone, with no word (audit AC)."""
    code, out, err = run(capsys, clip, "--model", tiny_model_path, "--every", every)
    assert code == 0 and json.loads(out)["frames"] == frames, err
    said = (
        f"facial-emotion video: note: {clip}: --every {every} read only its first frame, as it "
        "has 12 frames; pass --every 11 or less to read more of them\n"
    )
    assert err == (said if frames == 1 else "")


def test_every_is_refused_for_a_camera_before_it_is_opened(capfd, tmp_path):
    """Refused only after the model loaded and the camera opened (its light on), it said so
    seconds late."""
    missing_model = tmp_path / "none.keras"  # not loaded: the refusal comes first
    assert main(["video", "0", "--model", str(missing_model), "--every", "3"]) == 2
    assert "camera 0: --every reads part of a file's frames" in capfd.readouterr().err


def test_max_frames_counts_the_frames_read_with_every(capsys, clip, tiny_model_path):
    code, out, err = run(
        capsys, clip, "--model", tiny_model_path, "--every", "4", "--max-frames", "2"
    )
    assert code == 0, err
    assert json.loads(out)["frames"] == 2


def test_process_video_takes_a_path_as_the_command_does(clip, tiny_model_path):
    """From Python, a Path (or a camera's int index) raised AttributeError: 'PosixPath' object
    has no attribute 'strip'."""
    from facial_emotion.predict import EmotionRecognizer
    from facial_emotion.video import process_video

    summary = process_video(Path(clip), EmotionRecognizer(tiny_model_path), progress=False)
    assert summary.frames == FRAMES


def test_process_video_checks_its_outputs_as_the_command_does(clip, tiny_model_path, tmp_path):
    """From Python, an output named as the source replaced the video, a .png was written as a
    stream nothing plays, and a str output raised AttributeError."""
    from facial_emotion.errors import FacialEmotionError
    from facial_emotion.predict import EmotionRecognizer
    from facial_emotion.video import process_video

    recognizer = EmotionRecognizer(tiny_model_path)
    before = clip.read_bytes()
    with pytest.raises(FacialEmotionError, match="is an input, and an output would replace it"):
        process_video(clip, recognizer, output=clip, progress=False)
    assert clip.read_bytes() == before
    with pytest.raises(FacialEmotionError, match="out.png: the annotated video is a video file"):
        process_video(clip, recognizer, output=tmp_path / "out.png", progress=False)
    assert list(tmp_path.iterdir()) == []
    named = str(tmp_path / "out.mp4")
    summary = process_video(str(clip), recognizer, output=named, max_frames=2, progress=False)
    assert summary.frames == 2 and Path(named).is_file()


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="no shared-memory folder")
def test_a_video_in_shared_memory_is_a_file_not_a_device(capsys, clip, tiny_model_path):
    """/dev/shm is a RAM disk whose videos are plain files: only devices are refused."""
    fast = Path("/dev/shm") / f"facial-emotion-test-{os.getpid()}.mp4"
    shutil.copy(clip, fast)
    try:
        code, out, err = run(capsys, fast, "--model", tiny_model_path, "--max-frames", "1")
    finally:
        fast.unlink()
    assert code == 0 and json.loads(out)["frames"] == 1, err


@pytest.mark.parametrize("name", ["7", "99999999999", "²"])
def test_a_file_named_with_digits_is_a_file_not_a_camera(
    capsys, clip, tiny_model_path, tmp_path, monkeypatch, name
):
    """A file named 2024 was taken for camera 2024, and 99999999999 or ² ended in a traceback."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(clip, name)
    code, out, err = run(capsys, name, "--model", tiny_model_path, "--max-frames", "1")
    assert code == 0 and json.loads(out)["frames"] == 1, err
    Path(name).unlink()
    code, _, err = run(capsys, name, "--model", tiny_model_path)
    said = f"camera {name}: cannot be opened" if name == "7" else f"{name}: no such video file"
    assert code == 2 and said in err, err


def test_a_cameras_frames_are_numbered_in_the_csv(
    capsys, clip, tiny_model_path, tmp_path, monkeypatch
):
    """Every row of a webcam's CSV said frame 0 (review AD): the frame number was only counted
    for files. A file read as a camera stands in for one; it stops at its end, as unplugged."""
    import facial_emotion.video as video

    monkeypatch.setattr(video, "open_source", clip_as_camera(clip))
    monkeypatch.setattr(video, "CAMERA_PATIENCE", 0.1)
    table = tmp_path / "faces.csv"
    code, out, err = run(capsys, "0", "--model", tiny_model_path, "--csv", table)
    assert code == 0 and json.loads(out)["camera_stopped"], err
    numbers = sorted({int(row["frame"]) for row in csv.DictReader(table.open())})
    assert numbers == list(range(FRAMES)), numbers


def test_ctrl_c_in_tensorflow_ends_a_cameras_run_as_ctrl_c_does(
    capsys, clip, tiny_model_path, tmp_path, monkeypatch
):
    """Ctrl-C while TensorFlow read the frame came out as a SystemError, which went past the
    camera's clean end: exit status 130, and the recording lost."""
    import facial_emotion.video as video

    read_frame, calls = video._read_frame, []

    def stopped_in_tensorflow(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise SystemError("returned a result with an exception set") from KeyboardInterrupt()
        return read_frame(*args, **kwargs)

    monkeypatch.setattr(video, "open_source", clip_as_camera(clip))
    monkeypatch.setattr(video, "_read_frame", stopped_in_tensorflow)
    table = tmp_path / "faces.csv"
    code, out, err = run(capsys, "0", "--model", tiny_model_path, "--csv", table)
    assert code == 0 and json.loads(out)["frames"] == 3, err
    assert {int(row["frame"]) for row in csv.DictReader(table.open())} <= {0, 1, 2}


def test_frames_a_damaged_chunk_hid_are_counted_from_the_timestamps(
    capsys, clip, tiny_model_path, tmp_path
):
    """Random bytes over a stretch of an MJPG .mkv (chunk headers hit, not only pictures): one
    failed read passed over several frames, each frame after it was numbered early while its
    time was right, and the end read was said not to decode (review AD)."""
    mkv = mjpeg_copy(clip, tmp_path / "clip.mkv")
    data = bytearray(mkv.read_bytes())
    a, b = len(data) * 33 // 100, len(data) * 43 // 100
    data[a:b] = np.random.default_rng(0).integers(0, 256, b - a, dtype=np.uint8).tobytes()
    mkv.write_bytes(data)
    table = tmp_path / "faces.csv"
    code, out, err = run(capsys, mkv, "--model", tiny_model_path, "--csv", table)
    assert code == 0, err
    summary = json.loads(out)
    rows = list(csv.DictReader(table.open()))
    assert [int(r["frame"]) for r in rows] == [round(float(r["time"]) * 10) for r in rows]
    assert summary["frames"] + summary["frames_undecodable"] == FRAMES, summary
    assert "the rest could not be decoded" not in err


def test_a_folder_named_as_a_camera_index_leaves_the_camera(capsys, tmp_path, monkeypatch):
    """A folder "0" where the command ran (a data set's class 0) took the webcam's place: "0: is
    a folder" (review AD)."""
    from facial_emotion.video import is_camera

    monkeypatch.chdir(tmp_path)
    (tmp_path / "0").mkdir()
    assert is_camera("0")
    (tmp_path / "1").write_bytes(b"")
    assert not is_camera("1")


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="file size limits are POSIX")
def test_a_video_the_disk_could_not_hold_keeps_no_csv_either(
    capsys, clip, tiny_model_path, tmp_path
):
    """The CSV was closed and renamed into place before the video was checked: exit status 2,
    and a CSV of the failed run left (or an old one replaced) beside no video (review AD)."""
    video, table = tmp_path / "out.mp4", tmp_path / "out.csv"
    with small_files():  # 3 frames' CSV fits in the limit, the video does not
        code, _, err = run(
            capsys, clip, "-o", video, "--csv", table, "--max-frames", 3, "--model", tiny_model_path
        )
    assert code == 2 and f"{video}: the video could not be written" in err, err
    assert list(tmp_path.iterdir()) == []


def test_a_csv_to_a_pipe_is_read_while_the_video_runs(
    capsys, clip, tiny_model_path, tmp_path, monkeypatch
):
    """A program reading `--csv` from a pipe (a game, a logger) got every row at once when the
    run ended: a webcam's rows never came while it ran. Each frame's rows now arrive with it."""
    import facial_emotion.video as video

    fifo = tmp_path / "rows"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.extend(fifo.open()), daemon=True)
    reader.start()
    read_frame, arrived_by_frame = video._read_frame, []

    def noting_arrivals(*args, **kwargs):
        # frame 1 waits for the header and frame 0's row, which a reader given rows as they come
        # has by then; 2 s for this thread to be given them was short on a loaded machine
        deadline = time.monotonic() + (60 if len(arrived_by_frame) == 1 else 0)
        while len(received) < 2 and time.monotonic() < deadline:  # header and frame 0's row
            time.sleep(0.01)
        arrived_by_frame.append(len(received))
        return read_frame(*args, **kwargs)

    monkeypatch.setattr(video, "_read_frame", noting_arrivals)
    code, _, err = run(capsys, clip, "--model", tiny_model_path, "--csv", fifo)
    reader.join(timeout=10)
    assert code == 0, err
    assert arrived_by_frame[0] <= 1 and arrived_by_frame[1] >= 2, arrived_by_frame
    assert len(received) == FRAMES + 1 and fifo.is_fifo()


def test_a_csv_fifo_no_program_reads_yet_says_the_run_waits_for_one(
    capsys, clip, tiny_model_path, tmp_path
):
    """`--csv rows` on a FIFO no program had opened yet held the run before its first frame
    without a word, which looked like a hang; a note now says what it waits for, and the run
    starts once a reader comes."""
    fifo = tmp_path / "rows"
    os.mkfifo(fifo)
    received: list[str] = []

    def late_reader() -> None:
        # opens once the note is out: a fixed second was too short on a loaded machine, whose
        # run had not reached its FIFO yet, and found the reader there without a note to give
        captured = sys.stderr  # capsys's, whose text so far getvalue() gives
        deadline = time.monotonic() + 120
        while "waiting for a program" not in captured.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
        received.extend(fifo.open())

    reader = threading.Thread(target=late_reader, daemon=True)
    reader.start()
    code, _, err = run(capsys, clip, "--model", tiny_model_path, "--csv", fifo)
    reader.join(timeout=10)
    assert code == 0, err
    assert err.splitlines()[0] == (
        f"facial-emotion video: note: waiting for a program to read {fifo}; the run starts once "
        "one opens it"
    )
    assert len(received) == FRAMES + 1


def test_the_summary_leaves_stdout_to_a_csv_written_there(clip, tiny_model_path):
    """`--csv /dev/stdout | program`: the summary's JSON line came after the rows, as one more
    row with 16 columns of JSON fragments; it now goes to stderr."""
    done = run_in_a_process(clip, "--model", tiny_model_path, "--csv", "/dev/stdout")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(done.stdout.splitlines()))
    assert len(rows) == FRAMES + 1 and rows[0][:3] == ["time", "frame", "face"], rows[-1]
    assert json.loads(done.stderr.splitlines()[-1])["frames"] == FRAMES


def test_a_face_hidden_for_under_a_second_keeps_its_id(capsys, tiny_model_path, tmp_path):
    """A face unseen for 8 frames at 10 frames/s (a head turned, a hand over it) came back as a
    new face: ids were kept for 5 frames read, whatever the rate."""
    scene = np.full((480, 640, 3), 60, np.uint8)
    frames = sliding_face(scene, step=2, frames=20, face_frames=20)
    for frame in frames[6:14]:
        frame[:] = scene
    table = tmp_path / "faces.csv"
    code, out, err = run(
        capsys,
        write_clip(tmp_path / "hidden.mp4", frames),
        "--model",
        tiny_model_path,
        "--csv",
        table,
    )
    assert code == 0, err
    rows = [r for r in csv.DictReader(table.open()) if r["face"]]  # the frames with a face
    assert {int(r["frame"]) for r in rows} >= {0, 5, 14, 19}, rows
    assert {r["face"] for r in rows} == {"1"} and json.loads(out)["distinct_faces"] == 1


def test_a_program_gets_each_frames_faces_as_it_is_read(tiny_model_path, clip):
    """A game or a logger in Python had no way to get the tracked, smoothed faces while a video
    or webcam ran: process_video wrote files only. ``on_frame`` gets each frame, and False ends
    the run."""
    from facial_emotion.predict import EmotionRecognizer
    from facial_emotion.video import process_video

    readings = []

    def on_frame(reading):
        readings.append(reading)
        return len(readings) < 4

    summary = process_video(clip, EmotionRecognizer(tiny_model_path), on_frame=on_frame, smooth=3)
    assert summary.frames == 4 and [r.frame for r in readings] == [0, 1, 2, 3]
    assert [r.time for r in readings] == pytest.approx([0, 0.1, 0.2, 0.3], abs=0.002)
    assert all(r.ids == [1] and len(r.faces) == 1 for r in readings), readings


def test_a_cameras_times_can_be_tied_to_the_clock(
    capsys, clip, tiny_model_path, tmp_path, monkeypatch
):
    """A webcam's CSV times counted from the run's start, which nothing recorded: a session could
    not be lined up with another recording. The summary's ``started`` is that start's Unix time."""
    import facial_emotion.video as video

    code, out, _ = run(capsys, clip, "--model", tiny_model_path, "--max-frames", 1)
    assert json.loads(out)["started"] is None  # a file's times are its own
    monkeypatch.setattr(video, "open_source", clip_as_camera(clip))
    monkeypatch.setattr(video, "CAMERA_PATIENCE", 0.1)
    before = time.time()
    code, out, err = run(capsys, "0", "--model", tiny_model_path, "--max-frames", 2)
    summary = json.loads(out)
    assert code == 0 and before <= summary["started"] <= time.time(), (summary, err)


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_a_csv_to_stdout_in_a_file_is_written_through_stdout(
    clip, tiny_model_path, tmp_path, stream
):
    """`--csv /dev/stdout >> log.csv`: the file behind stdout was replaced whole at the end, so
    the log lost what it held (and a stop lost every row), with a note that /dev/stdout "exists,
    and is replaced". The rows now go through stdout as the shell opened it; `--csv /dev/stderr
    2>> log.csv` through stderr (it was still replaced)."""
    log = tmp_path / "log.csv"
    log.write_text("earlier\n")
    command = [sys.executable, "-m", "facial_emotion", "video", str(clip), "--model"]
    with log.open("a") as out:
        done = subprocess.run(
            [*command, str(tiny_model_path), "--csv", f"/dev/{stream}"],
            stdout=out if stream == "stdout" else subprocess.PIPE,
            stderr=out if stream == "stderr" else subprocess.PIPE,
            text=True,
            timeout=300,
            check=False,
        )
    said = done.stderr if stream == "stdout" else done.stdout
    assert done.returncode == 0, said
    lines = log.read_text().splitlines()
    assert lines[0] == "earlier" and lines[1].startswith("time,frame,face"), lines[:2]
    assert len(lines) == FRAMES + 2 and "replaced" not in log.read_text() + said, said


def pipe_held(fd: int) -> int:
    """How many bytes wait in the pipe ``fd`` reads from."""
    import fcntl
    import termios

    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


def until_the_run_waits_on(reader: int, running: Callable[[], bool]) -> None:
    """Until the run writing a row a frame into the pipe ``reader`` reads from (of 4,096 bytes)
    waits for room with a row queued: 3,500 bytes held, then none added for ten times the time
    a row took to come. A fixed half second after 3,500 bytes was six frames or so, which a
    loaded machine may not give: a stop before then leaves no row unsent, and no note."""
    deadline = time.monotonic() + 300
    empty_at = time.monotonic()
    while (held := pipe_held(reader)) < 3500 and running() and time.monotonic() < deadline:
        if not held:
            empty_at = time.monotonic()
        time.sleep(0.1)
    row_seconds = (time.monotonic() - empty_at) / (held / 104 + 1)  # rows of ~104 bytes
    quiet, changed_at = max(0.5, 10 * row_seconds), time.monotonic()
    while running() and time.monotonic() - changed_at < quiet and time.monotonic() < deadline:
        time.sleep(0.05)
        if pipe_held(reader) != held:
            held, changed_at = pipe_held(reader), time.monotonic()


@pytest.mark.parametrize(
    ("signum", "target"),
    [(signal.SIGINT, "/dev/stdout"), (signal.SIGTERM, "/dev/stdout"), (signal.SIGTERM, "fifo")],
    ids=["ctrl-c", "sigterm", "sigterm-fifo"],
)
def test_a_stop_ends_a_run_whose_csv_reader_stopped_reading(
    tiny_model_path, tmp_path, signum, target
):
    """A program that stopped reading `--csv` (paused, hung) filled the pipe, and the write,
    blocked in the kernel, held off Ctrl-C and SIGTERM: `video` still ran 20 s after either. The
    stop now ends the run as it does otherwise."""
    import fcntl

    long_clip = write_clip(tmp_path / "long.mp4", [hopper(128, 150)] * 600, fps=30)
    fifo = tmp_path / "rows.csv"
    command = [sys.executable, "-m", "facial_emotion", "video", str(long_clip), "--model"]
    command += [str(tiny_model_path), "--csv", str(fifo) if target == "fifo" else target]
    with ExitStack() as stack:
        if target == "fifo":
            os.mkfifo(fifo)
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL if target == "fifo" else subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # a shell's background job starts with Ctrl-C ignored, and a child inherits that
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        stack.callback(process.kill)
        if target == "fifo":
            reader = os.open(fifo, os.O_RDONLY)  # and never read
            stack.callback(os.close, reader)
        else:
            reader = process.stdout.fileno()
        fcntl.fcntl(reader, fcntl.F_SETPIPE_SZ, 4096)  # full after some 30 frames' rows
        until_the_run_waits_on(reader, lambda: process.poll() is None)  # which never reads
        assert process.poll() is None and pipe_held(reader) >= 3500, process.poll()
        process.send_signal(signum)
        sent = time.monotonic()
        with contextlib.suppress(subprocess.TimeoutExpired):  # the write held it off for good
            process.wait(timeout=60)  # a loaded 2-core machine took 10 s to end it
        waited = time.monotonic() - sent
    assert process.returncode == 128 + signum, (process.returncode, waited)
    stopped = "interrupted" if signum == signal.SIGINT else "terminated"
    said = process.stderr.read().splitlines()
    assert said[-2] == f"facial-emotion video: {stopped}", said
    # the rows the stalled reader had no room for were dropped without a word
    assert re.fullmatch(
        rf"facial-emotion video: note: \S+: its reader had stopped reading, and {UNSENT_ROWS} it "
        r"had no room for did not reach it",
        said[-1],
    ), said


@pytest.mark.parametrize("rows", [1, 57, 1234, 1234567])
def test_the_unsent_rows_pattern_reads_every_count_the_note_can_give(rows):
    """The tests matched `\\d+ rows?`, which `1,234 rows` (the note's count from 1,000 up) fails."""
    from facial_emotion.video import unsent_note

    said = unsent_note("rows.csv", rows)
    assert re.fullmatch(
        rf"rows\.csv: its reader had stopped reading, and {UNSENT_ROWS} it .*", said
    ), said


def test_a_webcam_stopped_while_its_csv_reader_stalled_says_how_many_rows_were_not_sent(
    capsys, tiny_model_path, tmp_path, monkeypatch
):
    """A webcam's run stopped while the program reading `--csv` had stopped reading gave the
    queued rows a second to reach it, then dropped them without a word; a note now says how
    many, and the summary counts them."""
    import fcntl

    import facial_emotion.video as video

    long_clip = write_clip(tmp_path / "long.mp4", [hopper(128, 150)] * 300, fps=30)
    monkeypatch.setattr(video, "open_source", clip_as_camera(long_clip))
    monkeypatch.setattr(video, "CSV_CLOSE_PATIENCE", 0.2)
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    run_thread, finished = threading.get_ident(), threading.Event()

    def stalled_reader() -> None:
        reader = os.open(fifo, os.O_RDONLY)  # and never read
        fcntl.fcntl(reader, fcntl.F_SETPIPE_SZ, 4096)  # full after some 30 frames' rows
        until_the_run_waits_on(reader, lambda: not finished.is_set())
        signal.pthread_kill(run_thread, signal.SIGINT)  # Ctrl-C: a camera's run ends so
        finished.wait(timeout=60)
        os.close(reader)

    reader = threading.Thread(target=stalled_reader, daemon=True)
    reader.start()
    try:
        code, out, err = run(capsys, "0", "--model", tiny_model_path, "--csv", fifo)
    finally:
        finished.set()
        reader.join(timeout=10)
    unsent = json.loads(out)["csv_rows_unsent"]
    assert code == 0 and unsent > 0, err
    counted = "1 row" if unsent == 1 else f"{unsent:,} rows"
    assert err.splitlines()[-1] == (
        f"facial-emotion video: note: {fifo}: its reader had stopped reading, and {counted} it "
        "had no room for did not reach it"
    )


def test_a_csv_reader_that_leaves_ends_the_run_quietly_and_at_once(tiny_model_path, tmp_path):
    """`video clip.mp4 --csv /dev/stdout | head -3` ended with `error: ... (Broken pipe)` and exit
    status 2. A reader that leaves is the end of the CSV: with nothing else to write, the run ends
    there, with one note and the status `| head` gives (141), not after reading the whole file,
    and no "Exception ignored" from Python's own flush at exit."""
    long_clip = write_clip(tmp_path / "long.mp4", [hopper(128, 150)] * 600, fps=30)
    command = [sys.executable, "-m", "facial_emotion", "video", str(long_clip), "--model"]
    command += [str(tiny_model_path), "--csv", "/dev/stdout"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    rows = [process.stdout.readline() for _ in range(3)]
    process.stdout.close()  # as `head -3` does
    err = process.stderr.read()
    assert process.wait(timeout=120) == 141 and rows[0].startswith("time,frame,face"), err
    note, summary = err.splitlines()
    assert re.fullmatch(
        r"facial-emotion video: note: /dev/stdout: its reader closed it at frame \d+; "
        "the run ends there",
        note,
    )
    assert json.loads(summary)["csv_reader_left"] and json.loads(summary)["frames"] < 600


def frames_once_finished(monkeypatch, reader: threading.Thread) -> None:
    """Start ``reader`` (a program reading the CSV, which quits) and read no frame until it has
    finished, so the run meets a reader already gone."""
    import facial_emotion.video as video

    reader.daemon = True
    reader.start()
    read_frame = video._read_frame

    def after_reader(*args, **kwargs):
        reader.join(timeout=10)
        return read_frame(*args, **kwargs)

    monkeypatch.setattr(video, "_read_frame", after_reader)


@pytest.mark.parametrize("camera", [True, False], ids=["webcam", "file"])
def test_a_csv_reader_that_leaves_keeps_the_recording_going(
    capsys, clip, tiny_model_path, tmp_path, monkeypatch, camera
):
    """A game reading `--csv` from a FIFO that quit ended a webcam's run as an error, which threw
    the whole `-o` recording away. The rows end there and the recording goes on, whole."""
    import facial_emotion.video as video

    if camera:
        monkeypatch.setattr(video, "open_source", clip_as_camera(clip))
        monkeypatch.setattr(video, "CAMERA_PATIENCE", 0.1)
    fifo, recording = tmp_path / "rows.csv", tmp_path / "rec.mp4"
    os.mkfifo(fifo)
    received: list[str] = []

    def game() -> None:
        with fifo.open() as rows:
            received.append(rows.readline())  # the columns, then it quits

    frames_once_finished(monkeypatch, threading.Thread(target=game, daemon=True))
    source = "0" if camera else clip
    code, out, err = run(capsys, source, "--model", tiny_model_path, "-o", recording, "--csv", fifo)
    assert code == 0 and received[0].startswith("time,frame,face"), err
    assert (
        f"facial-emotion video: note: {fifo}: its reader closed it at frame 0; no more rows are "
        f"written, and the run goes on for {recording}\n"
    ) in err
    summary = json.loads(out)
    assert summary["csv_reader_left"] and summary["frames"] == FRAMES, summary
    kept = cv2.VideoCapture(str(recording))  # a webcam's in real time: as long as the run took
    assert int(kept.get(cv2.CAP_PROP_FRAME_COUNT)) >= (1 if camera else FRAMES) and kept.read()[0]


def test_a_webcam_without_faces_notices_its_csv_reader_leave(
    capsys, tiny_model_path, tmp_path, monkeypatch
):
    """A webcam watching an empty room never found out that the program reading its rows had
    quit, and ran on until Ctrl-C, when a frame without a face wrote no row."""
    import facial_emotion.video as video

    empty = write_clip(tmp_path / "empty.mp4", [np.full((480, 640, 3), 60, np.uint8)] * FRAMES)
    monkeypatch.setattr(video, "open_source", clip_as_camera(empty))
    monkeypatch.setattr(video, "CAMERA_PATIENCE", 0.1)
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    frames_once_finished(monkeypatch, threading.Thread(target=lambda: fifo.open().close()))
    code, out, err = run(capsys, "0", "--model", tiny_model_path, "--csv", fifo)
    assert code == 141 and "its reader closed it at frame 0; the run ends there" in err, err
    assert json.loads(out)["frames"] == 1
