"""``facial-emotion predict --resume``: what an earlier run's output holds, checked against
this run so that the readings of two models or detectors are never mixed in one file."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from facial_emotion.cli.predict_output import csv_header
from facial_emotion.errors import FacialEmotionError
from facial_emotion.files import is_stream, partial_name
from facial_emotion.wording import counted

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from facial_emotion.faces import Face


@dataclass
class Earlier:
    """What an earlier run's output holds, for ``--resume``: the files it lists, and its CSV rows
    or JSON images, written again as they were."""

    source: Path | None = None
    files: frozenset[str] = frozenset()
    rows: list[list[str]] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)

    def readings(self, classes: Sequence[str]) -> dict[str, list[Reading]]:
        """Each listed file's faces as the output records them, in its order."""
        found: dict[str, list[Reading]] = {}
        for row in self.rows:  # file, face, x, y, w, h, emotion, score, classes..., detector
            faces = found.setdefault(row[0], [])
            if row[1]:  # a faceless image's row has only its file
                numbers = tuple(float(cell) for cell in row[8 : 8 + len(classes)])
                box = tuple(int(cell) for cell in row[2:6])
                faces.append(Reading(box, row[6], float(row[7]), numbers))
        for image in self.images:
            found[image["file"]] = [
                Reading(
                    tuple(face["box"]),
                    face["emotion"],
                    face["score"],
                    tuple(face["probabilities"][c] for c in classes),
                )
                for face in image["faces"]
            ]
        return found


def file_sha256(path: Path) -> str:
    """The model file's digest, which --resume compares: a model retrained or replaced at the
    same path (`dvc repro`, an upgrade's shipped model) was taken for the one that read the
    file, and its readings mixed with the earlier model's without a word."""
    import hashlib

    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


# how far two readings of one photo may differ and be one model's, detector's and settings':
# another CPU's rounding, bfloat16 on one machine and float32 on another (under 0.01); two tiny
# untrained models differed by 0.1, and a box moves with any other detector or --detect-size
SAME_PROBABILITY = 0.02
SAME_BOX_PIXELS = 2
# photos an output lists that --resume tries to read again, in turn, to find one still there
CHECKED_PHOTOS = 3


@dataclass(frozen=True)
class Reading:
    """One face as an output records it: enough to tell another model, detector or setting."""

    box: tuple[int, ...]
    emotion: str
    score: float
    probabilities: tuple[float, ...]

    def said(self) -> str:
        return f"{self.emotion} {self.score:.2f} at {','.join(map(str, self.box))}"

    def matches(self, other: Reading) -> bool:
        from facial_emotion.faces import UNCERTAIN  # imported late: --help loads no OpenCV

        near = all(
            abs(a - b) <= SAME_PROBABILITY
            for a, b in zip(self.probabilities, other.probabilities, strict=True)
        )
        boxed = all(abs(a - b) <= SAME_BOX_PIXELS for a, b in zip(self.box, other.box, strict=True))
        # a near tie may fall either way; "uncertain" against a class is --min-confidence's
        return near and boxed and (self.emotion == UNCERTAIN) == (other.emotion == UNCERTAIN)

    @staticmethod
    def of(face: Face, classes: Sequence[str]) -> Reading:
        probabilities = tuple(float(face.probabilities[c]) for c in classes)
        return Reading(tuple(face.box), face.emotion, float(face.score), probabilities)


# face keys a JSON file of an earlier version lacks, in the order a face lists them last:
# its faces get None for them, for a program reading face["whole_image"] as the README lists it
LATER_FACE_KEYS = ("whole_image", "detector_score")


# a file --resume cannot add to: Python's words for it ("Expecting value: line 1 column 27
# (char 26)", "'images'") said neither what the file was nor what to do
NOT_RESULTS_FIX = "delete it, name a new -o file or leave out --resume"


