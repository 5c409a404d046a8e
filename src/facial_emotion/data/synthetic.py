"""The embedded default data set: cartoon faces whose expression is a setting of brows, eyes, mouth.

It lets a fresh clone with no data run the whole pipeline; accuracy on it says the pipeline works,
never how well a model reads real faces. Each expression is drawn from its facial action units
(``EXPRESSIONS``). Intensity and every action vary per sample, so weak expressions overlap
neutral and neighbours (fear/surprise, angry/disgust) overlap each other; identity (face shape,
skin, hair, feature sizes and spacing, glasses), pose, lighting, blur and noise are random
nuisances.

Faces are drawn with OpenCV at 3x and shrunk with INTER_AREA, which anti-aliases the strokes.
Geometry below is in pixels of the final 48x48 image.
"""

from __future__ import annotations

import cv2
import numpy as np

from facial_emotion.data.prepared import IMAGE_SIZE, LabelledImages, PreparedData
from facial_emotion.labels import EMOTIONS

_SCALE = 3
_CANVAS = IMAGE_SIZE * _SCALE
_AA = cv2.LINE_AA

# What each emotion's face is drawn with, for people looking at the faces (01_explore shows it)
EXPRESSIONS = {
    "angry": "lowered, drawn-together brows, narrowed eyes, pressed lips",
    "disgust": "raised upper lip, wrinkled nose, one-sided mouth",
    "fear": "raised inner brows, wide eyes, stretched open mouth",
    "happy": "smile, raised cheeks, narrowed eyes",
    "sad": "raised inner brows, down-turned mouth",
    "surprise": "high brows, wide eyes, round open mouth",
    "neutral": "relaxed",
}

_ACTIONS = (
    "brow_raise",
    "brow_tilt",
    "eye_open",
    "smile",
    "mouth_open",
    "mouth_width",
    "snarl",
    "asymmetry",
    "wrinkle",
)
# Full-intensity setting of each action per emotion (same order); neutral is the relaxed face.
_PROTOTYPES = np.array(
    [
        (-0.8, -1.0, 0.6, -0.25, 0.05, 0.85, 0.0, 0.0, 0.35),  # angry
        (-0.45, -0.4, 0.7, -0.4, 0.2, 0.95, 1.0, 0.8, 1.0),  # disgust
        (0.75, 0.7, 1.4, -0.3, 0.55, 1.2, 0.0, 0.0, 0.0),  # fear
        (0.1, 0.0, 0.8, 1.0, 0.35, 1.15, 0.0, 0.0, 0.0),  # happy
        (0.15, 0.9, 0.75, -0.8, 0.0, 0.95, 0.0, 0.0, 0.0),  # sad
        (1.0, 0.1, 1.45, 0.0, 1.0, 0.6, 0.0, 0.0, 0.0),  # surprise
        (0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0),  # neutral
    ]
)
_JITTER = np.array([0.2, 0.2, 0.12, 0.2, 0.1, 0.08, 0.15, 0.15, 0.15])
_INTENSITY = (0.35, 1.0)

# Everything that does not depend on the expression, as uniform (low, high) ranges.
_IDENTITY = {
    "background": (20, 235),
    "skin": (95, 215),
    "hair": (0.08, 0.8),
    "hair_style": (0, 3),
    "cx": (22.5, 25.5),
    "cy": (24.5, 27.0),
    "rx": (15.5, 19.0),
    "ry": (19.5, 23.5),
    "eye_dx": (0.36, 0.46),
    "eye_dy": (0.08, 0.2),
    "eye_w": (2.9, 3.8),
    "eye_h": (0.45, 0.6),
    "brow_gap": (2.0, 3.5),
    "brow_w": (1.1, 2.0),
    "nose_len": (0.18, 0.3),
    "mouth_dy": (0.42, 0.52),
    "mouth_w": (0.3, 0.4),
    "lip_w": (0.8, 1.5),
    "glasses": (0, 1),
    "teeth": (0, 1),
}
_PHOTO = {
    "scale": (0.9, 1.1),
    "angle": (-10, 10),
    "dx": (-2, 2),
    "dy": (-2, 2),
    "flip": (0, 1),
    "light": (0, 0.6),
    "light_dir": (0, 2 * np.pi),
    "contrast": (0.7, 1.2),
    "brightness": (-25, 25),
    "blur": (0.3, 1.0),
    "noise": (2, 10),
}
_AXIS = np.linspace(-1, 1, IMAGE_SIZE, dtype=np.float32)
_BLOCK = 1024


