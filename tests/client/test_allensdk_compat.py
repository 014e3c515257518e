"""The real allensdk client, unchanged, against brainmap's server; results equal brainmap's client.

allensdk pins numpy < 1.24, so it lives in its own interpreter: set BRAINMAP_ALLENSDK_PYTHON to
a Python that has ``allensdk`` installed (``make test`` builds one in ``.venv-allensdk``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from brainmap import ImageDownloadApi
from small_store import ATLAS_IMAGE, CONNECTIVITY_IMAGE, ISH_IMAGE, RANGES

ALLENSDK_PYTHON = os.environ.get("BRAINMAP_ALLENSDK_PYTHON")
SESSION_SCRIPT = Path(__file__).parent.parent / "allensdk_session.py"

PLAN = {
    "products": [1, 5],
    "ranges_of": [CONNECTIVITY_IMAGE],
    "data_set": 100,
    "atlas": 1,
    "downloads": {
        "section.jpg": ["download_section_image", ISH_IMAGE, {"downsample": 2}],
        "roi.jpg": [
            "download_image",
            ISH_IMAGE,
            {"left": 50, "top": 60, "width": 300, "height": 200},
        ],
        "expression.jpg": ["download_image", ISH_IMAGE, {"view": "expression", "downsample": 1}],
        "projection.jpg": [
            "download_projection_image",
            CONNECTIVITY_IMAGE,
            {"downsample": 1, "range": list(RANGES)},
        ],
        "nissl.jpg": ["download_atlas_image", ATLAS_IMAGE, {"annotation": False}],
        "plate.jpg": ["download_atlas_image", ATLAS_IMAGE, {"annotation": True, "atlas": 1}],
        "colormap.jpg": [
            "download_image",
            ISH_IMAGE,
            {"downsample": 3, "colormap": [0.2, "jet"], "quality": 80},
        ],
    },
}

pytestmark = pytest.mark.skipif(
    not ALLENSDK_PYTHON, reason="set BRAINMAP_ALLENSDK_PYTHON to a Python with allensdk installed"
)


def test_allensdk_gets_what_brainmap_gets(small_server: str, tmp_path: Path) -> None:
    theirs_dir, ours_dir = tmp_path / "allensdk", tmp_path / "brainmap"
    theirs_dir.mkdir()
    ours_dir.mkdir()
    completed = subprocess.run(
        [
            str(ALLENSDK_PYTHON),
            str(SESSION_SCRIPT),
            small_server,
            str(theirs_dir),
            json.dumps(PLAN),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    theirs = json.loads(completed.stdout)

    api = ImageDownloadApi(base_uri=small_server)
    assert theirs["get_section_data_sets_by_product"] == api.get_section_data_sets_by_product(
        [1, 5]
    )
    assert theirs["get_section_image_ranges"] == [list(RANGES)]
    assert theirs["section_image_query"] == api.section_image_query(100)
    assert theirs["atlas_image_query"] == api.atlas_image_query(1)
    assert [r["id"] for r in theirs["atlas_image_query"]] == [ATLAS_IMAGE]
    for name, (method, image_id, kwargs) in PLAN["downloads"].items():
        getattr(api, method)(image_id, str(ours_dir / name), **kwargs)
        body = (ours_dir / name).read_bytes()
        assert theirs["files"][name] == {
            "bytes": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        }, name
