"""Decode and validate media where it enters the core.

Pages, the API and the CLI hand raw bytes to these functions and show the :class:`InvalidInputError` message
when one is raised; nothing downstream checks the input again.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from emotion_core.config import Settings
from emotion_core.errors import InvalidInputError, UnsupportedMediaError

IMAGE_TYPES = ("jpg", "jpeg", "png", "webp", "bmp")
TABLE_TYPES = ("csv", "tsv", "parquet")
_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "MPO"}  # MPO: JPEGs from some phone cameras
_EXPECTED = "a JPEG, PNG, WebP or BMP image"


def decode_image(data: bytes, *, max_pixels: int = Settings.max_image_pixels, name: str = "image") -> np.ndarray:
    """Decode image bytes into a BGR uint8 array, refusing anything that is not a whole, sane image.

    The header is read first, so a decompression bomb (a small file claiming a huge size) is refused
    before any pixel is decoded. EXIF orientation is applied, as a phone's gallery would show the photo.

    Parameters
    ----------
    data : bytes
        The file's content.
    max_pixels : int
        Largest width x height accepted.
    name : str
        How the input is called in error messages (e.g. the upload's file name).

    Returns
    -------
    np.ndarray
        ``(H, W, 3)`` BGR uint8.

    Raises
    ------
    InvalidInputError
        Empty, not an image, an unsupported format, too many pixels, or truncated.
    """
    import cv2
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise InvalidInputError(f"{name}: expected {_EXPECTED}, got 0 bytes.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in _IMAGE_FORMATS:
                raise UnsupportedMediaError(f"{name}: expected {_EXPECTED}, got a {img.format} file.")
            width, height = img.size
            if width * height > max_pixels:
                raise InvalidInputError(
                    f"{name}: {width}x{height} pixels is more than the {max_pixels:,} pixels this app decodes; "
                    "resize the image first."
                )
            img.load()
            ImageOps.exif_transpose(img, in_place=True)
            rgb = np.asarray(img if img.mode == "RGB" else img.convert("RGB"))
    except UnidentifiedImageError:
        raise UnsupportedMediaError(
            f"{name}: expected {_EXPECTED}, got {len(data):,} bytes that are not an image."
        ) from None
    except Image.DecompressionBombError:
        raise InvalidInputError(
            f"{name}: the image claims far more than the {max_pixels:,} pixels this app decodes; "
            "resize the image first."
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"{name}: the image file is damaged or truncated ({exc}).") from None
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def read_file(path: str | Path) -> bytes:
    """A file's bytes; a file that cannot be read raises :class:`InvalidInputError` naming it and why."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot be read ({exc.strerror}).") from None


def read_image(path: str | Path, *, max_pixels: int = Settings.max_image_pixels) -> np.ndarray:
    """Read an image file from disk with the checks of :func:`decode_image`."""
    return decode_image(read_file(path), max_pixels=max_pixels, name=Path(path).name)


def encode_png(image_bgr: np.ndarray) -> bytes:
    """PNG bytes of a BGR image, for downloads."""
    import cv2

    ok, buf = cv2.imencode(".png", image_bgr)
    if not ok:
        raise InvalidInputError("image: could not be encoded as PNG.")
    return buf.tobytes()


MAX_TEXT_CHARS = 100_000
"""Longer texts are refused: about 15,000 words, a long report. Split bigger documents."""


def check_text(text: str | bytes, *, name: str = "text", max_chars: int = MAX_TEXT_CHARS) -> str:
    """A text ready to analyse: decoded (UTF-8, with or without a byte-order mark), stripped, non-empty.

    Raises
    ------
    InvalidInputError
        Bytes that are not UTF-8, nothing but white space, no letters or digits at all (emoji only), or more
        than ``max_chars`` characters.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"{name}: not UTF-8 text (byte {text[exc.start]:#04x} at position {exc.start}); "
                                    "save the file as UTF-8.") from None
    text = text.strip()
    if not text:
        raise InvalidInputError(f"{name}: nothing to analyse (empty, or only spaces).")
    if len(text) > max_chars:
        raise InvalidInputError(f"{name}: {len(text):,} characters is more than the {max_chars:,} this app "
                                "analyses at once; split it into parts.")
    if not any(ch.isalnum() for ch in text):
        raise InvalidInputError(f"{name}: no words to analyse; the text model reads English words, not emoji or "
                                "punctuation alone.")
    return text


def read_table(path: str | Path, *, start: int = 0, stop: int | None = None):
    """A CSV, TSV or Parquet table of texts as a DataFrame, every CSV/TSV cell read as text.

    ``start`` and ``stop`` choose a range of rows (0-based, header excluded), so that a part of a big CSV is read
    without parsing the rest.

    Raises
    ------
    InvalidInputError
        If the file cannot be read or parsed (CSV/TSV must be UTF-8).
    """
    import pandas as pd

    path = Path(path)
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path).iloc[start:stop].reset_index(drop=True)
        return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",", dtype=str,
                           keep_default_na=False, encoding="utf-8", skiprows=range(1, start + 1) if start else None,
                           nrows=None if stop is None else stop - start)
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidInputError(f"{path}: not a readable UTF-8 table ({exc.__class__.__name__}).") from None