def load(n_samples: int, *, seed: int, val_fraction: float, test_fraction: float) -> PreparedData:
    """Train/val/test drawn independently (separate sub-seeds), sized by the fractions."""
    sizes = split_sizes(n_samples, val_fraction, test_fraction)
    seeds = np.random.SeedSequence(seed).generate_state(len(sizes))
    return PreparedData(
        classes=EMOTIONS,
        splits={
            split: LabelledImages(*generate(n, int(s)))
            for (split, n), s in zip(sizes.items(), seeds, strict=True)
        },
        source={
            "name": "synthetic",
            "path": None,
            "format": "generated",
            "splits": f"each split generated with its own sub-seed of seed {seed} "
            f"({n_samples} samples, val {val_fraction}, test {test_fraction})",
        },
    )


def split_sizes(n_samples: int, val_fraction: float, test_fraction: float) -> dict[str, int]:
    """Faces each split gets; no test split where its fraction rounds to none. Its own function
    so that the pipeline's check stage refuses a count that leaves train or val empty before
    DVC removes the prepared data (prepare stopped on "None: the 'val' split has no samples")."""
    n_val, n_test = round(n_samples * val_fraction), round(n_samples * test_fraction)
    sizes = {"train": n_samples - n_val - n_test, "val": n_val, "test": n_test}
    if n_test == 0:
        del sizes["test"]
    return sizes


