"""The local web app: upload a photo or use the webcam, see each face boxed with its emotion.

The page is built around any object with ``detect(image) -> list[Face]`` (``EmotionRecognizer``
in use, a stub in tests). It runs offline: no analytics, no share link, fonts served locally.
``app_server.serve`` serves it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from facial_emotion.errors import FacialEmotionError
from facial_emotion.paths import VIDEO_SUFFIXES, printable

# Read by Gradio on import; otherwise it reports usage and checks for updates online.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

IMAGE_HEIGHT = 420  # pixels: photo, faces and the chart fit one laptop screen
# Uploads and the marked copies go to Gradio's cache, by default /tmp/gradio, shared and kept for
# good. Faces are personal data: the app gives Gradio a folder of its own, removed when it stops,
# and every 5 minutes, files older than 55 go. A file stays until the first check after it is that
# old, so each is gone within the hour the README promises: (3600, 3600) kept one for up to two.
DELETE_CACHE = (300, 3300)
# A 13300x13300 PNG of one colour is 543 KB, under app_server's upload cap, and decoding it took
# the app 3.3 GB for 11 seconds, each request waiting for the one before; 100 MP holds 12000x8000.
MAX_PIXELS = 100_000_000
# A photo narrower than this holds faces too small to find: a portrait of Grace Hopper had its face
# found from 64 px wide, a close-up of the face from 40. "Try a brighter photo" did not help there.
SMALL_PHOTO = 64
MAX_NAME = 255  # characters of an upload's name kept for messages and the log

# Screen readers announce the summary when it changes: Gradio's own status region said only
# "Loading", then the untranslated "common.complete". They also hear whether a section ("About
# the model", "Details") is open: Gradio's buttons said neither, only "down-pointing triangle".
# The live tab's summary is drawn only when the tab is first opened, after this script ran.
LIVE_SUMMARY = """() => {
  const announce = () => {
    for (const id of ["summary", "live-summary"]) {
      const summary = document.getElementById(id);
      if (summary && !summary.hasAttribute("aria-live")) {
        summary.setAttribute("role", "status");
        summary.setAttribute("aria-live", "polite");
      }
    }
  };
  announce();
  new MutationObserver(announce).observe(document.body, { childList: true, subtree: true });
  document.querySelectorAll("button.label-wrap").forEach((button) => {
    const mark = () =>
      button.setAttribute("aria-expanded", String(button.classList.contains("open")));
    mark();
    new MutationObserver(mark).observe(button, { attributes: true, attributeFilter: ["class"] });
    button.querySelector(".icon")?.setAttribute("aria-hidden", "true");
  });
}"""
# Gradio's English text lacks these, and showed their keys on the page
PAGE_TEXT = {
    "common.complete": "Done",
    "image.no_webcam_support": (
        "The browser allows the webcam only on this computer's own address (localhost) or "
        "over https: upload a photo instead"
    ),
}


# What a visitor may ask of the shipped model, in plain words. Every figure is from its card
# (weights/fer2013.md): val accuracy (single pass 67.98-68.15%, flip 68.65%), and 65.30% single
# pass on the 3,147 val faces with no copy in Training (279 identical and 163 near copies: "faces it
# had not learnt from" was untrue of them), human accuracy on FER2013, recall per class, the score
# table, and the known limits.
ABOUT_SHIPPED = """**What it is.** A small neural network that learnt from FER2013: 28,709 \
pictures of faces found by web image search, each 48 by 48 pixels in gray and labelled by people \
as angry, disgust, fear, happy, sad, surprise or neutral. The app finds each face in a photo, \
turns it into such a small gray picture, and asks the network which of the seven it looks most \
like.

**How often it agrees with people.** On 3,589 FER2013 faces set aside from its training, it gave \
the label people gave 68 times in 100. But over 400 of them are copies of faces it learnt from: \
on the 3,147 others it agreed 65 times in 100, about as often as people asked to label FER2013 \
faces again agree with the first label (about 65 times in 100). It reads happy and surprise best \
(8 times in 10 or more), disgust, fear and sad worst (about half the time). Its percentage is \
how sure it is: on the 3,589 a reading of 90% or more was right 9 times in 10, one of 50-60% \
half the time. Those faces also chose this model among others, and photos taken here are not \
like them, so expect it to be right less often on yours: nobody has measured how often.

