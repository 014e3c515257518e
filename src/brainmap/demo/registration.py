"""The demo's registration workflow, on the server's image-sync services and brainmap's client.

A point of the reference space and the structure there (``reference_to_structure``); the ISH
section nearest it and the pixel on it (``reference_to_image``), and back (``image_to_reference``);
that section warped onto the 25 µm coronal grid of the reference space by
`Client.warp_to_reference` (the full 3-D transform of its tilted plane); the atlas plate nearest
the pixel (``image_to_atlas``) and its SVG drawing (``svg_download``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pyvips
from rich.console import Console

from brainmap.client import Client, ImageDownloadApi
from brainmap.demo.written import Download

REFERENCE_SPACE = 9
PROBE_UM = (5000.0, 4200.0, 7600.0)
"""A reference point (p, i, r) in the phantom's caudoputamen."""
GRID_UM = 25.0
ATLAS = 1


def _point(values: tuple[float, float, float] | list[float]) -> str:
    return "(" + ", ".join(f"{value:,.0f}" for value in values) + ") µm"


def _structure(record: dict[str, Any] | None) -> str:
    return "no structure" if record is None else f"{record['name']} ({record['acronym']})"


class RegistrationTour:
    """The services in a user's order, printing each step and recording the files written."""

    def __init__(self, api: ImageDownloadApi, out_dir: Path, console: Console) -> None:
        self.api = api
        self.client = Client(api.api_url)
        self.out_dir = out_dir
        self.console = console
        self.written: list[Download] = []

    def structure_at(self, pir: tuple[float, float, float] | list[float]) -> dict[str, Any] | None:
        """The Structure record at a reference point (brainmap's reference_to_structure)."""
        x, y, z = pir
        url = (
            f"{self.api.api_url}/api/v2/reference_to_structure/{REFERENCE_SPACE}.json"
            f"?x={x}&y={y}&z={z}"
        )
        found: list[dict[str, Any]] = self.api.retrieve_parsed_json_over_http(url)["msg"]
        return found[0] if found else None

    def run(self, data_set_id: int) -> None:
        """The whole tour over one ISH data set."""
        say = self.console.print
        probe = _structure(self.structure_at(PROBE_UM))
        say(f"reference point {_point(PROBE_UM)} (p, i, r): {probe}")
        (sync,) = self.client.reference_to_image(REFERENCE_SPACE, *PROBE_UM, [data_set_id])
        pixel = (round(sync.x), round(sync.y))
        back = self.client.image_to_reference(sync.section_image_id, *pixel)
        there = [back.x, back.y, back.z]
        say(
            f"nearest section of data set {data_set_id}: image {sync.section_image_id} "
            f"(section {sync.section_number}), pixel {pixel}; that pixel lies at {_point(there)}: "
            f"{_structure(self.structure_at(there))}"
        )
        self.warp(sync.section_image_id)
        plate = self.client.image_to_atlas(sync.section_image_id, *pixel, ATLAS)
        say(
            f"nearest plate of atlas {ATLAS}: image {plate.section_image_id}, pixel "
            f"({plate.x:.0f}, {plate.y:.0f})"
        )
        self.drawing(plate.section_image_id)

    def warp(self, image_id: int) -> None:
        """The section on the reference grid of its plane, written as a PNG."""
        started = time.perf_counter()
        section = self.client.warp_to_reference(image_id, GRID_UM)
        path = self.out_dir / f"ish_{image_id}_reference_{GRID_UM:.0f}um.png"
        pyvips.Image.new_from_array(np.ascontiguousarray(section.pixels)).pngsave(str(path))
        self.written.append(
            Download("section warped to the reference", path, time.perf_counter() - started)
        )
        depth = section.depth_um()[section.valid]
        rows, cols = section.pixels.shape[:2]
        self.console.print(
            f"section {image_id} warped to the {GRID_UM:.0f} µm {section.plane} grid "
            f"({rows} x {cols}, {'/'.join(section.axes)}) from downsample {section.downsample}: "
            f"its tilted plane runs from {section.normal} = {depth.min():,.0f} to "
            f"{depth.max():,.0f} µm across the section"
        )

    def drawing(self, plate_id: int) -> None:
        """The plate's SVG drawing, one outline per structure region."""
        started = time.perf_counter()
        path = self.out_dir / f"atlas_{plate_id}.svg"
        size = self.client.download_svg(plate_id, path)
        self.written.append(
            Download("atlas plate, SVG drawing", path, time.perf_counter() - started)
        )
        shapes = path.read_text().count("<path")
        self.console.print(
            f"plate {plate_id}: SVG drawing of {shapes} structure outlines ({size / 1024:,.0f} KiB)"
        )

    def close(self) -> None:
        self.client.close()
