"""`brainmap reference add`: a volume checked in full, stored chunked and recorded; every bad
input refused with one line, the store unchanged. Also what the plates tests share: a store
with a small ontology, blocky label volumes in Allen's NRRD layout, the CLI run in-process."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel
import nrrd
import numpy as np
import pytest
import tifffile
from click.testing import CliRunner, Result

from brainmap.cli import main
from brainmap.reference.volume import ReferenceVolume
from brainmap.store.folder import Store
from brainmap.store.ontology import write_id_paths
from brainmap.store.schema import Ontology, ReferenceSpace, Structure, StructureGraph

GRAPH = 77
# id: (acronym, colour, parent)
STRUCTURES: dict[int, tuple[str, str, int | None]] = {
    100: ("root", "F0F0F0", None),
    101: ("A", "FF0000", 100),
    102: ("B", "00A000", 100),
    103: ("C", "0000FF", 100),
    104: ("D", "FFFF00", 101),
    105: ("E", "00FFFF", 101),
}
LABELS = np.array([0, *STRUCTURES], dtype=np.uint32)


def blocks(shape: tuple[int, int, int], size: int = 3, seed: int = 0) -> np.ndarray:
    """Labels constant over `size`-voxel blocks, drawn from the ontology (and background 0)."""
    rng = np.random.default_rng(seed)
    coarse = rng.choice(LABELS, size=tuple(-(-n // size) for n in shape))
    grown = coarse.repeat(size, 0).repeat(size, 1).repeat(size, 2)
    return np.ascontiguousarray(grown[: shape[0], : shape[1], : shape[2]])


def write_nrrd(path: Path, data: np.ndarray, spacing: tuple[float, float, float]) -> Path:
    """A volume as Allen distributes one: gzip NRRD, first axis p, voxel size in the header."""
    header: dict[str, Any] = {"encoding": "gzip", "space directions": np.diag(spacing)}
    nrrd.write(str(path), data, header, index_order="F")
    return path


def store_with_ontology(folder: Path) -> Path:
    """A store holding structure graph GRAPH and its structures."""
    store = Store.create(folder)
    with store.session() as session:
        session.add_all(
            [Ontology(id=GRAPH, name="test"), StructureGraph(id=GRAPH, ontology_id=GRAPH)]
        )
        session.flush()
        for order, (ident, (acronym, colour, parent)) in enumerate(STRUCTURES.items()):
            session.add(
                Structure(
                    id=ident,
                    acronym=acronym,
                    name=acronym,
                    graph_id=GRAPH,
                    ontology_id=GRAPH,
                    graph_order=order,
                    color_hex_triplet=colour,
                    parent_structure_id=parent,
                )
            )
        session.flush()
        write_id_paths(session, GRAPH)
    store.close()
    return folder


def brainmap(*args: object) -> Result:
    """`brainmap ARGS` in-process."""
    return CliRunner().invoke(main, [str(a) for a in args])


SHAPE = (10, 7, 12)
SPACING = (25.0, 20.0, 10.0)


def write_nifti(path: Path, data: np.ndarray, spacing: tuple[float, float, float]) -> Path:
    image = nibabel.Nifti1Image(data, np.diag([*spacing, 1.0]))
    image.header.set_xyzt_units("micron")
    nibabel.save(image, path)
    return path


def write_tiff(path: Path, data: np.ndarray, spacing: tuple[float, float, float]) -> Path:
    tifffile.imwrite(
        path,
        data,
        imagej=True,
        resolution=(1 / spacing[2], 1 / spacing[1]),
        metadata={"spacing": spacing[0], "unit": "um", "axes": "ZYX"},
    )
    return path


def stored(folder: Path, space_id: int) -> tuple[ReferenceSpace, ReferenceVolume]:
    """The space's record and its volume as the store holds them."""
    store = Store.open(folder)
    with store.session() as session:
        space = session.get(ReferenceSpace, space_id)
        assert space is not None
    store.close()
    return space, ReferenceVolume.open(folder / str(space.annotation_path))


def whole(volume: ReferenceVolume, layer: str = "annotation") -> np.ndarray:
    return np.stack([volume.plane("p", k, layer) for k in range(volume.shape[0])])