**What it is not.** It reads the look of a face, not what someone feels: a put-on smile reads as \
happy. It is not a lie detector, and must not be used to judge anyone. It learnt mostly from posed \
faces of adults looking at the camera, so it makes more mistakes on natural, unposed expressions, \
children, older people, faces turned or tilted, sunglasses, masks, and small or blurred faces."""
ABOUT_OTHER = """**This page runs {name}**, not the FER2013 model that comes with the app, so how \
often it agrees with people is not said here: see that model's own card. It reads the look of a \
face, not what someone feels. It is not a lie detector, and must not be used to judge anyone."""
PRIVACY = """**Photos** go only to the computer running this app, never to the internet. There \
each photo and its marked copy are deleted within an hour, and when the app is stopped."""


class Recognizer(Protocol):
    def detect(self, image: np.ndarray) -> list[Any]: ...


def lacking_note(recognizer: Recognizer) -> str | None:
    """The emotions the model cannot read (see ``EmotionRecognizer.lacking_note``); a recognizer
    of another kind is taken to read them all."""
    note = getattr(recognizer, "lacking_note", None)
    return note() if callable(note) else None


def runs_shipped_model(recognizer: Recognizer) -> bool:
    """Whether the page's figures, the shipped model's, are the model's it runs."""
    from facial_emotion.predict import WEIGHTS

    path = getattr(recognizer, "model_path", None)
    return (
        isinstance(path, Path)
        and path.name.startswith("fer2013.")
        and path.resolve().parent == WEIGHTS.resolve()
    )


def about_model(recognizer: Recognizer) -> str:
    """The "About the model" text: what a visitor should know before trusting a reading. The
    page said only "about 2 faces in 3", of the shipped model whichever model ran."""
    if runs_shipped_model(recognizer):
        about = ABOUT_SHIPPED
    else:
        path = getattr(recognizer, "model_path", None)
        name = f"the model {printable(Path(path).name)}" if path is not None else "another model"
        about = ABOUT_OTHER.format(name=name)
    return f"{about}\n\n{PRIVACY}"


def annotate(image: np.ndarray, faces: list[Any]) -> np.ndarray:
    """An RGB copy of ``image`` with each face boxed and captioned with its emotion."""
    import cv2

    from facial_emotion.annotate import annotated_copy

    return cv2.cvtColor(annotated_copy(image, faces), cv2.COLOR_BGR2RGB)


def analyse(
    recognizer: Recognizer, image: np.ndarray | None
) -> tuple[np.ndarray | None, dict[str, float] | None, list[dict[str, Any]], str]:
    """What the page shows for one picture: annotated image, the largest face's probabilities,
    the records of every face, and a one-line summary."""
    if image is None:
        return None, None, [], "Upload a photo or take one with the webcam."
    faces = sorted(recognizer.detect(image), key=lambda f: f.box[0])
    if not faces:
        searched = getattr(getattr(recognizer, "detector", None), "max_side", None)
        summary = "No face found: try a brighter, front-facing photo."
        if min(image.shape[:2]) < SMALL_PHOTO:
            height, width = image.shape[:2]
            summary = (
                f"No face found: the photo is only {width}x{height} pixels, too small to find "
                "faces in; try a larger photo, or one taken closer to the face."
            )
        elif searched is not None and max(image.shape[:2]) > searched:  # small faces in a big photo
            summary = (
                "No face found: try a brighter, front-facing photo, or, for small faces in a "
                "group photo, crop it closer to the people."
            )
            # what only the person who started the app can do, where they read it
            print(
                f"facial-emotion app: no face found in a {image.shape[1]}x{image.shape[0]} photo "
                f"searched at {searched} px; a larger --detect-size (such as 1600) finds smaller "
                "faces",
                file=sys.stderr,
            )
        return image, None, [], summary
    from facial_emotion.faces import UNCERTAIN

    largest = max(faces, key=lambda f: f.box[2] * f.box[3])
    readings = ", ".join(
        f.emotion if f.emotion == UNCERTAIN else f"{f.emotion} ({f.score:.0%})" for f in faces
    )
    if len(faces) == 1:
        summary = f"1 face: {readings}."
    else:
        # which of them: of 20 faces read aloud, "the largest" named none
        place = ordinal(faces.index(largest) + 1)
        summary = (
            f"{len(faces)} faces, left to right: {readings}. The chart shows the largest, the "
            f"{place} from the left."
        )
    return (
        annotate(image, faces),
        {name: float(p) for name, p in largest.probabilities.items()},
        [f.to_dict() for f in faces],
        summary,
    )


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def uploaded_file(path: str, name: str) -> Path:
    """``path``, if it is a file uploaded to this app. With preprocessing off, Gradio checks a
    path only when the request marks it as a file, so a request that did not passed any path on
    the server through: the app read and sent back any picture it could open, said which paths
    exist, and hung on a named pipe."""
    from gradio.utils import get_upload_folder

    try:
        file = Path(path).resolve()
        if file.is_relative_to(Path(get_upload_folder()).resolve()) and file.is_file():
            return file
    except (OSError, ValueError, RuntimeError):  # a name too long, a NUL byte, a link loop
        pass
    raise FacialEmotionError(f"{name}: not a file uploaded to this app; upload the picture")


