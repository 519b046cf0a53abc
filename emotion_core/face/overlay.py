"""Draw results onto images: a box per face, a small drawn emoji, the label and the confidence.

The emoji are drawn with OpenCV primitives (a face with eyes, brows and a mouth per emotion) because OpenCV
cannot render emoji fonts and none ships with the project's packages.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emotion_core.result import EmotionResult

COLOURS_BGR: dict[str, tuple[int, int, int]] = {
    "angry": (40, 40, 220),
    "disgust": (40, 140, 40),
    "fear": (160, 60, 140),
    "happy": (0, 200, 255),
    "sad": (200, 120, 40),
    "surprise": (0, 140, 255),
    "neutral": (170, 170, 170),
}
"""One colour per emotion, shared by the overlay and (as RGB hex) by the charts."""

UNCERTAIN_BGR = (150, 150, 150)
"""Grey: the colour of a result marked uncertain (dashed box, "?" after the label)."""


def colour_hex(label: str) -> str:
    b, g, r = COLOURS_BGR[label]
    return f"#{r:02x}{g:02x}{b:02x}"


def draw_emoji(image: np.ndarray, centre: tuple[int, int], radius: int, label: str) -> None:
    """Draw a small emoji face for ``label`` in place."""
    import cv2

    cx, cy = centre
    r = max(6, radius)
    line = max(1, r // 7)
    cv2.circle(image, (cx, cy), r, (40, 210, 250), -1, cv2.LINE_AA)
    cv2.circle(image, (cx, cy), r, (20, 20, 20), line, cv2.LINE_AA)
    eye_dx, eye_y = int(r * 0.38), cy - int(r * 0.2)
    eye_r = max(1, int(r * (0.16 if label in ("surprise", "fear") else 0.11)))
    for side in (-1, 1):
        cv2.circle(image, (cx + side * eye_dx, eye_y), eye_r, (20, 20, 20), -1, cv2.LINE_AA)
        if label in ("angry", "sad", "fear"):
            # Brows: angry slope down to the nose, sad and fearful slope up to it.
            inner = -1 if label == "angry" else 1
            x0, x1 = cx + side * int(r * 0.15), cx + side * int(r * 0.6)
            y_inner = eye_y - int(r * (0.25 - 0.12 * inner))
            y_outer = eye_y - int(r * (0.25 + 0.12 * inner))
            cv2.line(image, (x0, y_inner), (x1, y_outer), (20, 20, 20), line, cv2.LINE_AA)
    mouth_y, mouth_w = cy + int(r * 0.38), int(r * 0.45)
    if label == "happy":
        cv2.ellipse(image, (cx, mouth_y - int(r * 0.12)), (mouth_w, int(r * 0.28)), 0, 10, 170, (20, 20, 20),
                    line + 1, cv2.LINE_AA)
    elif label in ("sad", "angry", "disgust"):
        cv2.ellipse(image, (cx, mouth_y + int(r * 0.15)), (mouth_w, int(r * 0.2)), 0, 200, 340, (20, 20, 20),
                    line + 1, cv2.LINE_AA)
    elif label in ("surprise", "fear"):
        cv2.ellipse(image, (cx, mouth_y), (int(r * 0.16), int(r * 0.22)), 0, 0, 360, (20, 20, 20), -1, cv2.LINE_AA)
    else:
        cv2.line(image, (cx - mouth_w, mouth_y), (cx + mouth_w, mouth_y), (20, 20, 20), line + 1, cv2.LINE_AA)
    if label == "disgust":
        cv2.circle(image, (cx + int(r * 0.55), cy + int(r * 0.55)), max(1, int(r * 0.18)), (60, 170, 60), -1,
                   cv2.LINE_AA)


def left_to_right(results: Sequence[EmotionResult]) -> list[EmotionResult]:
    """The face results in the order the overlay numbers them (and the app lists them): by the box's left edge."""
    return sorted((r for r in results if r.box is not None), key=lambda r: (r.box[0], r.box[1]))