def not_json(text: str, error: json.JSONDecodeError) -> str:
    """What is wrong with a file that does not parse as JSON: empty, cut short (a copy or a
    full disk stopped mid-file: predict's results once, perhaps), or something else altogether."""
    if not text.strip():
        return "is empty, not results predict wrote"
    if error.pos >= len(text.rstrip()):
        return "ends before its JSON does (cut short?), so --resume cannot add to it"
    return "is not JSON, so not results predict wrote"


def earlier_results(
    args: argparse.Namespace, fmt: str, classes: tuple[str, ...], meta: dict[str, object]
) -> Earlier:
    """What ``-o FILE``, or the partial file a stop left beside it if newer, holds already:
    nothing when neither exists (a first run). A JSON file read by another model or detector,
    or with another --min-confidence, is refused, whose readings would be mixed with these; a
    CSV file records none of them, so only its columns (the classes) are checked here, and
    ``refuse_another_reader`` reads one of its photos again."""
    source = _resumed_file(args.output, fmt)
    if source is None:
        return Earlier()
    # newline="": a \r quoted in a CSV file name stays one, as written
    with source.open(encoding="utf-8", errors="surrogateescape", newline="") as file:
        text = file.read()
    if fmt == "csv":
        return _earlier_csv(source, text, classes)
    return _earlier_json(source, text, classes, meta)