def upload_name(upload: dict[str, Any]) -> str:
    """The name the visitor's file had, as the page's messages give it."""
    return printable(str(upload.get("orig_name") or "the upload")[:MAX_NAME])


def unnamed(message: str, upload: Any) -> str:
    """``message`` for the app's log, without the visitor's file name: names such as
    "jane_doe_passport.jpg" are personal data, and the log outlives the upload (kept an hour)
    by as long as whoever runs the app keeps it. The page still names the file."""
    if not isinstance(upload, dict):
        return message
    name = upload_name(upload)
    if not message.startswith(f"{name}: "):
        return message
    return "an upload: " + message[len(name) + 2 :].replace(f" {name}`", " FILE`")


def read_upload(upload: dict[str, Any] | None) -> np.ndarray | None:
    """The uploaded picture read as `predict` reads a file (16-bit, CMYK, EXIF rotation alike;
    Gradio's own reader turns 16-bit gray white), or an error naming the file. The upload Gradio
    keeps is then stripped of its metadata, or, where refused, deleted."""
    from facial_emotion.app_metadata import strip_metadata
    from facial_emotion.predict import load_image

    if upload is None:
        return None
    if not isinstance(upload, dict) or not isinstance(upload.get("path"), str):
        raise FacialEmotionError("the upload: not a file uploaded to this app; upload the picture")
    name = upload_name(upload)
    path = uploaded_file(upload["path"], name)
    # A refused upload is never read, so never stripped: Gradio kept it as sent, metadata
    # included, for the hour. The page fetched its preview as the upload ended (a 34 MB one
    # stayed whole in Chromium on a 4 MB/s link: the open file outlives its name).
    if Path(name).suffix.lower() in VIDEO_SUFFIXES:
        forget(path)
        raise FacialEmotionError(
            f"{name}: is a video; the app reads photos: run `facial-emotion video {name}`"
        )
    try:
        image = load_image(path, max_pixels=MAX_PIXELS)
    except FacialEmotionError as exc:
        forget(path)
        raise FacialEmotionError(f"{name}: {str(exc).removeprefix(f'{path}: ')}") from exc
    # Gradio keeps the upload up to an hour for the page's preview: from now on without its
    # location, camera serial and the rest (the privacy finding of privacyCP)
    strip_metadata(path, image)
    return image


def forget(path: Path) -> None:
    """Delete an upload and, once empty, the folder Gradio named after its contents' hash."""
    with contextlib.suppress(OSError):
        path.unlink()
        path.parent.rmdir()


