"""A .y4m file for Chromium's fake camera: a real face (skimage's astronaut) in 640x480 frames."""

from pathlib import Path

import numpy as np


def write_face_y4m(path: Path, *, seconds: float = 2.0, fps: int = 15) -> Path:
    """Write an uncompressed YUV4MPEG2 clip whose face drifts a little, as a person in front of a webcam."""
    import cv2
    from skimage import data

    face = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (400, 400), interpolation=cv2.INTER_AREA)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W640 H480 F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(int(seconds * fps)):
            frame = np.full((480, 640, 3), 80, np.uint8)
            x = 120 + int(20 * np.sin(i / 5))
            frame[40:440, x:x + 400] = face
            out.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path
