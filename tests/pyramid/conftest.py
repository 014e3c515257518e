"""An S3-compatible server (moto, on loopback) for the pyramids read from object storage."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import fsspec
import pytest

from s3_server import S3Server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 on 127.0.0.1, stopped after the session."""
    server = S3Server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new bucket on the server, reached through the standard AWS environment variables."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "brainmap-tests")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "brainmap-tests")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    name = f"pyramids-{uuid.uuid4().hex[:12]}"
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir(name)
    yield name
    fs.rm(name, recursive=True)
