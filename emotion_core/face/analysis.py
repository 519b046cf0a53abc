"""Whole analyses as every surface runs them: bytes in, results plus what to show or save out.

The CLI, the Streamlit pages and the JSON API call these functions, so they all give the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from emotion_core.config import Settings
from emotion_core.face.overlay import annotate
from emotion_core.media import decode_image
from emotion_core.result import EmotionResult


@dataclass(frozen=True)
class ImageAnalysis:
    """The faces found in one image, and the image with them drawn on."""

    source: str
    image: np.ndarray
    faces: list[EmotionResult]
    detector: str

    @property
    def annotated(self) -> np.ndarray:
        """BGR copy of the image with a box, emoji, label and confidence per face."""
        return annotate(self.image, self.faces)

    def face_table(self):
        """One row per face, as ``analyze --csv`` prints it: ``source`` and :meth:`EmotionResult.to_row`."""
        from emotion_core.face.stream import rows_table

        return rows_table([{"source": self.source, **face.to_row()} for face in self.faces])

    def to_dict(self) -> dict[str, Any]:
        """The JSON that ``analyze --json`` prints."""
        data: dict[str, Any] = {
            "source": self.source,
            "modality": "face",
            "image": {"width": int(self.image.shape[1]), "height": int(self.image.shape[0])},
            "detector": self.detector,
            "faces": [face.to_dict() for face in self.faces],
        }
        if not self.faces:
            data["reason"] = "no face found"
        return data


def analyze_image(data: bytes, predictor, *, source: str = "image",
                  max_pixels: int = Settings.max_image_pixels) -> ImageAnalysis:
    """Decode an uploaded image and classify every face in it.

    Parameters
    ----------
    data : bytes
        The image file's content (JPEG, PNG, WebP or BMP).
    predictor : FacePredictor
    source : str
        Name of the input (file name), kept in the result and used in error messages.
    max_pixels : int
        Images with more pixels are refused before decoding.

    Raises
    ------
    InvalidInputError
        If the bytes are not a whole, supported image of acceptable size.
    """
    image = decode_image(data, max_pixels=max_pixels, name=source)
    return ImageAnalysis(source=source, image=image, faces=predictor.predict(image), detector=predictor.detector.name)
