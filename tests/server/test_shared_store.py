"""Many processes, one store: `brainmap serve` on two "hosts" (separate processes, each with a
folder of its own, one of them with two workers) over one PostgreSQL database and one S3
bucket answers with the same bytes and the same validators, whichever process answers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab_store import ANSWERS, FIRST, ingest, lab_images
from loopback import Reply, first_answer, free_port, request
from postgres import Cluster
from s3_server import S3Server, s3_environment


def _started(
    arguments: list[str], environment: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    """A ``brainmap serve`` process with `arguments`, once it answers; and its base URL."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("brainmap")), "serve", *arguments]
    command += ["--port", str(port), "--access-log", "off"]
    server = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert first_answer(f"{base}/api/v2/data/Product/query.json", server).status == 200
    except AssertionError:
        server.kill()
        _, error = server.communicate(timeout=30)
        pytest.fail(f"brainmap serve did not answer: {error.decode()[-2000:]}")
    return server, base


@pytest.fixture()
def two_hosts(
    tmp_path: Path, bucket: str, postgres: Cluster, s3_server: S3Server
) -> Iterator[list[str]]:
    """Base URLs of two servers of one PostgreSQL + S3 store: one process, and two workers."""
    database = postgres.database("shared")
    shared = ["--db", database, "--pixels", f"s3://{bucket}/institute"]
    ingest("--store", str(tmp_path / "ingesting-host"), *shared, *lab_images(tmp_path))
    environment = {**os.environ, **s3_environment(s3_server)}
    environment["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "metrics")
    (tmp_path / "metrics").mkdir()
    servers = []
    try:
        for host, workers in (("host-a", "1"), ("host-b", "2")):
            (tmp_path / host).mkdir()
            arguments = ["--store", str(tmp_path / host), *shared, "--workers", workers]
            servers.append(_started(arguments, environment))
        yield [base for _, base in servers]
    finally:
        for server, _ in servers:
            server.terminate()  # a supervisor stops its worker processes
            server.communicate(timeout=30)


def _answer(base: str, path: str) -> tuple[int, bytes, str | None]:
    reply: Reply = request(f"{base}{path}")
    return reply.status, reply.body.replace(base.encode(), b""), reply.headers.get("etag")


def test_servers_sharing_a_database_and_a_bucket_answer_alike(two_hosts: list[str]) -> None:
    first, second = two_hosts
    for path in ANSWERS:
        expected = _answer(first, path)
        assert expected[0] == 200, (path, expected[1][:200])
        for _ in range(4):  # the kernel spreads these over the second host's two workers
            assert _answer(second, path) == expected, path
    conditional = request(
        f"{second}/api/v2/image_download/{FIRST}?downsample=2",
        headers={"If-None-Match": str(_answer(first, ANSWERS[1])[2])},
    )
    assert conditional.status == 304  # a validator from one host is good at the other
