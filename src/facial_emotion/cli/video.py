"""``facial-emotion video``: emotions frame by frame from a video file or a webcam."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from facial_emotion.cli.options import (
    ParagraphFormatter,
    add_detect_size_option,
    add_detector_option,
    add_min_confidence_option,
    add_model_option,
    add_progress_option,
    detector_options,
    named,
    positive_int,
    waiting_note,
)
from facial_emotion.errors import FacialEmotionError
from facial_emotion.files import is_stdout, is_stream
from facial_emotion.paths import video_name
from facial_emotion.wording import counted

if TYPE_CHECKING:  # OpenCV and the model load in run(), so `--help` stays quick
    from facial_emotion.faces import Detector
    from facial_emotion.video import VideoSummary

EPILOG = """\
SOURCE is a video file OpenCV can decode (.mp4, .m4v, .avi, .mkv, ...) or a webcam index such as 0.

A webcam runs until --max-frames, q in the --show window, Ctrl-C or SIGTERM, or until it stops
giving frames (with a warning), and its outputs are kept. Stopping a file's run so leaves the
--output and --csv files as they were and keeps what was read up to the stop beside them, named
as partial (out.partial.mp4, faces.partial.csv), with a note saying where it stopped.

A summary (frames, frames/s, faces, emotions) is printed as one JSON line: on stdout, or on
stderr when --csv is /dev/stdout. A --csv pipe (/dev/stdout into a program, a FIFO) gets each
frame's rows as the frame is read, for a program that reacts live (a reader that stops reading
holds the run until it reads again; Ctrl-C and SIGTERM still stop it); a file appears whole at the
end, but /dev/stdout is written through as the shell opened it (`>> log.csv` appends). A FIFO
that no program reads yet holds the run before its first frame, with a note saying so.

When the program reading a --csv pipe closes it (`| head`, a game that quit), the rows end there
with a note on stderr, and the run goes on for --output and --show, or ends if there are none.

