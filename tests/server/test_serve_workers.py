"""``brainmap serve``: it answers on the port it announces, refuses a port another server holds,
and with ``--workers N`` several processes, each opening the store, answer requests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import simplejpeg

from brainmap.server.app import CACHE_BYTES_ENV, STORE_ENV, app_from_environment
from brainmap.server.state import server_state
from loopback import first_answer, free_port, request
from small_store import ISH_IMAGE, SmallStore


def test_app_from_environment_opens_the_named_store(
    small_store: SmallStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STORE_ENV, str(small_store.store.root))
    monkeypatch.setenv(CACHE_BYTES_ENV, "0")
    state = server_state(app_from_environment())
    assert state.store.root == small_store.store.root
    assert state.responses.maxsize == 0


def test_a_worker_finding_the_store_damaged_exits_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "brainmap.sqlite").write_text("not a database, whatever serve checked before")
    monkeypatch.setenv(STORE_ENV, str(tmp_path))
    with pytest.raises(SystemExit) as exited:
        app_from_environment()
    assert str(exited.value).startswith("brainmap: ")
    assert "brainmap.sqlite is not a brainmap store" in str(exited.value)
    assert "\n" not in str(exited.value)


def _serve(store: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    command = [str(Path(sys.executable).with_name("brainmap")), "serve", "--store", str(store)]
    command += ["--port", str(port), *extra]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )


def test_serve_answers_where_it_announces_and_a_second_is_refused(
    small_store: SmallStore,
) -> None:
    port = free_port()
    server = _serve(small_store.store.root, port)
    try:
        assert server.stdout is not None
        announced = server.stdout.readline()
        assert f"on http://127.0.0.1:{port}/api/v2/ " in announced
        # the socket listens before the announcement: no waiting, no retry
        reply = request(f"http://127.0.0.1:{port}/api/v2/data/SectionImage/query.json")
        assert reply.status == 200 and reply.json()["success"] is True
        second = _serve(small_store.store.root, port, "--workers", "2")
        out, err = second.communicate(timeout=60)
        assert second.returncode == 2 and out == ""
        assert err == f"brainmap: cannot listen on 127.0.0.1 port {port}: Address already in use\n"
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_two_worker_processes_serve_images_and_queries(small_store: SmallStore) -> None:
    port = free_port()
    command = [str(Path(sys.executable).with_name("brainmap")), "serve", "--store"]
    command += [str(small_store.store.root), "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v2"
    try:
        assert first_answer(f"{base}/data/SectionImage/query.json", server).status == 200
        bodies = set()
        for _ in range(6):  # spread over both processes by the kernel
            url = f"{base}/image_download/{ISH_IMAGE}?downsample=1&quality=90"
            reply = request(url)
            assert reply.status == 200, reply.body
            bodies.add(reply.body)
        assert len(bodies) == 1  # every process renders the same bytes
        assert simplejpeg.decode_jpeg(bodies.pop()).shape == (400, 550, 3)
    finally:
        server.terminate()  # the supervisor stops its worker processes
        server.wait(timeout=30)
