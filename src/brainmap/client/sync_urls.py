"""The URLs of the image-sync services and the SVG drawings, as pure functions of an endpoint
(``<api>/api/v2/<service>``), byte for byte as allensdk 2.16.2 builds them: coordinates with
``%f`` (six decimals), ids with `str`, id lists joined by commas."""

from __future__ import annotations

from collections.abc import Iterable

from brainmap.client import urls


def endpoint(api_url: str, service: str) -> str:
    """``<api>/api/v2/<service>`` for a server root (any form `urls.server_root` takes)."""
    return f"{urls.api_v2(api_url)}/{service}"


def _joined(ids: Iterable[object]) -> str:
    return ",".join(str(item) for item in ids)


def _point(record_id: object, *coordinates: float) -> str:
    """``/<id>.json?x=%f&y=%f[&z=%f]``."""
    names = ("x", "y", "z")[: len(coordinates)]
    query = "&".join(f"{name}=%f" for name in names) % coordinates
    return f"/{record_id}.json?{query}"


def image_to_atlas(
    endpoint: str, section_image_id: object, x: float, y: float, atlas_id: object
) -> str:
    return endpoint + _point(section_image_id, x, y) + f"&atlas_id={atlas_id}"


def image_to_image(
    endpoint: str, section_image_id: object, x: float, y: float, data_set_ids: Iterable[object]
) -> str:
    return (
        endpoint + _point(section_image_id, x, y) + "&section_data_set_ids=" + _joined(data_set_ids)
    )


def image_to_image_2d(
    endpoint: str, section_image_id: object, x: float, y: float, image_ids: Iterable[object]
) -> str:
    return endpoint + _point(section_image_id, x, y) + "&section_image_ids=" + _joined(image_ids)


def reference_to_image(
    endpoint: str,
    reference_space_id: object,
    x: float,
    y: float,
    z: float,
    data_set_ids: Iterable[object],
) -> str:
    point = _point(reference_space_id, x, y, z)
    return endpoint + point + "&section_data_set_ids=" + _joined(data_set_ids)


def image_to_reference(endpoint: str, section_image_id: object, x: float, y: float) -> str:
    return endpoint + _point(section_image_id, x, y)


def structure_to_image(
    endpoint: str, section_data_set_id: object, structure_ids: Iterable[object]
) -> str:
    return f"{endpoint}/{section_data_set_id}.json?structure_ids={_joined(structure_ids)}"


def svg(endpoint: str, image_id: object, groups: Iterable[object] | None = None) -> str:
    """``<endpoint>/<id>``, with ``?groups=a,b`` when there are any (`endpoint`: ``svg`` or
    ``svg_download``)."""
    listed = list(groups or [])
    return f"{endpoint}/{image_id}" + (f"?groups={_joined(listed)}" if listed else "")