Rect = tuple[int, int, int, int]  # left, top, right, bottom


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_banner(box: tuple[int, int, int, int], size: tuple[int, int], image_size: tuple[int, int],
                 taken: Sequence[Rect]) -> Rect:
    """Where a label of ``size`` (width, height) goes for a face ``box``: above it, else below it, else inside its
    top edge, the first that stays in the image and clears the labels already ``taken``; when all of those are
    taken, the first free place further down, so labels never overlap while the image has room."""
    x, y, w, h = box
    banner_w, banner_h = size
    width, height = image_size
    left = max(0, min(x, width - banner_w))
    tops = [y - banner_h, y + h, y]
    tops += list(range(y + h + banner_h, height - banner_h + 1, max(1, banner_h // 2)))
    candidates = [(left, top, left + banner_w, top + banner_h) for top in tops if 0 <= top <= height - banner_h]
    for rect in candidates:
        if not any(_overlaps(rect, other) for other in taken):
            return rect
    return candidates[0] if candidates else (left, 0, left + banner_w, min(height, banner_h))


def _dashed_rectangle(image: np.ndarray, top_left: tuple[int, int], bottom_right: tuple[int, int],
                      colour: tuple[int, int, int], thickness: int, line_type: int) -> None:
    """A rectangle drawn in dashes, in place (the arguments of ``cv2.rectangle``)."""
    import cv2

    (x0, y0), (x1, y1) = top_left, bottom_right
    dash = max(4, 4 * thickness)
    for a, b, fixed, horizontal in ((x0, x1, y0, True), (x0, x1, y1, True), (y0, y1, x0, False), (y0, y1, x1, False)):
        for start in range(a, b, 2 * dash):
            end = min(start + dash, b)
            p, q = ((start, fixed), (end, fixed)) if horizontal else ((fixed, start), (fixed, end))
            cv2.line(image, p, q, colour, thickness, line_type)


def annotate(image_bgr: np.ndarray, results: Sequence[EmotionResult]) -> np.ndarray:
    """A copy of ``image_bgr`` with each face result drawn: box, number (left to right, as the app lists the
    faces), emoji, label and confidence. Labels are placed so that they never cover one another.

    A result marked uncertain (too small, blurred, in profile ...) gets a grey dashed box and a "?" after its
    label. Results without a box (speech, text) are ignored.
    """
    import cv2

    out = image_bgr.copy()
    height, width = out.shape[:2]
    scale = max(0.4, min(width, height) / 900)
    thickness = max(1, round(2 * scale))
    faces = left_to_right(results)
    colours = {id(result): UNCERTAIN_BGR if result.uncertain else COLOURS_BGR[result.label] for result in faces}
    for result in faces:
        x, y, w, h = result.box
        draw_box = _dashed_rectangle if result.uncertain else cv2.rectangle
        draw_box(out, (x, y), (x + w, y + h), colours[id(result)], thickness, cv2.LINE_AA)
    taken: list[Rect] = []
    for number, result in enumerate(faces, start=1):
        colour = colours[id(result)]
        label = f"{result.label}{'?' if result.uncertain else ''} {result.confidence:.0%}"
        text = f"{number}  {label}" if len(faces) > 1 else label
        font_scale = max(0.45, min(1.2, result.box[2] / 160))
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        emoji_r = th
        left, top, right, bottom = place_banner(result.box, (tw + 2 * emoji_r + 14, th + base + 8), (width, height),
                                                taken)
        taken.append((left, top, right, bottom))
        cv2.rectangle(out, (left, top), (right, bottom), colour, -1)
        draw_emoji(out, (left + emoji_r + 4, (top + bottom) // 2), emoji_r, result.label)
        cv2.putText(out, text, (left + 2 * emoji_r + 10, top + th + 4), cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                    (255, 255, 255) if result.label != "happy" else (20, 20, 20), thickness, cv2.LINE_AA)
    return out
