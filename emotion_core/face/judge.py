"""Is this whole image a face? A second judge for close-ups, which learnt from other pictures than the detectors.

The close-up looks (:mod:`emotion_core.face.search`) ask face detectors and MTCNN's O-Net about an image that may
be one face; some real faces get low votes from all of them (blurred, seen from below, half hidden), while a few
textures and animals get high ones. This judge looks at the image the way an image classifier does: ImageNet
MobileNetV2 features of its central square, in grey (so colour tells nothing), and a logistic regression trained
on face crops against photos and textures without a person (``python -m emotion_core train face-judge``; sources
and figures in ``models/face_judge.card.json``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emotion_core.face.hybrid import imagenet_inputs

JUDGE_MODEL = "face_judge"
JUDGE_SIZE = 96
"""Side of the square MobileNetV2 sees."""


def central_square(image_bgr: np.ndarray, size: int = JUDGE_SIZE) -> np.ndarray:
    """The image's largest central square, grey, at ``size`` pixels."""
    import cv2

    grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY) if image_bgr.ndim == 3 else image_bgr
    height, width = grey.shape
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = grey[top:top + side, left:left + side]
    return cv2.resize(square, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)


def whole_image_features(backbone, images_bgr: list[np.ndarray]) -> np.ndarray:
    """MobileNetV2's ``(N, 1280)`` features of each image's :func:`central_square`."""
    squares = np.stack([central_square(image) for image in images_bgr])
    return backbone.run(None, {backbone.get_inputs()[0].name: imagenet_inputs(squares, size=JUDGE_SIZE)})[0]


class FaceJudge:
    """The probability that a whole image is one face.

    Parameters
    ----------
    backbone : onnxruntime.InferenceSession
        ImageNet MobileNetV2 (96x96x3 -> 1280 features), the file seed 002's hybrid also uses.
    mean, scale, coef : np.ndarray
        The features' standardisation and the logistic regression's weights (1280 each).
    intercept : float
    """

    def __init__(self, *, backbone, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float):
        self.backbone = backbone
        self.mean, self.scale, self.coef, self.intercept = mean, scale, coef, intercept

    @classmethod
    def from_dir(cls, models_dir: str | Path) -> FaceJudge:
        from emotion_core.modelcard import load_card
        from emotion_core.runtime import load_onnx_session

        files = load_card(models_dir, JUDGE_MODEL)["inference"]["files"]
        with np.load(Path(models_dir) / files["weights"], allow_pickle=False) as weights:
            return cls(backbone=load_onnx_session(Path(models_dir) / files["backbone"]), mean=weights["mean"],
                       scale=weights["scale"], coef=weights["coef"], intercept=float(weights["intercept"]))

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """The probability of a face for each row of :func:`whole_image_features`."""
        logits = ((features - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-logits))

    def probability(self, image_bgr: np.ndarray) -> float:
        """The probability that ``image_bgr`` as a whole is one face."""
        return float(self.probabilities(whole_image_features(self.backbone, [image_bgr]))[0])
