"""The local web app: upload a photo or use the webcam, see each face boxed with its emotion.

The page is built around any object with ``detect(image) -> list[Face]`` (``EmotionRecognizer``
in use, a stub in tests). It runs offline: no analytics, no share link, fonts served locally.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import numpy as np

from facial_emotion.errors import FacialEmotionError

# Read by Gradio on import; otherwise it reports usage and checks for updates online.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

BOX_COLOUR = (255, 196, 0)
IMAGE_HEIGHT = 420  # pixels: photo, faces and the chart fit one laptop screen


class Recognizer(Protocol):
    def detect(self, image: np.ndarray) -> list[Any]: ...


def annotate(image: np.ndarray, faces: list[Any]) -> np.ndarray:
    """A copy of the RGB ``image`` with each face boxed and captioned "n emotion score"."""
    from PIL import Image, ImageDraw, ImageFont

    canvas = Image.fromarray(np.asarray(image, np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(canvas)
    size = max(12, min(canvas.size) // 22)
    font = ImageFont.load_default(size=size)
    for n, face in enumerate(faces, start=1):
        x, y, w, h = (int(v) for v in face.box)
        draw.rectangle((x, y, x + w, y + h), outline=BOX_COLOUR, width=max(2, size // 6))
        caption = f"{n} {face.emotion} {face.score:.0%}"
        left, top, right, bottom = draw.textbbox((0, 0), caption, font=font)
        text_y = y - (bottom - top) - 8 if y - (bottom - top) - 8 >= 0 else y + h
        draw.rectangle(
            (x, text_y, x + right - left + 8, text_y + bottom - top + 8), fill=BOX_COLOUR
        )
        draw.text((x + 4 - left, text_y + 4 - top), caption, fill=(0, 0, 0), font=font)
    return np.asarray(canvas)


def analyse(
    recognizer: Recognizer, image: np.ndarray | None
) -> tuple[np.ndarray | None, dict[str, float] | None, list[dict[str, Any]], str]:
    """What the page shows for one picture: annotated image, the largest face's probabilities,
    the records of every face, and a one-line summary."""
    if image is None:
        return None, None, [], "Upload a photo or take one with the webcam."
    faces = recognizer.detect(image)
    if not faces:
        return image, None, [], "No face found: try a brighter, front-facing photo."
    largest = max(range(len(faces)), key=lambda i: faces[i].box[2] * faces[i].box[3])
    face = faces[largest]
    summary = ", ".join(f"{n} {f.emotion} ({f.score:.0%})" for n, f in enumerate(faces, start=1))
    if len(faces) == 1:
        summary = f"1 face: {summary}."
    else:
        summary = f"{len(faces)} faces: {summary}. The chart shows face {largest + 1}, the largest."
    return (
        annotate(image, faces),
        {name: float(p) for name, p in face.probabilities.items()},
        [f.to_dict() for f in faces],
        summary,
    )


def build_app(recognizer: Recognizer) -> Any:
    """The Gradio Blocks page (not launched), so tests can drive it with any recognizer."""
    import gradio as gr

    def on_image(image: np.ndarray | None) -> tuple[Any, ...]:
        try:
            return analyse(recognizer, image)
        except FacialEmotionError as exc:
            raise gr.Error(str(exc)) from exc

    with gr.Blocks(title="Facial emotion", analytics_enabled=False) as app:
        gr.Markdown(
            "# Facial emotion\nUpload a photo or take one with the webcam: each face found is "
            "boxed and numbered with the emotion the model reads in it."
        )
        with gr.Row():
            with gr.Column():
                photo = gr.Image(
                    label="Photo",
                    sources=["upload", "webcam", "clipboard"],
                    type="numpy",
                    height=IMAGE_HEIGHT,
                )
                summary = gr.Markdown("Upload a photo or take one with the webcam.")
                records = gr.JSON(label="Records (one per face)")
            with gr.Column():
                faces = gr.Image(
                    label="Faces",
                    format="png",
                    interactive=False,
                    height=IMAGE_HEIGHT,
                    buttons=["download", "fullscreen"],
                )
                chart = gr.Label(label="Emotion of the largest face", num_top_classes=10)
        photo.change(on_image, inputs=photo, outputs=[faces, chart, records, summary])
    return app


def serve(recognizer: Recognizer, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve the app on ``host:port`` until interrupted."""
    app = build_app(recognizer)
    try:
        app.launch(server_name=host, server_port=port, share=False, show_error=True)
    except OSError as exc:
        raise FacialEmotionError(
            f"{host}:{port}: cannot serve the app there ({exc}); pass a free --port"
        ) from exc
