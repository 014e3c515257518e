"""The per-file pieces of a bulk download: scaled JPEG verification, batched durable commits."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import numpy as np
import pytest
import simplejpeg

from brainmap.client._http import files
from brainmap.client._http.errors import CorruptBody
from brainmap.client.bulk.destination import LocalFolder
from brainmap.client.bulk.ledger import Ledger
from brainmap.client.bulk.verify import jpeg_check, verify_jpeg

PIXELS = np.random.default_rng(3).integers(0, 255, (150, 200, 3), dtype=np.uint8)
JPEG = simplejpeg.encode_jpeg(PIXELS, quality=90)


def test_verify_jpeg_gives_the_full_size() -> None:
    assert verify_jpeg(JPEG) == (200, 150)


@pytest.mark.parametrize("cut", [2, 100, len(JPEG) // 2])
def test_verify_jpeg_rejects_a_truncated_stream(cut: int) -> None:
    with pytest.raises(ValueError):
        verify_jpeg(JPEG[:-cut])


def test_verify_jpeg_rejects_corrupt_entropy_data() -> None:
    body = bytearray(JPEG)
    middle = len(body) // 2
    body[middle : middle + 8] = b"\xff\x00" * 4
    body[middle + 20] ^= 0x5A
    with pytest.raises(ValueError):
        verify_jpeg(bytes(body))


def test_jpeg_check_names_the_wrong_size() -> None:
    jpeg_check("u", (200, 150))(JPEG)
    with pytest.raises(CorruptBody, match="image is 200 x 150, expected 201 x 150"):
        jpeg_check("u", (201, 150))(JPEG)
    with pytest.raises(CorruptBody, match="not a decodable JPEG"):
        jpeg_check("u", None)(JPEG[:-50])


def test_local_folder_writes_atomically_and_syncs(tmp_path: Path) -> None:
    folder = LocalFolder(tmp_path)
    digest = folder.write("a/1.jpg", JPEG)
    folder.sync(["a/1.jpg"])
    folder.sync([])
    assert (tmp_path / "a" / "1.jpg").read_bytes() == JPEG
    assert len(digest) == 64
    assert os.listdir(tmp_path / "a") == ["1.jpg"]


def test_sync_folder_fsyncs_each_file_without_syncfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x").write_bytes(b"x")
    synced: list[int] = []
    monkeypatch.setattr(files, "_SYNCFS", None)
    monkeypatch.setattr(files.os, "fsync", synced.append)
    files.sync_folder(tmp_path, [tmp_path / "sub" / "x"])
    assert len(synced) == 2  # the file and its folder


def test_ledger_commits_in_batches_before_reporting() -> None:
    commits: list[list[int]] = []
    reported: list[int] = []

    def commit(batch: list[int]) -> None:
        assert not set(batch) & set(reported)
        commits.append(batch)

    async def run() -> None:
        async with Ledger(commit, reported.append, size=4, interval=60) as ledger:
            for item in range(6):
                ledger.add(item)
                await asyncio.sleep(0.05 if item == 3 else 0)
            await asyncio.sleep(0.05)
            assert reported == [0, 1, 2, 3]  # a full batch; the rest waits for the interval

    asyncio.run(run())
    assert commits == [[0, 1, 2, 3], [4, 5]]
    assert reported == list(range(6))


def test_ledger_commits_after_the_interval_and_after_an_error() -> None:
    reported: list[int] = []

    async def run() -> None:
        async with Ledger(lambda batch: None, reported.append, interval=0.01) as ledger:
            ledger.add(1)
            await asyncio.sleep(0.2)
            assert reported == [1]
            ledger.add(2)
            raise KeyError("stop")

    with pytest.raises(KeyError):
        asyncio.run(run())
    assert reported == [1, 2]
