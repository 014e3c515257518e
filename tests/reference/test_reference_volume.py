"""Reference volumes: NRRD, NIfTI and TIFF files into the chunked store, and reads from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zarr
from reference_files import SHAPE, labels, write_nifti, write_nrrd, write_tiff
from zarr.abc.store import ByteRequest
from zarr.core.buffer import Buffer, BufferPrototype
from zarr.storage import LocalStore, WrapperStore

from brainmap.reference.volume import ReferenceVolume, write_volume
from brainmap.reference.volume_files import VolumeFileError, open_volume_file


@pytest.mark.parametrize(
    ("make", "dtype"),
    [
        (lambda tmp, data: write_nrrd(tmp / "a.nrrd", data, "gzip"), np.uint32),
        (lambda tmp, data: write_nrrd(tmp / "a.nrrd", data, "raw"), np.uint32),
        (lambda tmp, data: write_nrrd(tmp / "a.nrrd", data, "bzip2"), np.int64),
        (lambda tmp, data: write_nrrd(tmp / "a.nhdr", data, "gzip"), np.uint32),  # detached
        (lambda tmp, data: write_nifti(tmp / "a.nii.gz", data), np.uint32),
        (lambda tmp, data: write_nifti(tmp / "a.nii", data), np.int16),
        (lambda tmp, data: write_tiff(tmp / "a.tif", data), np.uint16),  # ImageJ: 16-bit at most
    ],
    ids=["nrrd-gzip", "nrrd-raw", "nrrd-bzip2", "nhdr", "nifti-gz", "nifti", "tiff"],
)
def test_each_format_round_trips(tmp_path: Path, make: Any, dtype: type) -> None:
    data = (labels().astype(np.int64) % min(np.iinfo(dtype).max, 2**32)).astype(dtype)
    source = make(tmp_path, data)
    volume = write_volume(tmp_path / "store", source)
    assert volume.shape == SHAPE
    assert volume.resolution_um == (25.0, 25.0, 25.0)
    np.testing.assert_array_equal(volume.plane("p", 5), data[5])
    np.testing.assert_array_equal(volume.plane("i", 29), data[:, 29])
    np.testing.assert_array_equal(volume.plane("r", 0), data[:, :, 0])
    assert volume.voxel((39, 1, 19)) == data[39, 1, 19]
    assert volume.plane("p", 5).dtype == np.uint32
    assert not (tmp_path / "store" / "template").exists()


def test_label_at_points(tmp_path: Path) -> None:
    data = labels()
    volume = write_volume(tmp_path / "store", write_nrrd(tmp_path / "a.nrrd", data, spacing=10))
    points = [
        [0, 0, 0],  # voxel (0, 0, 0)
        [14.9, 5.1, 4.9],  # rounds to (1, 1, 0)
        [390, 290, 190],  # the last voxel
        [394.9, 0, 0],  # still the last p
        [395.1, 0, 0],  # outside
        [-5.1, 0, 0],  # outside
        [0, 0, 199.9],  # r = 20 is outside
    ]
    expected = [data[0, 0, 0], data[1, 1, 0], data[39, 29, 19], data[39, 0, 0], 0, 0, 0]
    assert volume.label_at(points).tolist() == expected
    assert volume.label_at([[-100, -100, -100]]).tolist() == [0]


def test_template_and_resolution_given(tmp_path: Path) -> None:
    data = labels()
    template = np.random.default_rng(3).random(SHAPE).astype(np.float32)
    volume = write_volume(
        tmp_path / "store",
        write_nrrd(tmp_path / "a.nrrd", data, spacing=None),
        template=write_nifti(tmp_path / "t.nii.gz", template),
        resolution_um=(25, 20, 10),
    )
    assert volume.resolution_um == (25, 20, 10)
    assert volume.has_template
    np.testing.assert_array_equal(volume.plane("i", 3, layer="template"), template[:, 3])
    assert volume.voxel((1, 2, 3), layer="template") == pytest.approx(template[1, 2, 3])
    reopened = ReferenceVolume.open(tmp_path / "store")
    assert reopened.plane("r", 4).tolist() == data[:, :, 4].tolist()


class CountingStore(WrapperStore[LocalStore]):
    """A local store that records the chunk keys read."""

    def __init__(self, store: LocalStore) -> None:
        super().__init__(store)
        self.keys: list[str] = []

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        if "/c/" in key:
            self.keys.append(key)
        return await self._store.get(key, prototype, byte_range)


def opened(path: Path, cache_bytes: int = 1 << 20) -> tuple[ReferenceVolume, CountingStore]:
    store = CountingStore(LocalStore(path, read_only=True))
    return ReferenceVolume(zarr.open_group(store, mode="r"), cache_bytes=cache_bytes), store


def test_reads_touch_only_the_chunks_they_need(tmp_path: Path) -> None:
    """A plane reads the chunks it crosses, whatever the volume's length along its normal."""
    touched = {}
    for length in (40, 160):
        shape = (length, 30, 20)
        source = write_nrrd(tmp_path / f"v{length}.nrrd", labels(shape))
        write_volume(tmp_path / f"s{length}", source, chunk=8)
        volume, store = opened(tmp_path / f"s{length}")
        volume.plane("p", 17)
        touched[length] = len(store.keys)
        assert all(key.startswith("annotation/c/2/") for key in store.keys)  # p chunk 17 // 8
        store.keys.clear()
        volume.plane("p", 23)  # the same chunks, decoded already
        assert store.keys == []
        assert volume.voxel((length - 1, 29, 19)) is not None
        assert store.keys == [f"annotation/c/{(length - 1) // 8}/3/2"]
        store.keys.clear()
        volume.label_at([[0, 0, 0], [25 * 9, 0, 0]])
        assert sorted(store.keys) == ["annotation/c/0/0/0", "annotation/c/1/0/0"]
    # 30 x 20 voxels in chunks of 8: 4 x 3 chunks, for the short volume and the long one.
    assert touched == {40: 12, 160: 12}