def generate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` faces, uint8 (n, 48, 48), with balanced int64 labels indexing ``EMOTIONS``."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % len(EMOTIONS)).astype(np.int64)
    actions = _expressions(y, rng)
    identities, photos = _draw_uniform(_IDENTITY, n, rng), _draw_uniform(_PHOTO, n, rng)
    x = np.empty((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    canvas = np.empty((_CANVAS, _CANVAS), dtype=np.uint8)
    for i in range(n):
        face = {k: float(v[i]) for k, v in identities.items()}
        canvas[:] = round(face["background"])
        _draw_face(canvas, face, dict(zip(_ACTIONS, actions[i], strict=True)))
        x[i] = _pose(canvas, face["background"], {k: float(v[i]) for k, v in photos.items()})
    _develop(x, photos, rng)
    return x, y


def _expressions(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Neutral moved towards each sample's emotion by a random intensity, plus per-action jitter."""
    neutral = _PROTOTYPES[EMOTIONS.index("neutral")]
    intensity = rng.uniform(*_INTENSITY, size=(len(y), 1))
    actions = neutral + intensity * (_PROTOTYPES[y] - neutral)
    actions += rng.normal(0.0, _JITTER, size=actions.shape)
    actions[:, _ACTIONS.index("asymmetry")] *= rng.choice((-1.0, 1.0), size=len(y))
    return actions


def _draw_uniform(ranges: dict, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {name: rng.uniform(low, high, size=n) for name, (low, high) in ranges.items()}


def _pt(x: float, y: float) -> tuple[int, int]:
    """A point in 48x48 pixel units on the canvas."""
    return round(x * _SCALE), round(y * _SCALE)


def _px(width: float) -> int:
    """A line width or radius in 48x48 pixel units on the canvas (at least one canvas pixel)."""
    return max(1, round(width * _SCALE))


def _poly(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return (np.column_stack([xs, ys]) * _SCALE).round().astype(np.int32)


def _draw_face(c: np.ndarray, f: dict[str, float], a: dict[str, float]) -> None:
    _draw_head(c, f)
    _draw_eyes_and_brows(c, f, a)
    _draw_nose(c, f, a)
    _draw_mouth(c, f, a)
    if f["glasses"] < 0.12:
        _draw_glasses(c, f)


def _draw_head(c: np.ndarray, f: dict[str, float]) -> None:
    cx, cy, rx, ry, skin = f["cx"], f["cy"], f["rx"], f["ry"], f["skin"]
    hair, style = f["hair"] * skin, int(f["hair_style"])
    cv2.rectangle(c, _pt(cx - 0.5 * rx, cy), _pt(cx + 0.5 * rx, IMAGE_SIZE), 0.85 * skin, -1)
    if style == 2:  # long hair, behind the face
        cv2.ellipse(c, _pt(cx, cy + 0.05 * ry), _pt(1.25 * rx, 1.12 * ry), 0, 0, 360, hair, -1, _AA)
    for side in (-1, 1):  # ears
        cv2.ellipse(
            c, _pt(cx + side * rx, cy), _pt(0.16 * rx, 0.22 * ry), 0, 0, 360, 0.9 * skin, -1, _AA
        )
    if style == 1:  # short hair on top of the head
        cv2.ellipse(c, _pt(cx, cy - 0.1 * ry), _pt(1.06 * rx, ry), 0, 180, 360, hair, -1, _AA)
    cv2.ellipse(c, _pt(cx, cy), _pt(rx, ry), 0, 0, 360, skin, -1, _AA)
    if style > 0:  # fringe over the forehead
        cv2.ellipse(
            c, _pt(cx, cy - 0.64 * ry), _pt(0.95 * rx, 0.36 * ry), 0, 180, 360, hair, -1, _AA
        )


def _draw_eyes_and_brows(c: np.ndarray, f: dict[str, float], a: dict[str, float]) -> None:
    """Eye opening (AU5 lid raiser / AU7 lid tightener) and brows (AU1, AU2 raise, AU4 lower)."""
    ey = f["cy"] - f["eye_dy"] * f["ry"]
    ew, relaxed_h = f["eye_w"], f["eye_w"] * f["eye_h"]
    eh = relaxed_h * max(a["eye_open"], 0.15)
    dark, unit = 0.25 * f["skin"], f["ry"] / 22
    for side in (-1, 1):
        ex = f["cx"] + side * f["eye_dx"] * f["rx"]
        cv2.ellipse(c, _pt(ex, ey), _pt(ew, eh), 0, 0, 360, min(250, f["skin"] + 60), -1, _AA)
        iris = 0.5 * ew
        cv2.ellipse(c, _pt(ex, ey), _pt(iris, min(iris, eh)), 0, 0, 360, dark, -1, _AA)
        cv2.ellipse(c, _pt(ex, ey), _pt(ew, eh), 0, 180, 360, dark, _px(0.7), _AA)  # upper lid
        base = ey - relaxed_h - f["brow_gap"] - 4 * unit * a["brow_raise"]
        tilt = a["brow_tilt"] * unit
        brow_x = ex + side * np.array([-0.9, 0.1, 1.3]) * ew  # inner, middle, outer
        brow_y = base + np.array([-3 * tilt, -1 - 0.7 * tilt, 0.7 + 0.5 * tilt])
        cv2.polylines(c, [_poly(brow_x, brow_y)], False, 0.35 * f["skin"], _px(f["brow_w"]), _AA)


def _draw_nose(c: np.ndarray, f: dict[str, float], a: dict[str, float]) -> None:
    """Nose, pulled up and wrinkled across the bridge by the nose wrinkler (AU9)."""
    cx, cy, ry = f["cx"], f["cy"], f["ry"]
    snarl = max(a["snarl"], 0.0)
    tip = cy + f["nose_len"] * ry - 0.8 * snarl
    shade = 0.7 * f["skin"]
    cv2.line(c, _pt(cx + 0.5, cy - 0.05 * ry), _pt(cx + 1, tip), shade, _px(0.5), _AA)
    cv2.ellipse(c, _pt(cx, tip), _pt(2.2 + 0.8 * snarl, 1.2), 0, 0, 180, shade, _px(0.7), _AA)
    wrinkle = min(a["wrinkle"], 1.0)
    if wrinkle > 0.2:
        crease = f["skin"] * (1 - 0.45 * wrinkle)
        for k in range(3):
            y = cy - 0.12 * ry + 1.2 * k
            cv2.line(c, _pt(cx - 1.8, y - 0.5), _pt(cx + 1.8, y + 0.5), crease, _px(0.5), _AA)


def _draw_mouth(c: np.ndarray, f: dict[str, float], a: dict[str, float]) -> None:
    """Lip corners up (AU12) or down (AU15), jaw drop (AU26), stretch (AU20), upper lip (AU10)."""
    mx, my, unit = f["cx"], f["cy"] + f["mouth_dy"] * f["ry"], f["ry"] / 22
    half = f["mouth_w"] * f["rx"] * max(a["mouth_width"], 0.4)
    u = np.linspace(-1.0, 1.0, 25)
    middle = my - unit * (4.5 * a["smile"] * (u**2 - 0.33) + 2 * a["asymmetry"] * np.clip(u, 0, 1))
    bulge = (1 - u**2) ** 0.6
    opening = 7.5 * unit * max(a["mouth_open"], 0.0)
    upper = middle - (0.3 * opening + 1.8 * unit * max(a["snarl"], 0.0)) * bulge
    lower = middle + opening * bulge
    xs = mx + half * u
    lips = 0.55 * f["skin"]
    if (lower - upper).max() > 1.2:
        mouth = _poly(np.r_[xs, xs[::-1]], np.r_[upper, lower[::-1]])
        cv2.fillPoly(c, [mouth], 0.15 * f["skin"], _AA)
        if a["smile"] > 0.4 and f["teeth"] < 0.7:  # upper teeth show in a broad smile
            teeth_edge = upper + 0.4 * (lower - upper)
            cv2.fillPoly(c, [_poly(np.r_[xs, xs[::-1]], np.r_[upper, teeth_edge[::-1]])], 235, _AA)
        cv2.polylines(c, [mouth], True, lips, _px(0.7), _AA)
    else:
        pressed = max(-a["smile"], 0.0)
        cv2.polylines(
            c, [_poly(xs, middle)], False, lips, _px(f["lip_w"] * (1.2 - 0.6 * pressed)), _AA
        )
    if a["smile"] > 0.3:  # raised cheeks (AU6) fold from the nose to the mouth corners
        for side in (-1, 1):
            fold_x = mx + side * half * np.array([0.5, 1.15])
            fold_y = np.array([my - 0.45 * f["ry"] * f["mouth_dy"], my - unit])
            cv2.polylines(c, [_poly(fold_x, fold_y)], False, 0.8 * f["skin"], _px(0.5), _AA)


def _draw_glasses(c: np.ndarray, f: dict[str, float]) -> None:
    ey = f["cy"] - f["eye_dy"] * f["ry"]
    for side in (-1, 1):
        ex = f["cx"] + side * f["eye_dx"] * f["rx"]
        cv2.circle(c, _pt(ex, ey), _px(1.5 * f["eye_w"]), 30, _px(0.7), _AA)


def _pose(canvas: np.ndarray, background: float, p: dict[str, float]) -> np.ndarray:
    """Shrink the drawing to 48x48, then turn, scale, shift and maybe mirror it.

    Posing after shrinking costs a ninth of posing the canvas; the resampling blur it adds is
    below the blur added later anyway.
    """
    small = cv2.resize(canvas, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
    centre = (IMAGE_SIZE / 2, IMAGE_SIZE / 2)
    matrix = cv2.getRotationMatrix2D(centre, p["angle"], p["scale"])
    matrix[:, 2] += np.array((p["dx"], p["dy"]))
    posed = cv2.warpAffine(
        small,
        matrix,
        (IMAGE_SIZE, IMAGE_SIZE),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=round(background),
    )
    return posed[:, ::-1] if p["flip"] < 0.5 else posed


def _develop(x: np.ndarray, p: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    """Lighting gradient, contrast, blur and sensor noise, in place, a block at a time."""
    for start in range(0, len(x), _BLOCK):
        block = slice(start, start + _BLOCK)
        at = {name: v[block, None, None].astype(np.float32) for name, v in p.items()}
        ramp = np.cos(at["light_dir"]) * _AXIS + np.sin(at["light_dir"]) * _AXIS[:, None]
        faces = x[block] * (1 + at["light"] * ramp) * at["contrast"] + at["brightness"]
        for face, sigma in zip(faces, p["blur"][block], strict=True):
            cv2.GaussianBlur(face, (0, 0), float(sigma), dst=face)
        faces += rng.standard_normal(faces.shape, dtype=np.float32) * at["noise"]
        x[block] = np.clip(faces, 0, 255)
