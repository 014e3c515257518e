"""The image service's vocabulary, shared by client, server, ingest and mirror: endpoint names,
views and the alternates they read, output limits, JPEG defaults, the scale of an image's
values, and the words accepted as true or false. Pure: this module imports nothing of brainmap."""

from __future__ import annotations

ENDPOINTS = (
    "section_image_download",
    "atlas_image_download",
    "projection_image_download",
    "image_download",
)
"""The four image download endpoints under ``/api/v2/``: one service (docs/allen-api.md §6)."""

EXPRESSION_MASK = "Expression Mask"
PROJECTION_MASK = "Projection Mask"
TUMOR_FEATURE_ANNOTATION = "Tumor Feature Annotation"
TUMOR_FEATURE_BOUNDARY = "Tumor Feature Boundary"
"""AlternateImage.image_type of the masks; annotation label maps use their Atlas.image_type."""

ALTERNATE_BY_VIEW = {
    "expression": EXPRESSION_MASK,
    "projection": PROJECTION_MASK,
    "tumor_feature_annotation": TUMOR_FEATURE_ANNOTATION,
    "tumor_feature_boundary": TUMOR_FEATURE_BOUNDARY,
}
"""``view=`` values (and the boolean parameters of the same names) -> the alternate they read."""

VIEWS = tuple(ALTERNATE_BY_VIEW)
VIEW_BY_ALTERNATE = {alternate: view for view, alternate in ALTERNATE_BY_VIEW.items()}

MAX_PIXELS = 400_000_000
MAX_SIDE = 65_535
"""Largest output of one image response (docs/rules.md, "Limits"): above either, a 413."""
JPEG_MAX_SIDE = 65_500
"""The largest width or height libjpeg writes."""
MAX_QUERY_STRING = 64 * 1024
"""Longest query string answered; above it, a 414 (send long RMA queries in parts)."""

DEFAULT_JPEG_QUALITY = 100
"""Quality of a download when the request names none (the real service's default)."""
IIIF_JPEG_QUALITY = 90
"""Quality of every IIIF JPEG: for viewer tiles. On a noisy section, 42 % of the bytes of the
download service's default, 100."""
PYRAMID_JPEG_QUALITY = 89
"""Quality of stored JPEG tiles: libvips stores Q >= 90 as RGB without chroma subsampling."""

TWELVE_BIT_SCALE = 4095
"""The scale of 8-bit (scaled up to it), 12-bit and unrecorded bit depths (docs/rules.md,
"Pixel pipeline" step 3)."""


def image_scale(bits_per_component: int | None) -> int:
    """The largest value of an image's scale: 4095 up to 12 bits (and when the depth is not
    recorded), ``2**bits - 1`` above (65535 for full-range 16-bit data)."""
    if bits_per_component is None or bits_per_component <= 12:
        return TWELVE_BIT_SCALE
    return int(2**bits_per_component - 1)


TRUE_WORDS = frozenset({"true", "t", "1", "yes"})
FALSE_WORDS = frozenset({"false", "f", "0", "no"})
"""Spellings of a boolean query parameter, compared lower-cased."""