@pytest.mark.parametrize(
    "write",
    [
        write_nrrd,
        lambda path, data, spacing: write_nrrd(path.with_suffix(".nrrd"), data, spacing),
        lambda path, data, spacing: write_nifti(path.with_suffix(".nii.gz"), data, spacing),
        lambda path, data, spacing: write_nifti(path.with_suffix(".nii"), data, spacing),
        lambda path, data, spacing: write_tiff(path.with_suffix(".tif"), data, spacing),
    ],
    ids=["nrrd-gzip", "nrrd", "nifti-gz", "nifti", "tiff"],
)
def test_each_format_is_stored_whole_with_the_resolution_of_its_header(
    tmp_path: Path, write: Callable[[Path, np.ndarray, tuple[float, ...]], Path]
) -> None:
    data = blocks(SHAPE, size=2).astype(np.uint16)
    annotation = write(tmp_path / "annotation.nrrd", data, SPACING)
    result = brainmap("reference", "add", "--store", tmp_path / "store", "--id", 9,
                      "--name", " P56 Brain ", "--annotation", annotation)  # fmt: skip
    assert result.exit_code == 0, result.output
    labels = len(set(np.unique(data).tolist()) - {0})
    assert (
        f"reference space 9: 10 x 7 x 12 voxels of 25, 20, 10 µm (p, i, r), {labels} labels, in "
        in result.output
    )
    space, volume = stored(tmp_path / "store", 9)
    assert (space.name, space.structure_graph_id, space.template_path) == ("P56 Brain", None, None)
    assert (space.resolution_p, space.resolution_i, space.resolution_r) == SPACING
    assert space.annotation_path == "reference/9/volume.zarr"
    assert volume.resolution_um == SPACING
    assert (whole(volume) == data).all()


def test_a_template_an_ontology_and_a_resolution_given(tmp_path: Path) -> None:
    folder = store_with_ontology(tmp_path / "store")
    data = blocks(SHAPE)
    template = np.random.default_rng(2).random(SHAPE).astype(np.float32)
    result = brainmap("reference", "add", "--store", folder, "--id", 3, "--name", "space",
                      "--annotation", write_nrrd(tmp_path / "a.nrrd", data, SPACING),
                      "--template", write_nrrd(tmp_path / "t.nrrd", template, SPACING),
                      "--structure-graph", GRAPH, "--resolution", "5,6,7")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"labels of structure graph {GRAPH}" in result.output
    space, volume = stored(folder, 3)
    assert space.structure_graph_id == GRAPH
    assert space.template_path == space.annotation_path
    assert (space.resolution_p, space.resolution_i, space.resolution_r) == (5.0, 6.0, 7.0)
    assert (whole(volume) == data).all()
    assert (whole(volume, "template") == template).all()


def test_an_imported_record_gets_its_volume_checked_against_its_ontology(tmp_path: Path) -> None:
    folder = store_with_ontology(tmp_path / "store")
    records = tmp_path / "spaces.json"
    records.write_text(json.dumps([{"id": 9, "name": "P56 Brain", "structure_graph_id": GRAPH}]))
    imported = brainmap("import", "--store", folder, "--model", "ReferenceSpace", records)
    assert imported.exit_code == 0, imported.output
    stray = blocks(SHAPE)
    stray[0, 0, 0] = 7  # not a structure of the graph
    refused = brainmap("reference", "add", "--store", folder, "--id", 9, "--name", "P56 Brain",
                       "--annotation", write_nrrd(tmp_path / "b.nrrd", stray, SPACING))  # fmt: skip
    assert refused.exit_code == 1
    assert f"labels not in structure graph {GRAPH}: 7 (nothing was written)" in refused.output
    # A volume folder a stopped run left unrecorded is replaced.
    (folder / "reference/9/volume.zarr").mkdir(parents=True)
    data = blocks(SHAPE)
    added = brainmap("reference", "add", "--store", folder, "--id", 9, "--name", "P56 Brain",
                     "--annotation", write_nrrd(tmp_path / "a.nrrd", data, SPACING))  # fmt: skip
    assert added.exit_code == 0, added.output
    space, volume = stored(folder, 9)
    assert space.structure_graph_id == GRAPH
    assert (whole(volume) == data).all()


def truncated(write: Callable[[Path], Path], keep: float = 0.6) -> Callable[[Path], Path]:
    def cut(folder: Path) -> Path:
        path = write(folder)
        path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])
        return path

    return cut


def nrrd_of(data: np.ndarray, name: str = "in.nrrd", **header: Any) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        fields = {"encoding": "gzip", "space directions": np.diag([25.0] * data.ndim), **header}
        fields = {key: value for key, value in fields.items() if value is not None}
        nrrd.write(str(folder / name), data, fields, index_order="F")
        return folder / name

    return write


def nifti_of(data: np.ndarray) -> Callable[[Path], Path]:
    return lambda folder: write_nifti(folder / "in.nii", data, SPACING)


