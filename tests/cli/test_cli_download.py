"""``brainmap download`` and ``brainmap query`` against the real server on loopback."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from brainmap.cli import main
from bulk_store import DATA_SET, FIRST_ID, IMAGES, image_files


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_data_set_download_json_and_resume(bulk_server: str, tmp_path: Path) -> None:
    args = ("download", "data-set", str(DATA_SET), "--api", bulk_server, "--out", str(tmp_path))
    code, output = run(*args, "--downsample", "1", "--quality", "70", "--json")
    report = json.loads(output)
    assert code == 0 and report["ok"] and report["fetched"] == IMAGES
    assert len(image_files(tmp_path)) == IMAGES
    code, output = run(*args, "--downsample", "1", "--quality", "70", "--quiet")
    assert code == 0 and output.startswith(f"0 fetched, {IMAGES} already there, 0 failed")


def test_section_images_with_env_api_and_filters(bulk_server: str, tmp_path: Path) -> None:
    ids = [str(FIRST_ID), str(FIRST_ID + 1)]
    region = ["--left", "16", "--width", "64", "--height", "48"]
    result = CliRunner(env={"BRAINMAP_API": bulk_server}).invoke(
        main,
        [
            "download",
            "section-image",
            *ids,
            "--out",
            str(tmp_path),
            "--json",
            "--rgb",
            "1,0.5,2",
            *region,
        ],
    )
    assert result.exit_code == 0, result.output
    named = "_rgb-1,0.5,2_left-16_width-64_height-48.jpg"
    assert set(image_files(tmp_path)) == {f"{i}{named}" for i in ids}


def test_unknown_image_is_not_found(bulk_server: str, tmp_path: Path) -> None:
    code, output = run(
        "download", "section-image", "1", "--api", bulk_server, "--out", str(tmp_path), "-q"
    )
    assert code == 5 and "no image with id 1" in output


def test_query_rows_and_exit_codes(bulk_server: str) -> None:
    code, output = run("query", "model::SectionImage", "--api", bulk_server, "--page-size", "25")
    assert code == 0 and len(json.loads(output)) == IMAGES
    code, output = run("query", "model::SectionImage", "--api", bulk_server)
    assert code == 4 and "got 50 of 60 rows" in output
    code, output = run("query", "model::Nope", "--api", bulk_server, "--json")
    assert code == 6 and "Error in query: model::Nope" in output


def test_remote_out_without_manifest_is_a_usage_error(bulk_server: str) -> None:
    args = ("download", "section-image", str(FIRST_ID), "--api", bulk_server)
    code, output = run(*args, "--out", "memory://brainmap-cli-test", "-q")
    assert code == 2 and "manifest" in output


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--out", "nosuchprotocol://bucket/x", "nosuchprotocol"),
        ("--dask", "not-an-address:xx", "not-an-address"),
    ],
)
def test_unusable_out_or_dask_address_is_a_usage_error(
    bulk_server: str, tmp_path: Path, option: str, value: str, named: str
) -> None:
    args = ["download", "section-image", str(FIRST_ID), "--api", bulk_server, "-q"]
    args += ["--manifest", str(tmp_path / "manifest.sqlite"), "--out", str(tmp_path)]
    code, output = run(*args, option, value)
    assert code == 2 and named in output
    assert not list(tmp_path.glob("*.jpg"))


class BrokenClient:
    """A client with a bug in it: every download raises ValueError."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __enter__(self) -> BrokenClient:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def download_images(self, *args: object, **kwargs: object) -> None:
        raise ValueError("a bug")


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the module, not the click group that brainmap.cli exports under the same name
    command_module = importlib.import_module("brainmap.cli.download")
    monkeypatch.setattr(command_module, "Client", BrokenClient)
    result = CliRunner().invoke(main, ["download", "section-image", "1", "--out", str(tmp_path)])
    assert isinstance(result.exception, ValueError) and "Usage" not in result.output