def build_app(recognizer: Recognizer) -> Any:
    """The Gradio Blocks page (not launched), so tests can drive it with any recognizer."""
    import gradio as gr

    from facial_emotion.app_live import LIVE_EVERY, LIVE_LIMIT, LIVE_SIZE, read_frame, to_say

    def on_image(upload: dict[str, Any] | None) -> tuple[Any, ...]:
        try:
            annotated, chart, records, summary = analyse(recognizer, read_upload(upload))
        except FacialEmotionError as exc:
            # One line in the server's log, without the file's name, where Gradio would print
            # a chained traceback for every refused upload. The message stays until closed: it
            # went after 10 s, leaving red "Error" marks and no reason.
            print(f"facial-emotion app: {unnamed(str(exc), upload)}", file=sys.stderr)
            raise gr.Error(str(exc), duration=None, print_exception=False) from None
        # what a screen reader says of the marked photo: it had no text alternative, and then
        # said "faces boxed" of a photo where none was found
        shown = "The photo, faces boxed." if records else "The photo."
        described = gr.update(value=annotated, alt_text=f"{shown} {summary}")
        return described, chart, records, summary

    def on_frame(frame: Any, said: tuple[str, float] | None) -> tuple[Any, ...]:
        try:
            shown, summary = read_frame(recognizer, frame)
        except FacialEmotionError as exc:
            print(f"facial-emotion app: {exc}", file=sys.stderr)
            raise gr.Error(str(exc), duration=None, print_exception=False) from None
        now = time.monotonic()
        if not to_say(summary, said, now):
            return shown, gr.skip(), said
        return shown, summary, (summary, now)

    with gr.Blocks(
        title="Facial emotion", analytics_enabled=False, delete_cache=DELETE_CACHE
    ) as app:
        wrong = (
            " Even on faces like those it learnt from, it is wrong about 1 time in 3."
            if runs_shipped_model(recognizer)
            else ""
        )
        gr.Markdown(
            "# Facial emotion\nUpload a photo, paste one, or take one with the webcam (click "
            "the camera icon, allow access, then capture), or read faces live from the webcam "
            "in the Live webcam tab: each face found is boxed with the expression the model "
            f"reads in it. It reads the look of a face, not what someone feels.{wrong}"
            + (f"\n\n**Note:** {note}." if (note := lacking_note(recognizer)) else "")
        )
        with gr.Accordion("About the model: what it can and cannot tell", open=False):
            gr.Markdown(about_model(recognizer))
        with gr.Tabs():
            with gr.Tab("Photo"):
                with gr.Row():
                    with gr.Column():
                        photo = gr.Image(
                            label="Photo",
                            sources=["upload", "webcam", "clipboard"],
                            type="numpy",
                            height=IMAGE_HEIGHT,
                            alt_text="Your photo",
                        )
                        # announced by screen readers when it changes (see LIVE_SUMMARY)
                        summary = gr.Markdown(
                            "Upload a photo or take one with the webcam.", elem_id="summary"
                        )
                    with gr.Column():
                        faces = gr.Image(
                            label="Faces",
                            format="jpeg",  # PNG-encoding a 12 MP result took 5.8 s of 9.5 s
                            interactive=False,
                            height=IMAGE_HEIGHT,
                            buttons=["download", "fullscreen"],
                        )
                        chart = gr.Label(label="Emotion of the largest face", num_top_classes=10)
                with gr.Accordion("Details: each face's box and probabilities (JSON)", open=False):
                    records = gr.JSON(label="Records (one per face)")
            with gr.Tab("Live webcam"):
                gr.Markdown(
                    "Click the camera icon, allow access, then Record: a few times a second the "
                    "faces in view are boxed with their expression, until you press Stop. Frames "
                    "are read as they come and never kept. One webcam is read at a time: when two "
                    f"people use it at once, they take turns every {LIVE_LIMIT} seconds."
                )
                with gr.Row():
                    camera = gr.Image(
                        label="Webcam",
                        sources=["webcam"],
                        streaming=True,
                        webcam_options=gr.WebcamOptions(constraints=LIVE_SIZE),
                        height=IMAGE_HEIGHT,
                    )
                    live = gr.Image(
                        label="Live faces",
                        interactive=False,
                        height=IMAGE_HEIGHT,
                        buttons=["fullscreen"],
                        alt_text="The webcam's picture, faces boxed; the text below reads them.",
                    )
                # announced when the reading changes, at most every few seconds (app_live)
                live_summary = gr.Markdown(
                    "Start the webcam to read faces live.", elem_id="live-summary"
                )
                said = gr.State(None)
        outputs = [faces, chart, records, summary]
        # The handler reads the upload itself, as `predict` reads files, so a file that is not
        # an image gets its own message instead of Gradio's bare "Error". `input` fires on what
        # the user does only: `change` also fired on the page's own update of a replaced photo,
        # and each photo was read twice.
        # A photo given while one is read is read next: Gradio's default ("once") dropped it,
        # and the page showed the new photo beside the earlier one's faces and readings.
        reading = photo.input(
            on_image, inputs=photo, outputs=outputs, preprocess=False, trigger_mode="always_last"
        )
        # a refused photo clears the last one's results, which stayed on the page beside it
        reading.failure(
            lambda: (None, None, [], "Not read: the message says why."),
            outputs=outputs,
            api_visibility="private",
        )
        # The handler decodes each frame under the app's pixel cap and sends the marked copy
        # back inline: Gradio's processing would write every marked frame to the app's folder.
        # The stream's slot is its own, so photos do not wait for it (see app_live).
        camera.stream(
            on_frame,
            inputs=[camera, said],
            outputs=[live, live_summary, said],
            preprocess=False,
            postprocess=False,
            stream_every=LIVE_EVERY,
            time_limit=LIVE_LIMIT,
            concurrency_limit=1,
            show_progress="hidden",
            api_visibility="private",
        )
    return app


def page_theme() -> Any:
    """Gradio's default theme with its "subdued" text (the footer's Settings, the upload area's
    "- or -") as dark as its labels: it was 1.9:1 on white, under WCAG's 4.5:1."""
    import gradio as gr

    return gr.themes.Default().set(body_text_color_subdued="*neutral_500")
