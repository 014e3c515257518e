"""The bad-input matrix of ``brainmap download``, ``query`` and ``mirror``: each input a user
might give by mistake (an id that matches nothing, a bad image parameter, an ``--out`` that
cannot be written, a folder already holding other downloads, Ctrl-C), its exit code, its
one-line message, and every file around it left as it was (nothing written, nothing lost,
nothing fetched twice)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import simplejpeg
from click.testing import CliRunner
from starlette.types import ASGIApp, Receive, Scope, Send

from brainmap.cli import main
from brainmap.client.bulk.manifest import FILENAME
from brainmap.mirror.run import STAGING
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import Store
from bulk_store import DATA_SET, FIRST_ID, IMAGES
from small_store import CONNECTIVITY_IMAGE, ISH_IMAGE, RANGES

SLOW_SECONDS = 0.15
"""How long the slow server takes over each image."""


@dataclass(frozen=True)
class Env:
    """The servers a row talks to and the folder it works in (``out`` is not there yet)."""

    api: str
    slow: str
    small: str
    tmp: Path
    slow_hits: Callable[[], int]
    """Image requests the slow server has answered so far."""

    @property
    def out(self) -> Path:
        return self.tmp / "out"


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


Setup = Callable[[Env], list[str]]
"""Prepares the folder and returns the command line."""
Runner = Callable[[Env, list[str]], Result]
Check = Callable[[Env, dict[str, bytes], Result], None]
"""Checks the folder afterwards, given its files before the command ran."""


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (symlinks and sockets aside), by relative path."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def images(folder: Path) -> dict[str, bytes]:
    return {name: body for name, body in tree(folder).items() if name.endswith(".jpg")}


def cli(env: Env, args: list[str]) -> Result:
    result = CliRunner().invoke(main, args)
    return Result(result.exit_code, result.stdout, result.stderr)


def unchanged(env: Env, before: dict[str, bytes], result: Result) -> None:
    assert tree(env.tmp) == before


def download(*args: str, api: str = "api") -> Setup:
    """``download ARGS --out OUT -q`` against `api` (``api``, ``slow`` or ``small``)."""
    return lambda env: ["download", *args, "--api", getattr(env, api), "--out", str(env.out), "-q"]


def data_set_with(*options: str) -> Setup:
    return download("data-set", str(DATA_SET), *options)


def out_under_a_file(env: Env) -> list[str]:
    (env.tmp / "plain").write_text("a file")
    return [*data_set_with()(env)[:-3], "--out", str(env.tmp / "plain" / "images")]


def out_is_a_file(env: Env) -> list[str]:
    (env.tmp / "images.jpg").write_text("a file")
    return [*data_set_with()(env)[:-3], "--out", str(env.tmp / "images.jpg")]


def out_read_only(env: Env) -> list[str]:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; the file rows cover root")
    locked = env.tmp / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return [*data_set_with()(env)[:-3], "--out", str(locked / "x")]


def manifest_is_a_folder(env: Env) -> list[str]:
    (env.tmp / "manifest").mkdir()
    return [*data_set_with()(env), "--manifest", str(env.tmp / "manifest")]


def manifest_not_a_database(env: Env) -> list[str]:
    env.out.mkdir()
    (env.out / FILENAME).write_text("path,url\n")
    return data_set_with()(env)


def mirror(*selectors: str) -> Setup:
    return lambda env: ["mirror", "--from", env.api, "--store", str(env.out), "-q", *selectors]


def mirror_store_under_a_file(env: Env) -> list[str]:
    (env.tmp / "plain").write_text("a file")
    return ["mirror", "--from", env.api, "--store", str(env.tmp / "plain" / "s"), "--data-set=1"]


def after_a_first_download(first: list[str], then: list[str]) -> Setup:
    """Download ``section-image`` `first` into OUT, then run the same with `then`."""

    def setup(env: Env) -> list[str]:
        common = [str(FIRST_ID), "--api", env.api, "--out", str(env.out), "-q"]
        assert cli(env, ["download", "section-image", *common, *first]).code == 0
        return ["download", "section-image", *common, *then]

    return setup


def api_with_suffix(env: Env) -> list[str]:
    args = download("section-image", str(FIRST_ID))(env)
    return [arg + "/api/v2/" if arg == env.api else arg for arg in args]


def manifest_rows(env: Env) -> list[tuple[str, str]]:
    """(path, url) of each file the manifest in OUT records."""
    with sqlite3.connect(env.out / FILENAME) as db:
        return db.execute("SELECT path, url FROM files ORDER BY path").fetchall()


def same_request_as_the_root(env: Env, before: dict[str, bytes], result: Result) -> None:
    url = f"{env.api}/api/v2/section_image_download/{FIRST_ID}"
    assert manifest_rows(env) == [(f"{FIRST_ID}.jpg", url)]


def nothing_fetched_again(env: Env, before: dict[str, bytes], result: Result) -> None:
    assert images(env.out) == {k[4:]: v for k, v in before.items() if k.endswith(".jpg")}


def earlier_files_kept(env: Env, before: dict[str, bytes], result: Result) -> None:
    earlier = {k[4:]: v for k, v in before.items() if k.endswith(".jpg")}
    now = images(env.out)
    assert {name: now[name] for name in earlier} == earlier
    assert len(now) == 2 * len(earlier)


Resumed = Callable[[Env, int, list[str]], None]
"""Reruns an interrupted command (its arguments given) that had recorded so many files."""


def with_umask(umask: int) -> Runner:
    def run(env: Env, args: list[str]) -> Result:
        previous = os.umask(umask)
        try:
            return cli(env, args)
        finally:
            os.umask(previous)

    return run


def readable_by_all(env: Env, before: dict[str, bytes], result: Result) -> None:
    modes = {path.name: path.stat().st_mode & 0o777 for path in env.out.iterdir()}
    assert modes == {f"{FIRST_ID}.jpg": 0o644, FILENAME: 0o644}


def windows_of_each_data_set(env: Env, before: dict[str, bytes], result: Result) -> None:
    endpoint = f"{env.small}/api/v2/section_image_download"
    window = ",".join(map(str, RANGES))
    assert dict(manifest_rows(env)) == {
        f"{ISH_IMAGE}_downsample-2_range-auto.jpg": f"{endpoint}/{ISH_IMAGE}?downsample=2",
        f"{CONNECTIVITY_IMAGE}_downsample-2_range-auto.jpg": (
            f"{endpoint}/{CONNECTIVITY_IMAGE}?downsample=2&range={window}"
        ),
    }


def interrupted(manifest: Callable[[Env], Path], resumed: Resumed) -> Runner:
    """Start the command in a process of its own, send it SIGINT once some files are recorded
    in `manifest`, then check with `resumed` that rerunning it finishes the job without
    fetching again the files recorded by then."""

    def run(env: Env, args: list[str]) -> Result:
        code = "import sys; from brainmap.cli import main; sys.argv[0] = 'brainmap'; main()"
        process = subprocess.Popen(
            [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        recorded = wait_for_verified(manifest(env), at_least=4, process=process)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
        at_interrupt = verified(manifest(env))
        assert recorded <= at_interrupt < IMAGES
        resumed(env, at_interrupt, args)
        return Result(process.returncode, stdout.decode(), stderr.decode())

    return run


def download_resumed(env: Env, at_interrupt: int, args: list[str]) -> None:
    rerun = cli(env, args)
    assert rerun.code == 0, rerun.stdout + rerun.stderr
    assert rerun.stdout.startswith(
        f"{IMAGES - at_interrupt} fetched, {at_interrupt} already there, 0 failed"
    )


def wait_for_verified(manifest: Path, at_least: int, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if manifest.exists() and (count := verified(manifest)) >= at_least:
            return count
        time.sleep(0.05)
    raise AssertionError(f"no {at_least} files recorded; the download ended {process.poll()}")


def verified(manifest: Path) -> int:
    """Files recorded verified (0 while the manifest is still being created)."""
    with sqlite3.connect(manifest) as db:
        try:
            query = "SELECT count(*) FROM files WHERE status = 'verified'"
            (count,) = db.execute(query).fetchone()
        except sqlite3.OperationalError:  # no table yet
            return 0
    return int(count)


def mirror_resumed(env: Env, at_interrupt: int, args: list[str]) -> None:
    fetched_before = env.slow_hits()
    rerun = cli(env, args)
    assert rerun.code == 0 and rerun.stdout.endswith(" 0 failed\n"), rerun.stdout + rerun.stderr
    assert env.slow_hits() - fetched_before <= IMAGES - at_interrupt
    again = cli(env, args)
    assert again.stdout.endswith(f"0 fetched, {IMAGES} already held, 0 failed\n")


def mirror_complete(env: Env, before: dict[str, bytes], result: Result) -> None:
    assert result.stderr.count("\n") == 1, result.stderr
    assert not list((env.out / STAGING).glob("*/*.jpg"))  # every picture is a pyramid now


def resumed_and_complete(env: Env, before: dict[str, bytes], result: Result) -> None:
    assert result.stderr.count("\n") == 1, result.stderr
    assert verified(env.out / FILENAME) == IMAGES
    for name, body in images(env.out).items():
        assert simplejpeg.decode_jpeg_header(body)[:2] > (0, 0), name
    assert not [path for path in env.out.iterdir() if path.name.endswith(".part")]


@dataclass(frozen=True)
class Door:
    door: str
    given: str
    setup: Setup
    code: int
    says: str
    check: Check = unchanged
    run: Runner = field(default=cli)


MATRIX = [
    Door("download data-set", "an id no data set has", download("data-set", "424242"), 5,
         "no section data set 424242"),
    Door("download atlas", "an id no atlas has", download("atlas", "999"), 5, "no atlas 999"),
    Door("download section-image", "an id no image has", download("section-image", "1"), 5,
         "no image with id 1"),
    Door("mirror", "--data-set of no data set", mirror("--data-set", "424242"), 5,
         "no section data set 424242"),
    Door("mirror", "--atlas of no atlas", mirror("--atlas", "999"), 5, "no atlas 999"),
    Door("mirror", "--store under a file", mirror_store_under_a_file, 2, "is under the file"),
    Door("download data-set", "--quality 101", data_set_with("--quality", "101"), 2, "quality"),
    Door("download data-set", "--downsample -1", data_set_with("--downsample", "-1"), 2,
         "downsample: must not be negative"),
    Door("download data-set", "--range of 2 numbers", data_set_with("--range", "0,10"), 2,
         "range: needs 6"),
    Door("download data-set", "--range upper below lower",
         data_set_with("--range", "900,10,0,10,0,10"), 2, "upper bound 10 <= lower 900"),
    Door("download data-set", "--range not numbers", data_set_with("--range", "a,b"), 2,
         "not a comma-separated list of numbers"),
    Door("download data-set", "--colormap unknown", data_set_with("--colormap", "nope"), 2,
         "colormap"),
    Door("download data-set", "--out under a file", out_under_a_file, 2, "is under the file"),
    Door("download data-set", "--out is a file", out_is_a_file, 2, "is a file, not a folder"),
    Door("download data-set", "--out in a read-only folder", out_read_only, 2, "cannot write"),
    Door("download data-set", "--manifest is a folder", manifest_is_a_folder, 2,
         "is a directory"),
    Door("download data-set", "a manifest that is not a database", manifest_not_a_database, 2,
         "manifest: "),
    Door("download section-image", "same names asked from another service",
         after_a_first_download([], ["--service", "image"]), 2,
         "is already there, downloaded from"),
    Door("download data-set", "--api where no server listens",
         lambda env: [*data_set_with()(env), "--api", "http://127.0.0.1:9"], 3,
         "no response"),
    Door("query", "a query the server refuses",
         lambda env: ["query", "model::Nope", "--api", env.api], 6,
         "Error in query: model::Nope"),
    Door("download section-image", "--api ending in /api/v2/", api_with_suffix, 0,
         "1 fetched", same_request_as_the_root),
    Door("download section-image", "--range auto: data sets with and without Equalization",
         download("section-image", str(ISH_IMAGE), str(CONNECTIVITY_IMAGE), "--range", "auto",
                  "--downsample", "2", api="small"), 0, "2 fetched", windows_of_each_data_set),
    Door("download section-image", "under umask 022",
         download("section-image", str(FIRST_ID)), 0, "1 fetched", readable_by_all,
         with_umask(0o022)),
    Door("download section-image", "a rerun of a complete download",
         after_a_first_download(["--downsample", "1"], ["--downsample", "1"]), 0,
         "0 fetched, 1 already there", nothing_fetched_again),
    Door("download section-image", "another downsample into the same folder",
         after_a_first_download(["--downsample", "1"], ["--downsample", "2"]), 0,
         "1 fetched, 0 already there", earlier_files_kept),
    Door("download data-set", "Ctrl-C mid-download, then the same command again",
         download("data-set", str(DATA_SET), "--concurrency", "2", api="slow"), 130,
         "brainmap: interrupted; run the same command again to resume", resumed_and_complete,
         interrupted(lambda env: env.out / FILENAME, download_resumed)),
    Door("mirror", "Ctrl-C mid-copy, then the same command again",
         lambda env: ["mirror", "--from", env.slow, "--store", str(env.out), "-q",
                      "--data-set", str(DATA_SET), "--downsample", "1"], 130,
         "brainmap: interrupted; run the same command again to resume", mirror_complete,
         interrupted(lambda env: env.out / STAGING / FILENAME, mirror_resumed)),
]  # fmt: skip


class SlowImages:
    """The server's app, taking `SLOW_SECONDS` over each image request, counted in `hits`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.hits = 0
        self.url = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "image_download" in scope["path"]:
            self.hits += 1
            await asyncio.sleep(SLOW_SECONDS)
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def slow_server(bulk_store: Store) -> Iterator[SlowImages]:
    slow = SlowImages(create_app(bulk_store))
    with BackgroundServer(slow) as server:
        slow.url = server.url
        yield slow


@pytest.mark.parametrize("door", MATRIX, ids=[f"{row.door}: {row.given}" for row in MATRIX])
def test_door(
    door: Door, bulk_server: str, slow_server: SlowImages, small_server: str, tmp_path: Path
) -> None:
    env = Env(bulk_server, slow_server.url, small_server, tmp_path, lambda: slow_server.hits)
    args = door.setup(env)
    before = tree(tmp_path)
    result = door.run(env, args)
    said = result.stdout + result.stderr
    assert result.code == door.code, said
    assert door.says in said
    assert "Traceback" not in said
    if door.code != 0:  # one line says what is wrong (after click's usage lines)
        messages = [line for line in said.splitlines() if line.startswith(("Error", "brainmap"))]
        assert len(messages) == 1, said
    door.check(env, before, result)