def _resumed_file(output: Path | None, fmt: str) -> Path | None:
    """The file to add to: ``output`` or the partial file beside it, whichever is newer; None
    when neither exists. Output --resume cannot add to (stdout, a pipe, a table) is refused."""
    if output is None or fmt == "table" or is_stream(output):
        raise FacialEmotionError(
            f"{output or 'stdout'}: --resume adds to the results a file holds; "
            "pass -o FILE.csv or -o FILE.json"
        )
    found = [p for p in (output, partial_name(output)) if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _earlier_csv(source: Path, text: str, classes: tuple[str, ...]) -> Earlier:
    """The rows of a CSV file ``source`` holding ``text``, refused unless its columns are this
    model's."""
    rows = list(csv.reader(io.StringIO(text)))
    if rows and rows[0] == csv_header(classes)[:-1]:  # written before detector_score: none
        rows = [csv_header(classes)] + [[*row, ""] for row in rows[1:]]
    if rows and rows[0] and rows[0][0].split()[:2] == ["file", "face"]:
        raise FacialEmotionError(  # a4b77f8 made -o's name pick the format
            f"{source}: holds predict's table, not CSV (before 2026-11-28 -o wrote a table "
            "whatever the file's name); name a new -o file or leave out --resume"
        )
    if not rows or rows[0] != csv_header(classes):
        raise FacialEmotionError(
            f"{source}: is not this model's CSV (its columns differ); name a new -o file "
            "or leave out --resume"
        )
    return Earlier(source, frozenset(row[0] for row in rows[1:]), rows=rows[1:])


def _earlier_json(
    source: Path, text: str, classes: tuple[str, ...], meta: dict[str, object]
) -> Earlier:
    """The images of a JSON file ``source`` holding ``text``, refused unless this run's model,
    detector, --min-confidence and classes read them."""
    try:
        data = json.loads(text)
        differ = _differences(data, classes, meta)
        images = data["images"]
        done = frozenset(image["file"] for image in images)
        for image in images:  # keys added since (whole_image, then detector_score): unknown
            image["faces"] = [
                {**face, **{key: face.get(key) for key in LATER_FACE_KEYS}}
                for face in image["faces"]
            ]
    except json.JSONDecodeError as exc:
        raise FacialEmotionError(f"{source}: {not_json(text, exc)}; {NOT_RESULTS_FIX}") from exc
    # JSON of another layout; a ValueError: a number past Python's 4300 digits
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise FacialEmotionError(
            f"{source}: holds JSON, but not the results predict writes; {NOT_RESULTS_FIX}"
        ) from exc
    if differ:
        raise FacialEmotionError(
            f"{source}: {resume_mismatch(differ, data, meta, classes)}; "
            "name a new -o file or leave out --resume"
        )
    if "model_sha256" not in data:
        print(
            f"facial-emotion predict: note: {source} names its model by path alone (written "
            "before model_sha256): resume it only if that file has not been retrained or "
            "replaced since",
            file=sys.stderr,
        )
    return Earlier(source, done, images=images)


def _differences(data: dict, classes: tuple[str, ...], meta: dict[str, object]) -> list[str]:
    """The keys whose values in a JSON file's ``data`` are not this run's, classes first."""
    # a file written before model_sha256 names its model by path alone: not checked
    checked = ("model", "model_sha256", "detector", "min_confidence")
    differ = [
        key
        for key in checked
        if data.get(key) != meta.get(key) and (key != "model_sha256" or key in data)
    ]
    if data["classes"] != list(classes):
        differ.insert(0, "classes")
    return differ


def resume_mismatch(
    differ: list[str], data: dict, meta: dict[str, object], classes: Sequence[str]
) -> str:
    """What differs between a JSON file and this run. A model file changed at the same path is
    said in words, with short digests: both 64-digit digests side by side read as noise."""
    keys = [key for key in differ if key != "model_sha256"]
    theirs = ", ".join(f"{key} {data.get(key)}" for key in keys)
    ours = ", ".join(
        f"{key} {list(classes) if key == 'classes' else meta.get(key)}" for key in keys
    )
    said = [f"was read with {theirs}, this run with {ours}"] if keys else []
    if "model_sha256" in differ and "model" not in keys:  # another path: said by "model"
        then, now = data["model_sha256"], str(meta["model_sha256"])[:12]
        if not isinstance(then, str) or not then:  # a hand edit: null read "sha256 None..."
            said.append(
                f"its model_sha256 is {json.dumps(then)}, not a digest, so it does not say "
                f"which model read it (this run: {meta['model']}, sha256 {now}...)"
            )
        else:
            said.append(
                f"its model file {meta['model']} has changed since (retrained or replaced: "
                f"sha256 {then[:12]}... then, {now}... now)"
            )
    return "; ".join(said)


def refuse_another_reader(
    earlier: Earlier, classes: Sequence[str], read: Callable[[Path], list[Face]]
) -> None:
    """Read again the first photo ``earlier`` lists that is still there (one with a face first),
    and refuse the file if it reads otherwise now: a CSV file records no model, detector or
    setting, and a JSON file no --detect-size, so another model's readings were added to its
    rows without a word."""
    try:
        recorded = earlier.readings(classes)
    except (ValueError, KeyError, TypeError, IndexError) as exc:  # a cell edited by hand
        raise FacialEmotionError(
            f"{earlier.source}: holds a face whose box or numbers are not predict's; "
            f"{NOT_RESULTS_FIX}"
        ) from exc
    # a face tells a model apart; a faceless photo only a detector. sorted() keeps their order
    for name in sorted(recorded, key=lambda name: not recorded[name])[:CHECKED_PHOTOS]:
        try:
            now = [Reading.of(face, classes) for face in read(Path(name))]
        except FacialEmotionError:  # moved, deleted or changed since: try the next
            continue
        then = recorded[name]
        if len(now) != len(then) or not all(map(Reading.matches, then, now)):
            raise FacialEmotionError(
                f"{earlier.source}: was read by another model or with other settings "
                f"({name}: {_said(then, now)}); resume with the --model, --detector, "
                "--detect-size and --min-confidence that wrote it, or name a new -o file"
            )
        return
    print(
        f"facial-emotion predict: note: none of the first photos {earlier.source} lists could "
        "be read again, so it is not checked that this model and these settings read them",
        file=sys.stderr,
    )


def _said(then: list[Reading], now: list[Reading]) -> str:
    """How one photo's faces read in the file and now: the counts, else the first that differs."""
    if len(then) != len(now):
        return f"{counted(len(then), 'face')} in the file, {counted(len(now), 'face')} now"
    old, new = next((a, b) for a, b in zip(then, now, strict=True) if not a.matches(b))
    return f"{old.said()} in the file, {new.said()} now"