def test_the_chunk_cache_keeps_to_its_budget(tmp_path: Path) -> None:
    data = labels()
    write_volume(tmp_path / "store", write_nrrd(tmp_path / "a.nrrd", data), chunk=8)
    volume, store = opened(tmp_path / "store", cache_bytes=4 * 8**3 * 4)  # four chunks
    for index in range(SHAPE[0]):
        np.testing.assert_array_equal(volume.plane("p", index), data[index])
    # Each of the 5 chunk slabs along p has 4 x 3 chunks: twelve chunks do not fit in four, so
    # every plane decodes its twelve again.
    assert len(store.keys) == 12 * SHAPE[0]
    assert 0 < volume.layers["annotation"].held_bytes <= 4 * 8**3 * 4
    points = np.random.default_rng(2).uniform(0, 25 * np.array(SHAPE) - 13, size=(500, 3))
    index = np.floor(points / 25 + 0.5).astype(int)
    assert volume.label_at(points).tolist() == data[tuple(index.T)].tolist()


def test_files_are_read_slab_by_slab(tmp_path: Path) -> None:
    data = labels((12, 10, 9))
    for source in (write_nrrd(tmp_path / "a.nrrd", data), write_nifti(tmp_path / "a.nii.gz", data)):
        file = open_volume_file(source)
        slabs = list(file.slabs(4))
        assert [(start, slab.shape) for start, slab in slabs] == [
            (0, (12, 10, 4)),
            (4, (12, 10, 4)),
            (8, (12, 10, 1)),
        ]
        np.testing.assert_array_equal(np.concatenate([s for _, s in slabs], axis=2), data)
    tiff = open_volume_file(write_tiff(tmp_path / "a.tif", data.astype(np.uint16)))
    assert [slab.shape for _, slab in tiff.slabs(5)] == [(5, 10, 9), (5, 10, 9), (2, 10, 9)]


def nothing_left(tmp_path: Path) -> bool:
    return not [p for p in tmp_path.iterdir() if p.name.startswith((".store", "store"))]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: write_nrrd(tmp / "a.nrrd", labels().astype(np.float32)), "must be integers"),
        (
            lambda tmp: write_nrrd(tmp / "a.nrrd", -labels().astype(np.int64)),
            r"labels must lie in 0\.\.4294967295",
        ),
        (lambda tmp: write_nrrd(tmp / "a.nrrd", labels(), spacing=None), "gives no voxel size"),
        (lambda tmp: write_nrrd(tmp / "a.nrrd", labels(), "ascii"), "NRRD encoding 'ascii'"),
        (lambda tmp: write_nrrd(tmp / "a.nrrd", labels()[0]), "a volume has 3 axes"),
        (lambda tmp: (tmp / "a.png").write_bytes(b"png") and tmp / "a.png", "not a volume file"),
        (lambda tmp: (tmp / "a.nrrd").write_bytes(b"nothing") and tmp / "a.nrrd", "NRRD header"),
        (lambda tmp: tmp / "missing.nrrd", "no such file"),
    ],
)
def test_refusals_leave_nothing(tmp_path: Path, make: Any, message: str) -> None:
    source = make(tmp_path)
    with pytest.raises(VolumeFileError, match=message):
        write_volume(tmp_path / "store", source)
    assert nothing_left(tmp_path)


def test_a_detached_header_without_its_data(tmp_path: Path) -> None:
    source = write_nrrd(tmp_path / "a.nhdr", labels())
    (tmp_path / "a.raw.gz").unlink()
    with pytest.raises(VolumeFileError, match=r"a\.nhdr: its data file a\.raw\.gz does not exist"):
        write_volume(tmp_path / "store", source)
    assert nothing_left(tmp_path)


def test_a_truncated_file_leaves_nothing(tmp_path: Path) -> None:
    source = write_nrrd(tmp_path / "a.nrrd", labels(), "raw")
    source.write_bytes(source.read_bytes()[:-100])
    with pytest.raises(VolumeFileError, match="the data end early"):
        write_volume(tmp_path / "store", source)
    assert nothing_left(tmp_path)


def test_template_must_match(tmp_path: Path) -> None:
    annotation = write_nrrd(tmp_path / "a.nrrd", labels())
    other = write_nrrd(tmp_path / "t.nrrd", labels((40, 30, 21)))
    with pytest.raises(VolumeFileError, match=r"shape \(40, 30, 21\) differs"):
        write_volume(tmp_path / "store", annotation, template=other)
    finer = write_nrrd(tmp_path / "f.nrrd", labels(), spacing=10)
    with pytest.raises(VolumeFileError, match="voxel size"):
        write_volume(tmp_path / "store", annotation, template=finer)
    assert nothing_left(tmp_path)
    write_volume(tmp_path / "store", annotation)
    with pytest.raises(VolumeFileError, match="already exists"):
        write_volume(tmp_path / "store", annotation)


def test_reads_check_their_arguments(tmp_path: Path) -> None:
    volume = write_volume(tmp_path / "store", write_nrrd(tmp_path / "a.nrrd", labels()))
    with pytest.raises(IndexError, match="outside"):
        volume.voxel((40, 0, 0))
    with pytest.raises(IndexError, match="outside"):
        volume.plane("r", 20)
    with pytest.raises(ValueError, match="axis must be"):
        volume.plane("x", 0)
    with pytest.raises(VolumeFileError, match="has no template"):
        volume.plane("p", 0, layer="template")
    with pytest.raises(VolumeFileError, match="not a brainmap reference volume"):
        ReferenceVolume.open(tmp_path)
