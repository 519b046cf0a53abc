"""Is this whole image a face? A second judge for close-ups, which learnt from other pictures than the detectors.

The close-up looks (:mod:`emotion_core.face.search`) ask face detectors and MTCNN's O-Net about an image that may
be one face; some real faces get low votes from all of them (blurred, seen from below, half hidden), while a few
textures and animals get high ones. This judge looks at the image the way an image classifier does: ImageNet
MobileNetV2's last feature map (3x3 places by 1,280 features) of its central square, in grey (so colour tells
nothing), and a logistic regression on the whole map, so where in the square a feature fires counts (eyes above a
mouth), not only that it fires. Trained on face crops against photos and textures without a person
(``python -m emotion_core train face-judge``; sources and figures in ``models/face_judge.card.json``); one ONNX
file holds the network and the regression.
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


def judge_inputs(images_bgr: list[np.ndarray]) -> np.ndarray:
    """The network's input ``(N, 96, 96, 3)``: each image's :func:`central_square`, normalised for MobileNetV2."""
    return imagenet_inputs(np.stack([central_square(image) for image in images_bgr]), size=JUDGE_SIZE)


class FaceJudge:
    """The probability that a whole image is one face.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
        MobileNetV2 and the logistic regression: ``(N, 96, 96, 3)`` -> ``(N, 1)`` probabilities.
    """

    def __init__(self, session):
        self.session = session

    @classmethod
    def from_dir(cls, models_dir: str | Path) -> FaceJudge:
        from emotion_core.modelcard import load_card
        from emotion_core.runtime import load_onnx_session

        card = load_card(models_dir, JUDGE_MODEL)
        return cls(load_onnx_session(Path(models_dir) / card["file"]))

    def probabilities(self, images_bgr: list[np.ndarray]) -> np.ndarray:
        """The probability that each image as a whole is one face, ``(N,)``."""
        inputs = {self.session.get_inputs()[0].name: judge_inputs(images_bgr)}
        return self.session.run(None, inputs)[0][:, 0]

    def probability(self, image_bgr: np.ndarray) -> float:
        """The probability that ``image_bgr`` as a whole is one face: the mean of :meth:`probabilities` for the
        image as it is and mirrored (a face is about as likely either way; a texture's pattern may not be)."""
        return float(self.probabilities([image_bgr, np.ascontiguousarray(image_bgr[:, ::-1])]).mean())
