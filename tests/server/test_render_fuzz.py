"""Thousands of random parameter combinations against the real server: never a 5xx, never a hang."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor

from loopback import request
from small_store import ATLAS_IMAGE, CONNECTIVITY_IMAGE, ISH_IMAGE

REQUESTS = 2000
DEADLINE_SECONDS = 60
ALLOWED = {200, 400, 404, 413}


def _numbers(rng: random.Random, count: int) -> str:
    pool = ["0", "1", "0.5", "4095", "-3", "900", "2.5", "x", "", "1e3", "nan", "11"]
    return ",".join(rng.choice(pool) for _ in range(rng.choice([count, count, count - 1])))


def random_query(rng: random.Random) -> str:
    """A mix of valid and invalid values for every parameter the service defines."""
    choices = {
        "downsample": lambda: rng.choice(["2", "3", "4", "9", "1", "-1", "a"]),
        "quality": lambda: rng.choice(["0", "1", "50", "100", "101", "q"]),
        "left": lambda: str(rng.randint(-500, 1300)),
        "top": lambda: str(rng.randint(-500, 1000)),
        "width": lambda: str(rng.choice([1, 10, 300, 5000, 0, -4])),
        "height": lambda: str(rng.choice([1, 10, 300, 5000, 0, -4])),
        "downsample_dimensions": lambda: rng.choice(["true", "false", "maybe"]),
        "range": lambda: _numbers(rng, 6),
        "rgb": lambda: _numbers(rng, 3),
        "contrast": lambda: _numbers(rng, 2),
        "colormap": lambda: rng.choice(
            ["jet", "expression", "sepia", "0.5,0.2,0,256,4", "0.9,0,0,256,12", "1,0,0,1,2"]
        ),
        "view": lambda: rng.choice(["expression", "projection", "tumor_feature_boundary", "x"]),
        "expression": lambda: rng.choice(["true", "false"]),
        "projection": lambda: rng.choice(["true", "false"]),
        "annotation": lambda: rng.choice(["true", "false"]),
        "atlas": lambda: rng.choice(["1", "2", "-1"]),
        "structure": lambda: rng.choice(["315", "8,549", "997", "x"]),
    }
    names = rng.sample(sorted(choices), rng.randint(0, 6))
    if "downsample" not in names and rng.random() < 0.8:
        names.append("downsample")
    return "&".join(f"{name}={choices[name]()}" for name in names)


def status_of(url: str) -> int:
    return request(url, timeout=20).status


def test_random_parameter_combinations_never_fail_the_server(small_server: str) -> None:
    rng = random.Random(2024)
    ids = [ISH_IMAGE, CONNECTIVITY_IMAGE, ATLAS_IMAGE]
    urls = [
        f"{small_server}/api/v2/image_download/{rng.choice(ids)}?{random_query(rng)}"
        for _ in range(REQUESTS)
    ]
    start = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(status_of, urls))
    assert time.monotonic() - start < DEADLINE_SECONDS
    unexpected = [(url, s) for url, s in zip(urls, statuses, strict=True) if s not in ALLOWED]
    assert not unexpected, unexpected[:5]
    assert statuses.count(200) > REQUESTS // 5  # the mix reaches the pipeline, not only errors
