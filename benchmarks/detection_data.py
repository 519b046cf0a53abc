"""The detection benchmark's images: faces from FER-2013 and RAF-DB, framed many ways; scenes and clutter without one.

Everything is generated in memory from the data sets' files and the images that scikit-image and scikit-learn
ship; nothing is written to disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotion_core.training.face.judge import photo_view

FRAME = (640, 480)
"""Width and height of the scenes faces are put into, a webcam's VGA frame."""



@dataclass(frozen=True)
class FaceImage:
    """An image with one face whose square (x, y, side) is known."""

    image: np.ndarray
    face: tuple[float, float, float]
    source: str  # "fer2013" or "rafdb"
    framing: str  # e.g. "tight crop", "headshot", "in scene"
    transform: str  # "as is", "mirrored", "rolled +30", "rolled -30"
    size: int  # the face square's side in pixels


def face_crops(fer_dir: Path | None, rafdb_dir: Path | None, *, split: str, n: int, seed: int,
               ferplus_dir: Path | None = None) -> list[tuple[str, np.ndarray]]:
    """``n`` face crops (BGR), half from each data set given, drawn at random from ``split``; with ``ferplus_dir``,
    less the FER-2013 pictures that FER+'s voters took for no face (a blank frame, an icon)."""
    import cv2

    from emotion_core.training.face.judge import drawn_crop_files

    drawn = drawn_crop_files(fer_dir, rafdb_dir, split=split, n=n, seed=seed)
    if ferplus_dir is not None:
        from emotion_core.face.ferplus import ferplus_votes, is_face

        fer = [path for source, path in drawn if source == "fer2013"]
        non_faces = {path for path, votes in zip(fer, ferplus_votes(fer, ferplus_dir)) if not is_face(votes)}
        drawn = [(source, path) for source, path in drawn if path not in non_faces]
    return [(source, cv2.imread(str(path), cv2.IMREAD_COLOR)) for source, path in drawn]


TRANSFORMS = ("as is", "mirrored", "rolled +30", "rolled -30")


