"""How ``facial-emotion predict`` writes what it read: the table, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from facial_emotion.paths import printable

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from facial_emotion.cli.predict_resume import Earlier
    from facial_emotion.faces import Face


@dataclass(frozen=True)
class ImageResult:
    file: str
    width: int
    height: int
    faces: list[Face]
    annotated: str | None = None  # the marked copy's path, with --annotate


def cells(text: str) -> int:
    """Terminal columns ``text`` takes: a CJK character or an emoji takes two, an accent
    combined with its letter none (counted as characters, such names pushed their rows out)."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def render_table(results: list[ImageResult], classes: tuple[str, ...]) -> str:
    head = ["file", "face", "box x,y,w,h", "emotion", "score", *classes]
    rows = []
    for r in results:
        if not r.faces:
            rows.append([printable(r.file), "-", "no face found"])
        for i, f in enumerate(r.faces, 1):
            probs = [f"{f.probabilities[c]:.2f}" for c in classes]
            box = ",".join(map(str, f.box))
            rows.append([printable(r.file), str(i), box, f.emotion, f"{f.score:.2f}", *probs])
    # a "no face found" row's last cell runs on past the columns it spans; its others count
    widths = [
        max(cells(row[i]) for row in [head, *rows] if i < len(row) - (len(row) < len(head)))
        for i in range(len(head))
    ]
    lines = [
        "  ".join(c + " " * (w - cells(c)) for c, w in zip(row, widths, strict=False)).rstrip()
        for row in [head, *rows]
    ]
    return "\n".join(lines) + "\n"


def csv_header(classes: tuple[str, ...]) -> list[str]:
    """The columns; ``detector_score`` came last when added, so the others kept their places."""
    return ["file", "face", "x", "y", "w", "h", "emotion", "score", *classes, "detector_score"]


def render_csv(
    results: list[ImageResult], classes: tuple[str, ...], earlier: Earlier | None = None
) -> str:
    rows = [csv_header(classes), *(earlier.rows if earlier else [])]
    return csv_text(rows + [row for r in results for row in csv_rows(r, classes)])


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """``rows`` as CSV lines ending in LF. A row whose cells hold a carriage return has every
    cell quoted: Python 3.11's writer quotes only the line end's characters, and a file name's
    bare \\r broke its row in two for every CSV reader."""
    out = io.StringIO()
    plain = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        (quoted if any("\r" in str(cell) for cell in row) else plain).writerow(row)
    return out.getvalue()


def csv_rows(result: ImageResult, classes: tuple[str, ...]) -> list[list[object]]:
    """One image's CSV rows: one a face, or one with only the file when it has none."""
    from facial_emotion.faces import detector_cell  # imported late: --help loads no OpenCV

    if not result.faces:
        return [[result.file, *[""] * (len(csv_header(classes)) - 1)]]
    return [
        [result.file, i, *f.box, f.emotion, f"{f.score:.6f}"]
        + [f"{f.probabilities[c]:.6f}" for c in classes]
        + [detector_cell(f.detector_score)]
        for i, f in enumerate(result.faces, 1)
    ]


def render_json(
    results: list[ImageResult],
    skipped: list[str],
    classes: tuple[str, ...],
    meta: dict[str, object],
    earlier: Earlier | None = None,
) -> str:
    data = {
        **meta,
        "classes": list(classes),
        "images": (earlier.images if earlier else [])
        + [
            {
                "file": r.file,
                "width": r.width,
                "height": r.height,
                "faces": [f.to_dict() for f in r.faces],
                # copies of same-named photos are numbered (face_2.jpg): say which is which
                **({"annotated": r.annotated} if r.annotated else {}),
            }
            for r in results
        ],
        "skipped": skipped,
    }
    return json.dumps(data, indent=2) + "\n"


def render(
    fmt: str,
    results: list[ImageResult],
    skipped: list[str],
    classes: tuple[str, ...],
    meta: dict[str, object],
    earlier: Earlier | None = None,
) -> str:
    """The results as the table, JSON or CSV, after those of ``earlier`` (``--resume``)."""
    if fmt == "json":
        return render_json(results, skipped, classes, meta, earlier)
    if fmt == "csv":
        return render_csv(results, classes, earlier)
    return render_table(results, classes)
