"""What a downloaded image must be before it replaces anything: a decodable JPEG of the size the
record and the request imply."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from brainmap.client._http.errors import CorruptBody
from brainmap.client._http.transport import Check
from brainmap.geometry import ImageExtent, plan_request
from brainmap.params import ImageRequest

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

Size = tuple[int, int]
"""Width and height in pixels."""

EXTENT_FIELDS = ("id", "x", "y", "width", "height", "image_width", "image_height", "tier_count")
"""The SubImage fields the client needs to plan and verify downloads."""


def extent_of(record: Mapping[str, Any]) -> ImageExtent:
    """The geometry of a SubImage record (SectionImage, AtlasImage, ...)."""
    return ImageExtent(
        x=record["x"],
        y=record["y"],
        width=record["width"],
        height=record["height"],
        image_width=record["image_width"],
        image_height=record["image_height"],
        tier_count=record["tier_count"],
    )


def expected_size(record: Mapping[str, Any], request: ImageRequest) -> Size:
    """Width and height of the image the server renders for `request` on `record`."""
    plan = plan_request(extent_of(record), request)
    return plan.out_width, plan.out_height


def decode(body: bytes) -> NDArray[np.uint8]:
    """The RGB pixels of a JPEG, chroma upsampled by replication.

    Replication (not libjpeg's smoothing "fancy" upsampling, which reads neighbouring blocks)
    makes every pixel depend on its own 16 x 16 block only, so tiles cut on that grid decode to
    exactly the pixels of one big image.
    """
    import simplejpeg

    pixels: NDArray[np.uint8] = simplejpeg.decode_jpeg(body, colorspace="RGB", fastupsample=True)
    return pixels


def verify_jpeg(body: bytes) -> Size:
    """Width and height of a JPEG whose entropy-coded data all decodes (strictly: truncated or
    corrupt data raises ValueError).

    The decode is scaled to 1/8: every block's coefficients are still decoded, but only their DC
    term is transformed, which skips most of the IDCT and colour work of a full decode.
    """
    import simplejpeg

    height, width, _, _ = simplejpeg.decode_jpeg_header(body)
    simplejpeg.decode_jpeg(body, colorspace="RGB", min_width=1, min_height=1)
    return width, height


def jpeg_check(url: str, size: Size | None) -> Check:
    """A body check: the JPEG decodes completely (see `verify_jpeg`) and, when `size` is known,
    has that width and height."""

    def check(body: bytes) -> None:
        try:
            got = verify_jpeg(body)
        except ValueError as error:
            raise CorruptBody(
                url, 200, f"not a decodable JPEG ({len(body)} bytes): {error}"
            ) from None
        if size is not None and got != size:
            raise CorruptBody(
                url, 200, f"image is {got[0]} x {got[1]}, expected {size[0]} x {size[1]}"
            )

    return check
