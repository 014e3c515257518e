"""`python -m brainmap.testing URL`: output lines, JSON report and exit status."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys

from altered_server import altered_server

from brainmap.testing import checks


def _kit(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "brainmap.testing", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_our_server_conforms(conformance_server: str) -> None:
    result = _kit(conformance_server + "/api/v2/")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"brainmap conformance kit: {len(checks())} checks against " + (
        conformance_server
    )
    for check, line in zip(checks(), lines[1:-1], strict=True):
        assert line.startswith(f"PASS  {check.name} ")
        assert f"{check.basis.value} ({check.source})" in line
    assert lines[-1].startswith(f"{len(checks())} passed, 0 failed, 0 skipped against ")


def test_json_report_of_selected_checks(conformance_server: str) -> None:
    result = _kit(conformance_server, "--only", "quality", "json-envelope", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["server"] == conformance_server
    assert [entry["name"] for entry in report["checks"]] == ["json-envelope", "quality"]
    assert {entry["outcome"] for entry in report["checks"]} == {"pass"}
    assert report["checks"][0]["basis"] == "allen-api"
    assert report["checks"][0]["source"] == "docs/allen-api.md §4.1"
    assert report["summary"] == {"pass": 2, "fail": 0, "skip": 0}
    assert 0 < report["requests"] < 20


def test_a_server_that_differs_fails_the_check_it_differs_on(conformance_server: str) -> None:
    with altered_server(conformance_server) as altered:
        result = _kit(altered)
    assert result.returncode == 1, result.stdout + result.stderr
    failures = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failures) == 1, result.stdout
    assert failures[0].startswith("FAIL  unknown-image  ")
    assert "allen-api (docs/allen-api.md §4.2, §6.6)" in failures[0]
    assert "atlas_image_download/-1: expected 404, got 200" in failures[0]
    assert result.stdout.splitlines()[-1].startswith(f"{len(checks()) - 1} passed, 1 failed")


def test_no_server_on_the_port_is_exit_2() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _kit(f"http://127.0.0.1:{port}", "--timeout", "5")
    assert result.returncode == 2
    assert "no answer from the server" in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr


def test_ctrl_c_ends_quietly_with_130() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        command = [sys.executable, "-m", "brainmap.testing", url, "--timeout", "60"]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as kit:
            assert kit.stdout is not None
            kit.stdout.readline()  # the banner: the first request is under way
            kit.send_signal(signal.SIGINT)
            _, errors = kit.communicate(timeout=30)
    assert kit.returncode == 130
    assert errors.decode().strip() == "interrupted: no verdict"


def test_usage_errors_are_exit_2() -> None:
    for arguments in (
        [],
        ["ftp://example.org"],
        ["http://127.0.0.1:9", "--only", "no-such-check"],
        ["http://127.0.0.1:9", "--timeout", "0"],
    ):
        result = _kit(*arguments)
        assert result.returncode == 2, arguments
        assert "usage: python -m brainmap.testing" in result.stderr
