"""`brainmap.store.pixel_paths`: a record's pixel path opens a file of the pyramids folder or
nothing: import refuses a path that climbs, serving resolves symlinks and refuses the rest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from brainmap.errors import NotFound
from brainmap.store.folder import Store
from brainmap.store.pixel_paths import (
    REFERENCE_FOLDER,
    OutsidePyramids,
    check_record_path,
    contained,
)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    """A store at tmp/store, a file outside it at tmp/outside/secret.tif, and a symlinked file
    and folder inside its pyramids folder pointing there."""
    opened = Store.create(tmp_path / "store")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.tif").write_bytes(b"secret")
    pyramids = opened.root / "pyramids"
    (pyramids / "inside.tif").write_bytes(b"inside")
    (pyramids / "link.tif").symlink_to(outside / "secret.tif")
    (pyramids / "away").symlink_to(outside)
    (pyramids / "loop.tif").symlink_to(pyramids / "loop.tif")
    (pyramids / "sub").mkdir()
    (pyramids / "sub" / "back.tif").symlink_to(pyramids / "inside.tif")
    (opened.root / "root.tif").write_bytes(b"root")
    yield opened
    opened.close()


@pytest.mark.parametrize(
    "path",
    [
        "pyramids/inside.tif",
        "pyramids/./inside.tif",
        "pyramids//inside.tif",
        "pyramids/sub/back.tif",
        "pyramids/mirror/not-yet-written.tif",
    ],
)
def test_a_file_of_the_pyramids_folder_opens(store: Store, path: str) -> None:
    found = store.pyramid_path(path)
    assert found.is_relative_to((store.root / "pyramids").resolve())
    if found.exists():
        assert found.read_bytes() == b"inside"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("pyramids/../../outside/secret.tif", "climbs out with '..'"),
        ("pyramids/sub/../inside.tif", "climbs out with '..'"),
        ("../outside/secret.tif", "climbs out with '..'"),
        ("/etc/passwd", "another storage's name"),
        ("/external/aibssan/production15/Gad1_2137/zoomify/primary/Gad1_171_B.aff", "another"),
        ("root.tif", "is not inside the store's pyramids/ folder"),
        ("brainmap.sqlite", "is not inside the store's pyramids/ folder"),
        ("pyramids", "is not inside the store's pyramids/ folder"),
        ("", "is not inside the store's pyramids/ folder"),
        ("pyramids/x\x00.tif", "NUL"),
        ("pyramids/link.tif", "resolves outside the store's pyramids/ folder"),
        ("pyramids/away/secret.tif", "resolves outside the store's pyramids/ folder"),
    ],
)
def test_anything_else_is_refused_as_not_found(store: Store, path: str, reason: str) -> None:
    with pytest.raises(OutsidePyramids, match=reason) as refused:
        store.pyramid_path(path)
    assert isinstance(refused.value, NotFound)
    assert repr(path) in str(refused.value)


def test_a_symlink_loop_stays_inside(store: Store) -> None:
    """A loop is a damaged store, not a way out: its path stays in the folder, and opening it
    fails as any unreadable pyramid does."""
    found = store.pyramid_path("pyramids/loop.tif")
    assert found.parent == (store.root / "pyramids").resolve()
    with pytest.raises(OSError):
        found.read_bytes()


def test_the_pyramids_folder_may_itself_be_a_symlink(tmp_path: Path) -> None:
    """An operator may keep the pyramids on another disk: files in the real folder open."""
    elsewhere = tmp_path / "disk" / "pyramids"
    elsewhere.mkdir(parents=True)
    (elsewhere / "a.tif").write_bytes(b"a")
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "pyramids").symlink_to(elsewhere)
    assert contained(tmp_path / "store", "pyramids/a.tif").read_bytes() == b"a"
    with pytest.raises(OutsidePyramids):
        contained(tmp_path / "store", "pyramids/../disk/pyramids/a.tif")


@pytest.mark.parametrize(
    "path",
    [
        "pyramids/x.tif",
        "pyramids/ingest/3/a.tif",
        "/external/aibssan/production4/Gad1_Baylor_9231/zoomify/primary/None/Gad1_4_None_A.aff",
        "/etc/passwd",
    ],
)
def test_import_keeps_store_files_and_other_storages_names(path: str) -> None:
    check_record_path(path)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("pyramids/../../etc/passwd", "climbs out with '..'"),
        ("../../etc/passwd", "climbs out with '..'"),
        ("/external/../../etc/passwd", "climbs out with '..'"),
        ("pyramids/\x00", "NUL"),
        ("p", "is not inside the store's pyramids/ folder"),
        ("reference/9/annotation.zarr", "is not inside the store's pyramids/ folder"),
    ],
)
def test_import_refuses_a_relative_path_outside_the_pyramids(path: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_record_path(path)


def test_a_reference_volume_outside_its_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "reference" / "9").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "reference" / "9" / "out").symlink_to(tmp_path / "elsewhere")
    inside = contained(tmp_path, "reference/9", REFERENCE_FOLDER)
    assert inside == (tmp_path / "reference" / "9").resolve()
    for path in ("reference/9/out", "pyramids/a.tif", "reference/../elsewhere"):
        with pytest.raises(OutsidePyramids):
            contained(tmp_path, path, REFERENCE_FOLDER)
