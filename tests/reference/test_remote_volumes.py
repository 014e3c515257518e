"""Reference volumes in a store's pixel root on S3 (moto on loopback): added there, the record
only once every object arrived, a stopped run undone and rerun; the services that read the volume
(reference_to_structure, structure_to_image) and the plates cut from it answer byte for byte
as the same store on local disk; record paths outside ``reference/`` open nothing on either
root."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import fsspec
import nrrd
import numpy as np
import pytest

from brainmap.ingest.plates import (
    CutPlates,
    PlateRequest,
    cut_plates,
    plan_plates,
    record_plates,
)
from brainmap.ingest.reference_volume import (
    SpaceRequest,
    add_reference_space,
    plan_reference,
    volume_path,
)
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from brainmap.store.ontology import write_id_paths
from brainmap.store.pixel_paths import OutsidePyramids
from brainmap.store.pixels import LocalPixels, PixelRoot, RemotePixels
from brainmap.store.schema import Ontology, ReferenceSpace, Structure, StructureGraph
from loopback import call

SPACE, GRAPH, ATLAS = 9, 3, 6
SHAPE = (72, 66, 68)  # (p, i, r) voxels: two chunks of 64 along each axis
RESOLUTION = 25.0
# id: (acronym, parent); colours are drawn from the id
TREE: dict[int, tuple[str, int | None]] = {
    500: ("brain", None),
    501: ("cortex", 500),
    502: ("stem", 500),
    503: ("layer", 501),
}
OUTSIDE = [
    ("reference/../brainmap.sqlite", "climbs out"),
    ("/etc/passwd", "another storage's name|is absolute"),
    ("pyramids/9/volume.zarr", "not inside the store's reference/"),
    ("reference", "not inside the store's reference/"),
]


def labels() -> np.ndarray:
    """Blocks of the ontology's structures, crossing the chunks' borders."""
    volume = np.zeros(SHAPE, dtype=np.uint32)
    volume[4:40, 6:60, 4:34] = 501
    volume[4:40, 6:60, 34:66] = 503
    volume[40:70, 10:66, 8:60] = 502
    volume[66:, 62:, 62:] = 500
    return volume


def files(folder: Path) -> dict[str, Path]:
    """The annotation and a template as NRRD files (first axis p, voxel size in the header)."""
    header = {"space directions": np.eye(3) * RESOLUTION}
    volumes = {"annotation": labels(), "template": (labels() % 97).astype(np.uint16) * 300}
    for name, data in volumes.items():
        nrrd.write(str(folder / f"{name}.nrrd"), data, header, index_order="F")
    return {name: folder / f"{name}.nrrd" for name in volumes}


def new_store(folder: Path, pixels: str | None) -> Store:
    """A store (records in `folder`, pixels in `pixels`) holding the structure graph."""
    store = Store.create(folder, pixels=pixels)
    with store.session() as session:
        session.add_all([Ontology(id=GRAPH, name="tree"), StructureGraph(id=GRAPH)])
        session.flush()
        session.add_all(
            Structure(id=ident, acronym=acronym, name=acronym.title(), graph_id=GRAPH,
                      ontology_id=GRAPH, graph_order=ident, parent_structure_id=parent,
                      color_hex_triplet=f"{ident * 40503 % 0xFFFFFF:06X}")
            for ident, (acronym, parent) in TREE.items()
        )  # fmt: skip
        session.flush()
        write_id_paths(session, GRAPH)
    return store


def request(source: dict[str, Path]) -> SpaceRequest:
    return SpaceRequest(SPACE, "test space", source["annotation"], source["template"], GRAPH)


def with_plates(store: Store, source: dict[str, Path]) -> CutPlates:
    """Add the reference space to `store` and cut an atlas of coronal plates from it."""
    add_reference_space(store, plan_reference(store, request(source)))
    plan = plan_plates(store, PlateRequest(SPACE, ATLAS, "coronal", 400.0, 2))
    return record_plates(store, plan, cut_plates(store, plan))


@pytest.fixture()
def remote(bucket: str) -> str:
    return f"s3://{bucket}/lab/pixels"


def objects(url: str) -> list[str]:
    """The objects under `url`, by their names below it."""
    fs, base = fsspec.core.url_to_fs(url)
    fs.invalidate_cache()
    return sorted(path.removeprefix(f"{base}/") for path in fs.find(base))


def targets(atlas: CutPlates) -> list[str]:
    """Requests whose answers read the volume, the plates cut from it, or their records."""
    rng = np.random.default_rng(5)
    points = rng.uniform(-60, np.asarray(SHAPE) * RESOLUTION + 60, size=(80, 3)).tolist()
    points.append([1700.0, 1600.0, 1600.0])  # voxel (68, 64, 64): the corner block of 500
    asked = [
        f"/api/v2/reference_to_structure/{SPACE}.json?x={p:f}&y={i:f}&z={r:f}" for p, i, r in points
    ]
    asked.append(f"/api/v2/reference_to_structure/{SPACE}.xml?x=200&y=250&z=300")
    ids = ",".join(str(ident) for ident in TREE)
    asked.append(f"/api/v2/structure_to_image/{atlas.data_set_id}.json?structure_ids={ids}")
    criteria = f"model::AtlasImage,rma::criteria,[data_set_id$eq{atlas.data_set_id}]"
    asked.append(f"/api/v2/data/query.json?criteria={criteria}&num_rows=all")
    for plate in atlas.image_ids:
        download = f"/api/v2/atlas_image_download/{plate}"
        asked += [download, f"{download}?annotation=true", f"{download}?downsample=1"]
        asked.append(f"/api/v2/image_to_reference/{plate}.json?x=20&y=30")
    return asked


def files_under(folder: Path) -> list[str]:
    return sorted(
        path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()
    )


def test_remote_volume_answers_as_the_local_one(tmp_path: Path, remote: str) -> None:
    source = files(tmp_path)
    local, on_s3 = new_store(tmp_path / "local", None), new_store(tmp_path / "remote", remote)
    atlas = with_plates(local, source)
    assert with_plates(on_s3, source) == atlas
    assert isinstance(on_s3.pixels, RemotePixels)
    volume = volume_path(SPACE)
    written = files_under(local.root / volume)
    assert "annotation/c/1/1/1" in written and "template/c/1/1/1" in written
    assert [name for name in objects(remote) if name.startswith(f"{volume}/")] == [
        f"{volume}/{name}" for name in written
    ]
    assert not (tmp_path / "remote" / "reference").exists()  # nothing a second host would need
    assert not list((tmp_path / "remote").glob(".volume-*"))
    asked = targets(atlas)
    assert len(atlas.image_ids) == 5
    with ExitStack() as servers:
        bases = [
            servers.enter_context(BackgroundServer(create_app(store))).url
            for store in (local, on_s3)
        ]
        answered = {target: [call(base, target) for base in bases] for target in asked}
    found = set()
    for target, (from_disk, from_s3) in answered.items():
        assert from_disk[0] == 200, (target, from_disk[2][:200])
        assert (from_s3[0], from_s3[2]) == (from_disk[0], from_disk[2]), target
        if target.startswith("/api/v2/reference_to_structure") and ".json" in target:
            found |= {structure["id"] for structure in json.loads(from_disk[2])["msg"]}
    assert found == set(TREE)  # every structure was answered somewhere: the volume was read


def test_a_failure_before_the_record_leaves_no_objects_and_a_rerun_adds(
    tmp_path: Path, remote: str
) -> None:
    source = files(tmp_path)
    store = new_store(tmp_path / "store", remote)
    checked = plan_reference(store, request(source))

    def stop() -> None:  # called once the volume is uploaded and checked, before the record
        assert f"{volume_path(SPACE)}/annotation/c/1/1/1" in objects(remote)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        add_reference_space(store, checked, stop)
    assert objects(remote) == []
    with store.session() as session:
        assert session.get(ReferenceSpace, SPACE) is None
    # objects of an upload that stopped half way are replaced, not mixed into the new volume
    fs, base = fsspec.core.url_to_fs(remote)
    stray = f"{base}/{volume_path(SPACE)}/annotation/c/7/7/7"
    fs.pipe_file(stray, b"left by a stopped upload")
    added = add_reference_space(store, plan_reference(store, request(source)))
    assert added.shape == SHAPE
    assert f"{volume_path(SPACE)}/annotation/c/7/7/7" not in objects(remote)
    volume = store.pixels.open_volume(added.path)
    assert np.array_equal(np.stack([volume.plane("p", k) for k in range(SHAPE[0])]), labels())


def test_unreadable_remote_volume_is_named_by_its_store_path(
    tmp_path: Path, remote: str, bucket: str
) -> None:
    store = new_store(tmp_path / "store", remote)
    add_reference_space(store, plan_reference(store, request(files(tmp_path))))
    fs, base = fsspec.core.url_to_fs(remote)
    fs.rm(f"{base}/{volume_path(SPACE)}/zarr.json")
    with BackgroundServer(create_app(store)) as server:
        status, _, body = call(server.url, f"/api/v2/reference_to_structure/{SPACE}.json",
                               "x=200&y=250&z=300")  # fmt: skip
    assert status == 500
    message = body.decode()
    assert message.startswith(f"reference space {SPACE}: volume {volume_path(SPACE)} "), message
    assert bucket not in message and str(tmp_path) not in message


def roots(tmp_path: Path, remote: str) -> Iterator[tuple[Store, PixelRoot]]:
    for name, pixels in (("local", None), ("remote", remote)):
        store = new_store(tmp_path / name, pixels)
        add_reference_space(store, plan_reference(store, request(files(tmp_path))))
        yield store, store.pixels


@pytest.mark.parametrize(("path", "reason"), OUTSIDE)
def test_volume_paths_outside_reference_open_nothing(
    tmp_path: Path, remote: str, path: str, reason: str
) -> None:
    for store, pixels in roots(tmp_path, remote):
        with pytest.raises(OutsidePyramids, match=reason):
            pixels.open_volume(path)
        with pytest.raises(OutsidePyramids, match=reason):
            pixels.write_volume(path, lambda folder: pytest.fail(f"{folder} was written"))
        with pytest.raises(OutsidePyramids, match=reason):
            pixels.remove_volume(path)
        with store.session() as session:
            space = session.get(ReferenceSpace, SPACE)
            assert space is not None
            space.annotation_path = path
        with BackgroundServer(create_app(store)) as server:
            status, _, body = call(server.url, f"/api/v2/reference_to_structure/{SPACE}.json",
                                   "x=200&y=250&z=300")  # fmt: skip
        assert status == 404 and re.search(reason, body.decode()), body


def test_a_symlink_out_of_a_local_reference_folder_opens_nothing(tmp_path: Path) -> None:
    store = new_store(tmp_path / "store", None)
    add_reference_space(store, plan_reference(store, request(files(tmp_path))))
    elsewhere = tmp_path / "elsewhere"
    (store.root / volume_path(SPACE)).rename(elsewhere)
    os.symlink(elsewhere, store.root / volume_path(SPACE))
    pixels = store.pixels
    assert isinstance(pixels, LocalPixels)
    with pytest.raises(OutsidePyramids, match="resolves outside the store's reference/ folder"):
        pixels.open_volume(volume_path(SPACE))
