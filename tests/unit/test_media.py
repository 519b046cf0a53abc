import struct
import zlib

import numpy as np
import pytest

from emotion_core.errors import InvalidInputError
from emotion_core.media import decode_image, encode_png, read_image
from tests.conftest import encode


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""
    small = encode(np.zeros((1, 1, 3), np.uint8))
    ihdr_start = small.index(b"IHDR")
    body = b"IHDR" + struct.pack(">II", width, height) + small[ihdr_start + 12:ihdr_start + 17]
    return small[:ihdr_start] + body + struct.pack(">I", zlib.crc32(body)) + small[ihdr_start + 21:]


class TestDecodeImage:
    @pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP"])
    def test_supported_formats_decode_to_bgr(self, astronaut_bgr, fmt):
        image = decode_image(encode(astronaut_bgr, fmt, **({"quality": 95} if fmt == "JPEG" else {})))
        assert image.shape == astronaut_bgr.shape and image.dtype == np.uint8
        assert np.abs(image.astype(int) - astronaut_bgr).mean() < 4  # lossy formats differ a little

    def test_grey_and_alpha_images_become_three_channels(self):
        import io

        from PIL import Image

        for mode in ("L", "RGBA", "P"):
            buffer = io.BytesIO()
            Image.new(mode, (20, 10)).save(buffer, format="PNG")
            assert decode_image(buffer.getvalue()).shape == (10, 20, 3)

    def test_exif_orientation_is_applied(self, astronaut_bgr):
        from PIL import Image

        exif = Image.Exif()
        exif[0x0112] = 6  # stored sideways: the camera was rotated 90 degrees
        wide = astronaut_bgr[:200]
        assert decode_image(encode(wide, "JPEG", exif=exif)).shape[:2] == (512, 200)

    @pytest.mark.parametrize("data, message", [
        (b"", "got 0 bytes"),
        (b"hello, this is text and not a picture" * 10, "not an image"),
    ])
    def test_not_an_image(self, data, message):
        with pytest.raises(InvalidInputError, match=message):
            decode_image(data, name="upload.png")

    def test_unsupported_format_is_named(self, astronaut_bgr):
        with pytest.raises(InvalidInputError, match="GIF"):
            decode_image(encode(astronaut_bgr, "GIF"))

    def test_truncated_file(self, astronaut_bgr):
        jpeg = encode(astronaut_bgr, "JPEG")
        with pytest.raises(InvalidInputError, match="damaged or truncated"):
            decode_image(jpeg[: len(jpeg) // 2])

    @pytest.mark.parametrize("side", [8000, 20000])  # below and above Pillow's own bomb limit
    def test_decompression_bomb_is_refused_before_decoding(self, side):
        bomb = png_claiming(side, side)
        assert len(bomb) < 200
        with pytest.raises(InvalidInputError, match="50,000,000 pixels this app decodes; resize the image first"):
            decode_image(bomb, max_pixels=50_000_000)

    def test_error_names_the_input(self):
        with pytest.raises(InvalidInputError, match="^holiday.jpg:"):
            decode_image(b"", name="holiday.jpg")


def test_read_image_missing_file(tmp_path):
    with pytest.raises(InvalidInputError, match="cannot be read"):
        read_image(tmp_path / "missing.png")


def test_encode_png_round_trip(astronaut_bgr):
    assert np.array_equal(decode_image(encode_png(astronaut_bgr)), astronaut_bgr)
