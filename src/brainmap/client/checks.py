"""The image parameters a caller gives, checked before anything is fetched or written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from brainmap.client.bulk.naming import AUTO
from brainmap.params import ImageRequest


def checked_request(params: Mapping[str, Any]) -> tuple[ImageRequest, bool]:
    """The image request of `params` (allensdk's keywords, others ignored), checked by the
    rules the server applies (BadParameter naming the first bad one), and whether ``range`` is
    ``"auto"`` (then left out of the request)."""
    auto = isinstance(params.get("range"), str) and params.get("range") == AUTO
    request = ImageRequest.from_kwargs(**{**params, "range": None} if auto else params)
    ImageRequest.parse(request.to_pairs())
    return request, auto