def _transformed(image: np.ndarray, mask: np.ndarray, transform: str) -> tuple[np.ndarray, np.ndarray]:
    """The image and its alpha mask mirrored or rolled; rolling enlarges the canvas so nothing is cut."""
    import cv2

    if transform == "as is":
        return image, mask
    if transform == "mirrored":
        return image[:, ::-1].copy(), mask[:, ::-1].copy()
    angle = float(transform.split()[1])
    h, w = image.shape[:2]
    side = int(np.ceil(np.hypot(h, w)))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    matrix[:, 2] += ((side - w) / 2, (side - h) / 2)
    rolled = cv2.warpAffine(image, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    rolled_mask = cv2.warpAffine(mask, matrix, (side, side), flags=cv2.INTER_LINEAR, borderValue=0)
    return rolled, rolled_mask


def _feathered_mask(side: int) -> np.ndarray:
    """Alpha of a pasted crop: 1 inside, falling to 0 over the outer 8 % of each edge."""
    ramp = np.clip(np.minimum(np.arange(side), np.arange(side)[::-1]) / max(1.0, 0.08 * side), 0, 1)
    return np.minimum.outer(ramp, ramp).astype(np.float32)


def tight_crops(crops: list[tuple[str, np.ndarray]], *, headshot: int = 400) -> Iterator[FaceImage]:
    """Each crop as it comes and scaled to a ``headshot`` px profile picture, in every transform.

    A rolled crop is cut back to its own size around the centre (corners filled by replicating the edge), as
    a rotated photo would be cropped.
    """
    import cv2

    for source, crop in crops:
        for framing, image in (("tight crop", crop),
                               ("headshot", cv2.resize(crop, (headshot, headshot), interpolation=cv2.INTER_CUBIC))):
            side = image.shape[0]
            for transform in TRANSFORMS:
                out, _ = _transformed(image, np.ones(image.shape[:2], np.float32), transform)
                if out.shape[0] != side:
                    start = (out.shape[0] - side) // 2
                    out = np.ascontiguousarray(out[start:start + side, start:start + side])
                yield FaceImage(out, (0.0, 0.0, float(side)), source, framing, transform, side)


@dataclass(frozen=True)
class Portrait:
    """A photo with one face: its centre and side in pixels, and how much of the photo around it to paste."""

    source: str
    image: np.ndarray
    face: tuple[float, float, float]
    context: float  # side of the pasted square, in face sides (clipped to the photo)


def crop_portraits(crops: list[tuple[str, np.ndarray]]) -> list[Portrait]:
    """Data-set crops as portraits: the face is the whole crop, with nothing around it."""
    return [Portrait(source, crop, (crop.shape[1] / 2, crop.shape[0] / 2, crop.shape[1]), 1.0)
            for source, crop in crops]


def head_portraits() -> list[Portrait]:
    """scikit-image's astronaut and cameraman with their heads and shoulders (faces measured with BlazeFace)."""
    from skimage import data

    return [Portrait("astronaut", _as_bgr(data.astronaut()), (226.5, 122.5, 105.0), 2.5),
            Portrait("cameraman", _as_bgr(data.camera()), (239.5, 158.5, 71.0), 2.5)]


def _face_region(portrait: Portrait) -> np.ndarray:
    """The square of the portrait pasted into scenes: the face at its centre, with the portrait's context."""
    cx, cy, face_side = portrait.face
    h, w = portrait.image.shape[:2]
    half = min(portrait.context * face_side / 2, cx, cy, w - cx, h - cy)
    return portrait.image[round(cy - half):round(cy + half), round(cx - half):round(cx + half)]


def faces_in_scenes(portraits: list[Portrait], scenes: list[np.ndarray], *, sizes: tuple[int, ...], repeats: int,
                    seed: int) -> Iterator[FaceImage]:
    """Each portrait ``repeats`` times at every face size, pasted with feathered edges into a 640x480 view of a
    random scene, at a random place, in a random transform."""
    import cv2

    rng = np.random.default_rng(seed)
    for portrait in portraits:
        region = _face_region(portrait)
        for size in sizes:
            for _ in range(repeats):
                transform = TRANSFORMS[rng.integers(len(TRANSFORMS))]
                side = max(1, round(region.shape[0] * size / portrait.face[2]))
                scaled = cv2.resize(region, (side, side), interpolation=cv2.INTER_AREA if side < region.shape[0]
                                    else cv2.INTER_CUBIC)
                patch, alpha = _transformed(scaled, _feathered_mask(side), transform)
                frame = photo_view(scenes[rng.integers(len(scenes))], FRAME, rng)
                yield _pasted(frame, patch, alpha, size, portrait.source, transform, rng)


def _pasted(frame: np.ndarray, patch: np.ndarray, alpha: np.ndarray, size: int, source: str, transform: str,
            rng: np.random.Generator) -> FaceImage:
    """``patch`` (a face at its centre) blended into ``frame`` at a random place; a patch larger than the frame
    keeps its middle."""
    ph, pw = patch.shape[:2]
    cut_y, cut_x = max(0, (ph - FRAME[1]) // 2), max(0, (pw - FRAME[0]) // 2)
    patch = patch[cut_y:cut_y + FRAME[1], cut_x:cut_x + FRAME[0]]
    alpha = alpha[cut_y:cut_y + FRAME[1], cut_x:cut_x + FRAME[0]]
    face_x, face_y = pw / 2 - cut_x, ph / 2 - cut_y
    ph, pw = patch.shape[:2]
    x, y = int(rng.integers(0, FRAME[0] - pw + 1)), int(rng.integers(0, FRAME[1] - ph + 1))
    region = frame[y:y + ph, x:x + pw].astype(np.float32)
    blend = alpha[..., None] * patch.astype(np.float32) + (1 - alpha[..., None]) * region
    frame[y:y + ph, x:x + pw] = np.round(blend).astype(np.uint8)
    square = (x + face_x - size / 2, y + face_y - size / 2, float(size))
    return FaceImage(frame, square, source, "in scene", transform, size)


def _as_bgr(image: np.ndarray) -> np.ndarray:
    import cv2

    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        image = np.round(255 * (image - image.min()) / max(1e-9, float(image.max() - image.min()))).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2BGR)
    return cv2.cvtColor(image, cv2.COLOR_RGB2BGR)


SKIMAGE_SCENES = ("coffee", "chelsea", "rocket", "horse", "brick", "grass", "gravel", "coins", "moon", "page",
                  "text", "clock", "hubble_deep_field", "immunohistochemistry", "logo", "microaneurysms", "retina",
                  "cell", "colorwheel", "checkerboard", "shepp_logan_phantom", "binary_blobs")
"""scikit-image's sample images without a human face (the astronaut and the cameraman have one)."""


def photo_scenes() -> list[np.ndarray]:
    """The sample photos without a face that scikit-image and scikit-learn ship, as BGR."""
    from skimage import data
    from sklearn.datasets import load_sample_images

    scenes = [_as_bgr(getattr(data, name)()) for name in SKIMAGE_SCENES]
    scenes.append(_as_bgr(data.stereo_motorcycle()[0]))
    return scenes + [_as_bgr(image) for image in load_sample_images().images]


def lfw_non_faces() -> list[np.ndarray]:
    """The second half of scikit-image's LFW subset: 100 small (25x25) patches of scenes without a face."""
    from skimage import data

    return [_as_bgr(patch) for patch in data.lfw_subset()[100:]]


def clutter(rng: np.random.Generator, size: tuple[int, int] = FRAME) -> np.ndarray:
    """A generated scene: a gradient or noise ground with random shapes, lines, text and gratings."""
    import cv2

    width, height = size
    kind = rng.integers(3)
    if kind == 0:
        ground = np.linspace(rng.integers(0, 256, 3), rng.integers(0, 256, 3), width)[None].repeat(height, 0)
    elif kind == 1:
        small = rng.integers(0, 256, (max(2, height // 32), max(2, width // 32), 3)).astype(np.uint8)
        ground = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    else:
        yy, xx = np.mgrid[0:height, 0:width]
        angle, period = rng.uniform(0, np.pi), rng.uniform(4, 60)
        wave = 127.5 + 127.5 * np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
        ground = np.repeat(wave[..., None], 3, axis=2)
    image = np.ascontiguousarray(np.clip(ground, 0, 255).astype(np.uint8))
    for _ in range(rng.integers(3, 25)):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        shape = rng.integers(5)
        if shape == 0:
            cv2.circle(image, (x, y), int(rng.integers(3, height // 3)), colour, int(rng.choice([-1, 1, 3])))
        elif shape == 1:
            cv2.rectangle(image, (x, y), (x + int(rng.integers(5, width // 2)), y + int(rng.integers(5, height // 2))),
                          colour, int(rng.choice([-1, 2])))
        elif shape == 2:
            cv2.line(image, (x, y), (int(rng.integers(0, width)), int(rng.integers(0, height))), colour,
                     int(rng.integers(1, 8)))
        elif shape == 3:
            cv2.ellipse(image, (x, y), (int(rng.integers(3, width // 4)), int(rng.integers(3, height // 4))),
                        float(rng.uniform(0, 180)), 0, 360, colour, int(rng.choice([-1, 2])))
        else:
            cv2.putText(image, "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789 "), 8)), (x, y),
                        cv2.FONT_HERSHEY_SIMPLEX, float(rng.uniform(0.5, 3)), colour, int(rng.integers(1, 4)))
    if rng.random() < 0.5:
        noise = rng.normal(0, rng.uniform(2, 25), image.shape)
        image = np.clip(image + noise, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.5, 3)))
    return image


def non_face_images(scenes: list[np.ndarray], patches: list[np.ndarray], *, n: int, seed: int,
                    sides: tuple[int, int] = (32, 640)) -> Iterator[tuple[str, np.ndarray]]:
    """``n`` images without a face, labelled by kind: views of the scenes (half), generated clutter (a third)
    and the LFW patches (a sixth), of random sizes between ``sides`` pixels and aspect ratios from 3:4 to 16:9."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        width = int(np.exp(rng.uniform(np.log(sides[0]), np.log(sides[1]))))
        height = max(sides[0] // 2, int(width / rng.uniform(0.75, 16 / 9)))
        kind = rng.choice(["scene", "scene", "scene", "clutter", "clutter", "lfw patch"])
        if kind == "clutter":
            yield kind, clutter(rng, (width, height))
        else:
            pool = scenes if kind == "scene" else patches
            yield kind, photo_view(pool[rng.integers(len(pool))], (width, height), rng)


def pan_clip_frames(scenes: list[np.ndarray], *, frames_per_scene: int, seed: int,
                    size: tuple[int, int] = FRAME) -> Iterator[np.ndarray]:
    """A camera's slow pan and zoom across each scene in turn, ``frames_per_scene`` frames each."""
    import cv2

    rng = np.random.default_rng(seed)
    width, height = size
    for scene in scenes:
        h, w = scene.shape[:2]
        zoom0, zoom1 = rng.uniform(0.5, 1.0, 2)
        (x0, y0), (x1, y1) = rng.uniform(0, 1, (2, 2))
        for i in range(frames_per_scene):
            t = i / max(1, frames_per_scene - 1)
            zoom = zoom0 + (zoom1 - zoom0) * t
            ch = max(8, int(min(h, w * height / width) * zoom))
            cw = max(8, int(ch * width / height))
            x = int((x0 + (x1 - x0) * t) * (w - cw))
            y = int((y0 + (y1 - y0) * t) * (h - ch))
            yield cv2.resize(scene[y:y + ch, x:x + cw], size, interpolation=cv2.INTER_AREA)


def drifting_face_frames(portrait: Portrait, scene: np.ndarray, *, size: int, frames: int,
                         seed: int) -> Iterator[np.ndarray]:
    """A face of ``size`` px drifting slowly across a still view of ``scene`` (640x480), ``frames`` frames."""
    import cv2

    background = photo_view(scene, FRAME, np.random.default_rng(seed))
    region = _face_region(portrait)
    side = round(region.shape[0] * size / portrait.face[2])
    patch = cv2.resize(region, (side, side), interpolation=cv2.INTER_AREA)
    alpha = _feathered_mask(side)[..., None]
    for i in range(frames):
        x = int((FRAME[0] - side) * (0.5 + 0.4 * np.sin(i / 40)))
        y = int((FRAME[1] - side) * (0.5 + 0.3 * np.cos(i / 55)))
        frame = background.copy()
        region_bg = frame[y:y + side, x:x + side].astype(np.float32)
        frame[y:y + side, x:x + side] = np.round(alpha * patch + (1 - alpha) * region_bg).astype(np.uint8)
        yield frame


def encode_clip(frames: Iterator[np.ndarray], *, fps: int = 30) -> bytes:
    """BGR frames as an H.264 MP4 file, in memory."""
    import io

    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = None
        for image in frames:
            if stream is None:
                stream = container.add_stream("libx264", rate=fps)
                stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "yuv420p"
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
