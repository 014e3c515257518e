"""The file a warped section is saved as: a PNG, 8 bits per channel, RGBA. Red, green and blue
are the warped pixels as the server's JPEG decoded (lossless from there on); alpha is 255 where
the grid point falls inside the section image and 0 outside (where the colour is 0). Every
image viewer and library reads it (Fiji, napari, PIL, OpenCV); the alpha channel keeps the
section's outline, which black pixels alone would not."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from brainmap.client.warping import need_opencv

OPAQUE = 255


def encode(pixels: NDArray[np.uint8], valid: NDArray[np.bool_]) -> bytes:
    """An RGBA PNG of RGB `pixels` (rows, cols, 3) with `valid` as its alpha."""
    need_opencv()
    import cv2

    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"warped sections are RGB uint8, not {pixels.dtype} {pixels.shape}")
    alpha = np.where(valid, OPAQUE, 0).astype(np.uint8)
    bgra = np.dstack([pixels[:, :, ::-1], alpha])
    done, body = cv2.imencode(".png", bgra, [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not done:
        raise ValueError("OpenCV could not encode the PNG")
    return bytes(body.tobytes())


def decode(body: bytes) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """The RGB pixels and the valid mask of a PNG `encode` wrote; ValueError for anything else."""
    need_opencv()
    import cv2

    bgra = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_UNCHANGED)
    if bgra is None or bgra.dtype != np.uint8 or bgra.ndim != 3 or bgra.shape[2] != 4:
        raise ValueError("not an 8-bit RGBA PNG of a warped section")
    pixels: NDArray[np.uint8] = np.ascontiguousarray(bgra[:, :, 2::-1])
    valid: NDArray[np.bool_] = bgra[:, :, 3] == OPAQUE
    return pixels, valid
