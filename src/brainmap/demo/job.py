"""The main job (`make run`): a user's session with brainmap, entirely offline.

Builds the synthetic store if missing, serves it on a free loopback port, then drives the
drop-in `ImageDownloadApi` exactly as an allensdk user would: data sets by product, the sections
of one, display ranges, a whole ISH series at downsample 4, a full-resolution region, a windowed
connectivity section, its projection mask, an atlas plate with and without annotation; then the
same server's IIIF Image API (info.json, a region with a colormap); then registration
(`brainmap.demo.registration`): a reference point's structure, the nearest section and back, that
section warped to the reference grid, the nearest plate's SVG drawing. Files go under the output
folder with a contact sheet; a summary table is printed.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyvips
from rich.console import Console
from rich.table import Table

from brainmap.client import ImageDownloadApi
from brainmap.demo.hint import current_command
from brainmap.demo.phantom import build_demo_store
from brainmap.demo.registration import RegistrationTour
from brainmap.demo.written import Download
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer

MOUSE_BRAIN = 1
CONNECTIVITY = 5
ATLAS = 1
THUMBNAIL = 240
ROI_SIDE = 1000


class DemoSession:
    """The workflows, each a method, recording what they download."""

    def __init__(self, api: ImageDownloadApi, out_dir: Path, console: Console) -> None:
        self.api = api
        self.out_dir = out_dir
        self.console = console
        self.downloads: list[Download] = []

    def fetch(
        self, what: str, name: str, method: Callable[..., None], *args: Any, **kw: Any
    ) -> None:
        path = self.out_dir / name
        started = time.perf_counter()
        method(*args, str(path), **kw)
        self.downloads.append(Download(what, path, time.perf_counter() - started))

    def ish_series(self) -> int:
        """The first ISH data set's sections, a region and an expression mask; returns its id."""
        data_sets = self.api.get_section_data_sets_by_product([MOUSE_BRAIN])
        self.console.print(f"product {MOUSE_BRAIN} (Mouse Brain): {len(data_sets)} ISH data sets")
        data_set = data_sets[0]
        images = self.api.section_image_query(data_set["id"])
        self.console.print(f"data set {data_set['id']}: {len(images)} section images")
        for image in sorted(images, key=lambda record: record["section_number"]):
            self.fetch(
                f"ISH section {image['section_number']}",
                f"ish_{data_set['id']}_{image['id']}_ds4.jpg",
                self.api.download_section_image,
                image["id"],
                downsample=4,
            )
        middle = images[len(images) // 2]
        side = min(ROI_SIDE, middle["width"], middle["height"])
        self.fetch(
            "full-resolution ROI",
            f"ish_{middle['id']}_roi_{side}.jpg",
            self.api.download_section_image,
            middle["id"],
            left=middle["x"] + (middle["width"] - side) // 2,
            top=middle["y"] + (middle["height"] - side) // 2,
            width=side,
            height=side,
        )
        self.fetch(
            "expression mask",
            f"ish_{middle['id']}_expression_ds4.jpg",
            self.api.download_image,
            middle["id"],
            downsample=4,
            view="expression",
        )
        return int(data_set["id"])

    def connectivity(self) -> tuple[int, list[int]]:
        """The windowed section and its projection mask; returns the section id and ranges."""
        data_sets = self.api.get_section_data_sets_by_product([CONNECTIVITY])
        self.console.print(f"product {CONNECTIVITY} (Connectivity): {len(data_sets)} data sets")
        images = self.api.section_image_query(data_sets[0]["id"])
        image = max(images, key=lambda record: record["image_width"])
        ranges = self.api.get_section_image_ranges([image["id"]])[0]
        self.console.print(f"section {image['id']}: display ranges {ranges}")
        views: tuple[tuple[str, str, dict[str, Any]], ...] = (
            ("connectivity, windowed", "", {"range": ranges}),
            ("projection mask", "_projection", {"projection": True}),
        )
        for what, suffix, parameters in views:
            self.fetch(
                what,
                f"connectivity_{image['id']}{suffix}_ds4.jpg",
                self.api.download_projection_image,
                image["id"],
                downsample=4,
                **parameters,
            )
        return image["id"], ranges

    def atlas(self) -> None:
        plates = self.api.atlas_image_query(ATLAS)
        self.console.print(f"atlas {ATLAS}: {len(plates)} annotated plates")
        plate = plates[len(plates) // 2]
        for annotation in (False, True):
            kind = "annotation" if annotation else "nissl"
            self.fetch(
                f"atlas plate, {kind}",
                f"atlas_{plate['id']}_{kind}_ds3.jpg",
                self.api.download_atlas_image,
                plate["id"],
                downsample=3,
                annotation=annotation,
                atlas=ATLAS,
            )

    def iiif(self, image_id: int, ranges: list[int]) -> None:
        """IIIF Image API 3.0 on the same server: the image's description, then the middle half
        of the section, at most 800 pixels a side, windowed and pseudo-coloured by query
        parameters."""
        service = f"{self.api.api_url}/iiif/3/{image_id}"
        info = self.api.retrieve_parsed_json_over_http(f"{service}/info.json")
        levels = len(info["tiles"][0]["scaleFactors"])
        window = ",".join(map(str, ranges))
        self.console.print(
            f"IIIF {info['profile']}: image {image_id} is {info['width']} x {info['height']}, "
            f"{levels} tile levels"
        )
        self.fetch(
            "IIIF region, jet colormap",
            f"iiif_{image_id}_jet.jpg",
            self.api.retrieve_file_over_http,
            f"{service}/pct:25,25,50,50/!800,800/0/default.jpg?range={window}&colormap=jet",
        )

    def registration(self, data_set_id: int) -> None:
        """The image-sync services, a section warped to the reference, a plate's drawing."""
        tour = RegistrationTour(self.api, self.out_dir, self.console)
        try:
            tour.run(data_set_id)
        finally:
            tour.close()
        self.downloads += tour.written

    def contact_sheet(self) -> Path:
        thumbnails = [
            _opaque(pyvips.Image.thumbnail(str(download.path), THUMBNAIL, height=THUMBNAIL))
            for download in self.downloads
        ]
        sheet = pyvips.Image.arrayjoin(
            thumbnails, across=min(6, len(thumbnails)), shim=8, background=[255], halign="centre"
        )
        path = self.out_dir / "contact-sheet.png"
        sheet.pngsave(str(path))
        return path

    def summary(self) -> Table:
        table = Table(title="brainmap demo: files written")
        for column in ("what", "file", "pixels", "size"):
            table.add_column(column)
        for download in self.downloads:
            table.add_row(*download.describe())
        return table


def _opaque(image: pyvips.Image) -> pyvips.Image:
    """An image on white (a drawing's transparent background), as RGB."""
    return image.flatten(background=[255, 255, 255]) if image.hasalpha() else image


def run_demo(
    store_dir: Path, out_dir: Path, console: Console | None = None, *, scale: float = 1.0
) -> list[Path]:
    """Run every workflow against a local server on the demo store; return the files written.

    `scale` shrinks the synthetic images (tests use a small store; the demo uses 1.0).
    """
    console = console or Console()
    started = time.perf_counter()
    with console.status("demo store") as status:
        store = build_demo_store(
            store_dir, progress=lambda step: status.update(f"demo store: {step}"), scale=scale
        )
    console.print(f"demo store ready in {time.perf_counter() - started:.1f} s: {store_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    with BackgroundServer(create_app(store)) as server:
        console.print(f"server: {server.url}/api/v2/ (store {store_dir})")
        session = DemoSession(ImageDownloadApi(base_uri=server.url), out_dir, console)
        data_set = session.ish_series()
        section, ranges = session.connectivity()
        session.atlas()
        session.iiif(section, ranges)
        session.registration(data_set)
    sheet = session.contact_sheet()
    console.print(session.summary())
    console.print(f"contact sheet: {sheet}")
    console.print(f"done in {time.perf_counter() - started:.1f} s; files in {out_dir}/")
    serve = f"{current_command()} serve --store {shlex.quote(str(store_dir))}"
    console.print(  # one line, as typed: a wrapped or marked-up command would not paste
        f"to browse the store in the web viewer: {serve}, then open http://127.0.0.1:8080/",
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
    return [download.path for download in session.downloads] + [sheet]
