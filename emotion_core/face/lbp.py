"""Local Binary Patterns (Ojala et al., 2002): the texture descriptor of seed 002's hybrid face model.

Each pixel is compared with its 8 neighbours at radius 1 on the square grid (P=8, R=1, no interpolation); the
8 bits are mapped to the 10 "uniform" codes (0-8 ones in a row, and one code for every non-uniform pattern), and
the codes are counted in a grid of cells.
"""

from __future__ import annotations

import numpy as np

P, R = 8, 1
BINS = P + 2
# Neighbours clockwise from the top-left, as (row, column) offsets.
_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))


def _uniform_table() -> np.ndarray:
    table = np.empty(256, dtype=np.uint8)
    for code in range(256):
        bits = [(code >> i) & 1 for i in range(P)]
        transitions = sum(bits[i] != bits[(i + 1) % P] for i in range(P))
        table[code] = sum(bits) if transitions <= 2 else P + 1
    return table


_UNIFORM = _uniform_table()


def uniform_lbp(gray: np.ndarray) -> np.ndarray:
    """The uniform LBP code (0-9) of every interior pixel of a uint8 grey image, ``(H-2, W-2)``."""
    image = gray.astype(np.int16)
    centre = image[1:-1, 1:-1]
    code = np.zeros(centre.shape, dtype=np.uint8)
    for bit, (dy, dx) in enumerate(_OFFSETS):
        neighbour = image[1 + dy:image.shape[0] - 1 + dy, 1 + dx:image.shape[1] - 1 + dx]
        code |= (neighbour >= centre).astype(np.uint8) << bit
    return _UNIFORM[code]


def lbp_histograms(faces: np.ndarray, *, grid: int = 6) -> np.ndarray:
    """``(N, grid * grid * 10)`` float32: the share of each uniform-LBP code in each cell of a grid x grid
    division of each ``(48, 48)`` face (every cell's shares sum to 1).

    Examples
    --------
    >>> lbp_histograms(np.zeros((1, 48, 48), np.uint8)).shape
    (1, 360)
    """
    out = np.empty((len(faces), grid * grid * BINS), dtype=np.float32)
    for i, face in enumerate(faces):
        codes = uniform_lbp(face)
        rows = np.array_split(np.arange(codes.shape[0]), grid)
        cols = np.array_split(np.arange(codes.shape[1]), grid)
        cells = [np.bincount(codes[r[0]:r[-1] + 1, c[0]:c[-1] + 1].ravel(), minlength=BINS) / (len(r) * len(c))
                 for r in rows for c in cols]
        out[i] = np.concatenate(cells)
    return out