def tiff_of(data: np.ndarray) -> Callable[[Path], Path]:
    return lambda folder: write_tiff(folder / "in.tif", data, SPACING)


def junk(name: str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / name).write_bytes(b"not a volume at all\n" * 20)
        return folder / name

    return write


GOOD = blocks(SHAPE)
NOISE = np.random.default_rng(4).integers(0, 100, size=(40, 30, 50), dtype=np.uint32)
NOISE16 = NOISE.astype(np.uint16)  # ImageJ TIFF holds no 32-bit integers
# (id, annotation file, extra options, exit code, what the message says)
BAD: list[tuple[str, Callable[[Path], Path] | None, list[object], int, str]] = [
    ("missing file", None, [], 1, "missing.nrrd: no such file"),
    ("not a volume", junk("in.png"), [], 1, "in.png: not a volume file"),
    ("junk nrrd", junk("in.nrrd"), [], 1, "in.nrrd: not a NRRD header"),
    ("junk nifti", junk("in.nii"), [], 1, "in.nii: not a NIfTI file"),
    ("junk tiff", junk("in.tif"), [], 1, "in.tif: not a TIFF volume"),
    ("gzip cut", truncated(nrrd_of(NOISE)), [], 1, "in.nrrd: the data cannot be read"),
    ("raw cut", truncated(nrrd_of(GOOD, encoding="raw")), [], 1, "in.nrrd: the data end early"),
    ("nifti cut", truncated(nifti_of(GOOD)), [], 1, "in.nii: the data end early"),
    ("tiff cut", truncated(tiff_of(NOISE16)), [], 1, "in.tif: a volume has 3 axes"),
    ("tiff end cut", truncated(tiff_of(NOISE16), 0.99), [], 1, "in.tif: the data cannot be read"),
    ("2-D", nrrd_of(GOOD[0]), [], 1, "a volume has 3 axes, this file has shape (7, 12)"),
    ("float labels", nrrd_of(GOOD.astype(np.float32)), [], 1, "labels must be integers"),
    ("negative", nrrd_of(GOOD.astype(np.int32) - 1), [], 1, "labels must lie in 0..4294967295"),
    ("no spacing", nrrd_of(GOOD, **{"space directions": None}), [], 1, "gives no voxel size"),
    (
        "template shape",
        nrrd_of(GOOD),
        ["--template", "small.nrrd"],
        1,
        "small.nrrd: template shape (10, 7, 11) differs from the annotation's (10, 7, 12)",
    ),
    ("template nan", nrrd_of(GOOD), ["--template", "nan.nrrd"], 1, "nan.nrrd: intensities must"),
    ("unknown labels", nrrd_of(GOOD + 1), ["--structure-graph", GRAPH], 1, "labels not in"),
    ("unknown graph", nrrd_of(GOOD), ["--structure-graph", 999], 5, "--structure-graph 999: no"),
    ("taken id", nrrd_of(GOOD), ["--id", 9], 2, "--id 9: reference space 9 already has a volume"),
    ("bad resolution", nrrd_of(GOOD), ["--resolution", "x"], 2, "Invalid value for --resolution"),
    ("zero resolution", nrrd_of(GOOD), ["--resolution", "0"], 2, "--resolution 0.0: one size"),
    ("two sizes", nrrd_of(GOOD), ["--resolution", "1,2"], 2, "--resolution (1.0, 2.0): one size"),
    ("blank name", nrrd_of(GOOD), ["--name", " "], 2, "--name: give the reference space a name"),
]


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    """A store with the ontology and reference space 9, worth keeping."""
    folder = store_with_ontology(tmp_path / "store")
    data = write_nrrd(tmp_path / "first.nrrd", blocks(SHAPE), SPACING)
    first = brainmap("reference", "add", "--store", folder, "--id", 9, "--name", "first",
                     "--annotation", data, "--structure-graph", GRAPH)  # fmt: skip
    assert first.exit_code == 0, first.output
    nrrd_of(GOOD[:, :, :11], "small.nrrd")(tmp_path)
    nrrd_of(np.where(GOOD == 101, np.nan, 1.0), "nan.nrrd")(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("make", "extra", "code", "message"), [row[1:] for row in BAD],
                         ids=[row[0] for row in BAD])  # fmt: skip