Exit status: 0 on success, also for a file that ends before its header's frame count or has a
damaged stretch (a warning says so, and the summary's ended_early or frames_undecodable); 2 when
the source, the model or an output cannot be opened or written; on a file, 130 after Ctrl-C, 143
after SIGTERM and 129 after SIGHUP (its terminal or SSH session closed; not under nohup, where the
run goes on); 141 when the run ended because the --csv pipe's reader closed it.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = ParagraphFormatter
    parser.add_argument(
        "source",
        metavar="SOURCE",
        # Path("") is ".": `video "$CLIP"` with it unset said ": is a folder" once the model loaded
        type=named("video", "name the video file, or a webcam index (0)", str),
        help="video file, or webcam index (0, 1, ...)",
    )
    add_model_option(parser)
    add_detector_option(parser)
    parser.add_argument(
        "--output",
        "-o",
        type=video_file,
        metavar="FILE",
        help="write the annotated video: .mp4 (MPEG-4 Part 2, for players; also .m4v .avi .mkv "
        ".mov) or .webm (VP8, for browsers; slower to write)",
    )
    parser.add_argument(
        "--csv",
        type=csv_file,
        metavar="FILE.csv",
        help="write one row per face per frame: time, frame, face id, box, emotion, probabilities "
        "(a frame without a face: one row with its time and frame alone)",
    )
    parser.add_argument("--show", action="store_true", help="show the annotated video in a window")
    parser.add_argument(
        "--smooth",
        type=positive_int,
        default=1,
        metavar="N",
        help="average each face's probabilities over its last N frames read (default 1: no "
        "smoothing)",
    )
    add_detect_size_option(parser, "320 for haar, 480 for mtcnn")
    add_min_confidence_option(parser)
    parser.add_argument(
        "--detect-every",
        type=positive_int,
        metavar="N",
        help="search for faces every Nth frame read and reuse the boxes in between (default 2: "
        "about twice the frames/s; 1, every frame, with --every, as faces move between the "
        "frames read)",
    )
    parser.add_argument(
        "--every",
        type=positive_int,
        default=1,
        metavar="N",
        help="read every Nth frame of a file (default 1: all): --every 30 reads one a second of a "
        "30 frames/s video; the frames between are decoded but not searched or read. The "
        "annotated video plays in the file's time at 1/N of its rate",
    )
    parser.add_argument(
        "--max-frames", type=positive_int, metavar="N", help="stop after N frames read"
    )
    add_progress_option(parser)


def video_path(value: str) -> Path:
    """A video name, refused as a usage error before the model loads."""
    try:
        return video_name(value)
    except FacialEmotionError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def csv_path(value: str) -> Path:
    """A CSV name: `--csv frames.json` would write CSV under a name that promises JSON."""
    path = Path(value)
    if path.suffix.lower() not in (".csv", ".txt", ""):
        raise argparse.ArgumentTypeError(f"{value}: --csv writes CSV; name the file .csv")
    return path


video_file = named("file", "name the video file, e.g. out.mp4", video_path)
csv_file = named("file", "name the file, e.g. faces.csv", csv_path)


def run(args: argparse.Namespace) -> int:
    from facial_emotion.faces import make_detector
    from facial_emotion.predict import EmotionRecognizer
    from facial_emotion.video import (
        VIDEO_DETECTOR_OPTIONS,
        check_outputs,
        process_video,
        refuse_every_on_camera,
        unsent_note,
    )

    refuse_every_on_camera(args.source, args.every)  # before the model and the camera open
    check_outputs(args.source, args.output, args.csv)
    options = detector_options(args, VIDEO_DETECTOR_OPTIONS[args.detector])
    detector = make_detector(args.detector, **options)
    recognizer = EmotionRecognizer(args.model, detector, min_confidence=args.min_confidence)
    if note := recognizer.lacking_note():
        print(f"facial-emotion video: note: {note}", file=sys.stderr)

    def say_what_is_replaced(camera: bool) -> None:
        """No prompt, as scripts run this; a word, though, once the source is known to be a
        video (a photo or a sound file replaces nothing). A camera's run ends on Ctrl-C, a
        file's stops."""
        kept = "" if camera else " (a stopped run leaves it)"
        for path in (args.output, args.csv):
            if path is not None and path.is_file() and not is_stream(path):
                print(
                    f"facial-emotion video: note: {path}: exists, and is replaced when the run "
                    f"ends{kept}",
                    file=sys.stderr,
                )

    def say_the_csv_ended(frame: int) -> None:
        """The rows' reader left (`| head`, a game that quit): the end of the CSV, said once,
        as it happens; the run goes on for the other outputs, or ends."""
        others = [str(args.output)] * (args.output is not None) + ["the window"] * args.show
        rest = "the run ends there"
        if others:
            rest = f"no more rows are written, and the run goes on for {' and '.join(others)}"
        print(
            f"facial-emotion video: note: {args.csv}: its reader closed it at frame {frame}; "
            f"{rest}",
            file=sys.stderr,
        )

    summary = process_video(
        args.source,
        recognizer,
        output=args.output,
        csv_path=args.csv,
        show=args.show,
        smooth=args.smooth,
        detect_every=args.detect_every,
        max_frames=args.max_frames,
        every=args.every,
        on_open=say_what_is_replaced,
        on_csv_closed=say_the_csv_ended,
        on_csv_wait=waiting_note("video", args.csv, "the run starts once one opens it"),
        progress=args.progress,
    )
    if summary.ended_early:
        reached = (summary.frames - 1) * args.every + 1 + summary.frames_undecodable
        rest = (
            "the rest could not be decoded (a truncated or damaged file?)"
            if not summary.frames_undecodable
            # FFmpeg's own count can lose the frames a damaged AVI chunk hid: they were maybe not
            # at the end, and the frame numbers and times after the damage may be early by them
            else "the others were lost at the end or in the damaged stretch, which may have hid "
            "more frames than it counted (the frame numbers and times after it may then be early)"
        )
        print(
            f"facial-emotion video: warning: {args.source}: read to frame {reached} of the "
            f"{summary.frames_declared} frames its header declares; {rest}",
            file=sys.stderr,
        )
    if summary.frames_undecodable:
        passed = summary.frames_undecodable
        print(
            f"facial-emotion video: warning: {args.source}: passed over "
            f"{counted(passed, 'frame')} that could not be decoded (a damaged stretch); "
            f"the frames after {'it' if passed == 1 else 'them'} were read",
            file=sys.stderr,
        )
    if summary.camera_stopped:
        print(
            f"facial-emotion video: warning: camera {args.source} stopped giving frames after "
            f"{summary.frames} (unplugged, or taken by another program?); the outputs hold "
            "what it gave",
            file=sys.stderr,
        )
    if note := every_note(summary, args.every, args.max_frames):
        print(f"facial-emotion video: note: {args.source}: {note}", file=sys.stderr)
    if note := small_faces_note(summary, recognizer.detector):
        print(f"facial-emotion video: note: {args.source}: {note}", file=sys.stderr)
    if summary.fps_declared is not None:
        print(
            f"facial-emotion video: warning: {args.source}: its header gives "
            f"{summary.fps_declared:g} frames/s, which cannot be right; the annotated video is "
            f"written at {summary.fps:g} (the CSV's times are the frames' own)",
            file=sys.stderr,
        )
    if summary.csv_rows_unsent:  # a camera's end; a file's stop says so as it stops
        print(
            f"facial-emotion video: note: {unsent_note(args.csv, summary.csv_rows_unsent)}",
            file=sys.stderr,
        )
    # after a CSV read from stdout, the summary would be read as a row of it
    print(json.dumps(summary.to_dict()), file=sys.stderr if is_stdout(args.csv) else sys.stdout)
    if summary.csv_reader_left and args.output is None and not args.show:
        return 128 + getattr(signal, "SIGPIPE", 13)  # ended by it, as `yes | head` ends yes
    return 0


def every_note(summary: VideoSummary, every: int, max_frames: int | None) -> str | None:
    """Why ``--every N`` gave one frame: N is past the clip's frames, which said nothing."""
    count = summary.frames_declared
    if every == 1 or summary.frames != 1 or max_frames == 1 or count == 1:
        return None
    if count is None:
        return (
            f"--every {every} read only its first frame, as it has {every} frames or fewer; pass a "
            "smaller --every to read more of them"
        )
    if count > every:  # a damaged file, which its own warning explains
        return None
    return (
        f"--every {every} read only its first frame, as it has {count} frames; pass --every "
        f"{count - 1} or less to read more of them"
    )


def small_faces_note(summary: VideoSummary, detector: Detector) -> str | None:
    """Why a large video may show no face: its frames are searched in a copy ``--detect-size``
    wide, where Haar misses faces under 24 px (MTCNN under 20), so a 4K frame's 220-px faces
    went unseen and nothing said so."""
    side = getattr(detector, "max_side", None)
    longest = max(summary.size)
    if summary.faces or side is None or longest <= 2 * side:
        return None
    smallest = getattr(detector, "min_size", 20) * longest / side
    return (
        f"no face found in {summary.frames} frame{'s' * (summary.frames != 1)} of "
        f"{summary.size[0]}x{summary.size[1]}; "
        f"faces under about {smallest:.0f} px are missed in them at --detect-size {side}: for "
        f"smaller faces pass --detect-size {min(3 * side, longest)}"
    )