def test_bad_input_is_refused_in_one_line_and_the_store_is_unchanged(
    workspace: Path,
    make: Callable[[Path], Path] | None,
    extra: list[object],
    code: int,
    message: str,
) -> None:
    annotation = make(workspace) if make else workspace / "missing.nrrd"
    given: dict[str, object] = {"--id": 12, "--name": "second", "--annotation": annotation}
    for name, value in zip(extra[::2], extra[1::2], strict=True):
        given[str(name)] = workspace / str(value) if name == "--template" else value
    before = snapshot(workspace / "store")
    result = brainmap("reference", "add", "--store", workspace / "store",
                      *[item for pair in given.items() for item in pair])  # fmt: skip
    assert result.exit_code == code, result.output
    last = result.output.strip().splitlines()[-1]
    assert message in last
    assert last.startswith("Error: " if code == 2 and "Invalid" in message else "brainmap: ")
    assert "Traceback" not in result.output
    assert snapshot(workspace / "store") == before


def snapshot(store: Path) -> dict[str, object]:
    """Every file under the store (names and bytes) and the database's rows."""
    state: dict[str, object] = {
        str(path.relative_to(store)): path.read_bytes()
        for path in sorted(store.rglob("*"))
        if path.is_file() and not path.name.startswith("brainmap.sqlite")
    }
    with sqlite3.connect(f"file:{store / 'brainmap.sqlite'}?immutable=1", uri=True) as db:
        state["rows"] = list(db.iterdump())
    return state


def test_ctrl_c_while_writing_leaves_no_volume_and_no_record(tmp_path: Path) -> None:
    """A real SIGINT while the volume is written: exit 130, one line, the hidden folder removed,
    no record; the same command again adds the space."""
    data = np.random.default_rng(9).integers(0, 2**16, size=(160, 160, 200), dtype=np.uint32)
    annotation = write_nrrd(tmp_path / "big.nrrd", data, (25.0, 25.0, 25.0))
    folder = tmp_path / "store"
    command = ["reference", "add", "--store", str(folder), "--id", "9", "--name", "big",
               "--annotation", str(annotation)]  # fmt: skip
    interrupt(command, lambda: bool(list(folder.glob("reference/9/.*.partial/annotation/c"))))
    assert not (folder / "reference").exists(), list((folder / "reference").rglob("*"))[:5]
    with sqlite3.connect(f"file:{folder / 'brainmap.sqlite'}?immutable=1", uri=True) as db:
        assert db.execute("select count(*) from reference_spaces").fetchone() == (0,)
    rerun = subprocess.run([*CLI, *command], capture_output=True, timeout=300, check=True)
    assert b"reference space 9: 160 x 160 x 200 voxels" in rerun.stdout


CLI = [sys.executable, "-c", "from brainmap.cli import main; main()"]


def interrupt(command: list[str], ready: Callable[[], bool]) -> None:
    """Run `brainmap COMMAND` in its own process, press Ctrl-C (a real SIGINT) once `ready()`:
    it must end with exit 130 and one line."""
    process = subprocess.Popen([*CLI, *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not ready():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, (out, err)
    assert err.decode().strip() == "brainmap: interrupted; run the same command again to resume"


def test_a_refusal_into_a_folder_without_a_store_makes_no_store(tmp_path: Path) -> None:
    folder = tmp_path / "new-store"
    junk_volume = junk("junk.nrrd")(tmp_path)
    refused = brainmap("reference", "add", "--store", folder, "--id", 9, "--name", "x",
                       "--annotation", junk_volume)  # fmt: skip
    assert refused.exit_code == 1 and "(nothing was written)" in refused.output
    graph = brainmap("reference", "add", "--store", folder, "--id", 9, "--name", "x",
                     "--annotation", write_nrrd(tmp_path / "a.nrrd", blocks(SHAPE), SPACING),
                     "--structure-graph", GRAPH)  # fmt: skip
    assert graph.exit_code == 5 and "there is no store yet" in graph.output
    assert not folder.exists()
    added = brainmap("reference", "add", "--store", folder, "--id", 9, "--name", "x",
                     "--annotation", tmp_path / "a.nrrd")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert (folder / "brainmap.sqlite").is_file()


def test_a_store_under_a_file_is_one_line_exit_2_after_the_checks(tmp_path: Path) -> None:
    volume = write_nrrd(tmp_path / "a.nrrd", blocks(SHAPE), SPACING)
    refused = brainmap("reference", "add", "--store", volume / "store", "--id", 9, "--name", "x",
                       "--annotation", volume)  # fmt: skip
    assert refused.exit_code == 2, refused.output
    assert "cannot be made (Not a directory" in refused.output
    assert "Traceback" not in refused.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.nrrd"]
