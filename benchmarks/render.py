"""brainmap's image service against IIPImage (iipsrv behind lighttpd) on the same pyramids.

Builds an 8-bit RGB section (16,000 x 12,000, JPEG page pyramid) and a 12-bit 3-channel section
(8,000 x 6,000, lossless page pyramid) with libvips, serves them from a brainmap store (uvicorn
with 2 worker processes, as ``brainmap serve --workers 2``) and from iipsrv 1.1 (one FastCGI
process, 2 OpenMP threads, behind lighttpd), all on 127.0.0.1,
then drives each workload with wrk (its own process, 1 thread, 8 connections, 10 s after a 2 s
warm-up; a Lua script picks random regions), in two interleaved rounds, reporting each
server's better round (the machine may be shared):

(a) the whole section at downsample 4          iipsrv: IIIF full/1000,
(b) random 1000 x 1000 regions at full res.     iipsrv: IIIF x,y,1000,1000/full
(c) the 12-bit section windowed with range at downsample 3, iipsrv: MINMAX per channel

brainmap runs twice: with its response cache off (every request rendered) and on (the default,
64 MiB; repeated URLs are served from it). JPEG quality 90 on both. The encode ceiling is
single-core simplejpeg encodes/s of a decoded response of the same size. Needs Debian's
iipimage-server, lighttpd and wrk (installed with apt-get when missing).

    .venv/bin/python benchmarks/render.py
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pyvips
import simplejpeg

from brainmap.pyramid.tiers import whole_image
from brainmap.pyramid.writer import PyramidKind, write_pyramid
from brainmap.store.folder import Store
from brainmap.store.schema import PlaneOfSection, SectionDataSet, SectionImage

RGB_SIZE = (16_000, 12_000)
DEEP_SIZE = (8_000, 6_000)
WINDOW = (0, 900, 0, 1000, 0, 4095)
QUALITY = 90
DURATION, WARMUP, CONNECTIONS, ROUNDS = 10, 2, 8, 2
IIPSRV = "/usr/lib/iipimage-server/iipsrv.fcgi"
SERVER = """
import os, sys, uvicorn
os.environ.update(BRAINMAP_STORE=sys.argv[1], BRAINMAP_CACHE_BYTES=sys.argv[3])
from brainmap.server.http_protocol import BoundedTargetProtocol
uvicorn.run("brainmap.server.app:app_from_environment", factory=True, workers=int(sys.argv[4]),
            http=BoundedTargetProtocol,
            host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""
WORKERS = 2
"""brainmap's server processes (``brainmap serve --workers``), as iipsrv renders on 2 threads."""
CACHE_BYTES = 64 * 1024 * 1024
RANDOM_REGION_LUA = """
math.randomseed(42)
request = function()
  local x = math.random(0, {max_x})
  local y = math.random(0, {max_y})
  return wrk.format("GET", string.format("{template}", x, y))
end
"""


def ensure_tools() -> None:
    if all(shutil.which(tool) for tool in ("wrk", "lighttpd")) and Path(IIPSRV).exists():
        return
    subprocess.run(
        [
            "apt-get",
            "install",
            "-y",
            "--no-install-recommends",
            "iipimage-server",
            "lighttpd",
            "wrk",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def build(root: Path) -> Store:
    """The two pyramids, with records for brainmap; iipsrv reads the same files."""
    store = Store.create(root)
    w, h = RGB_SIZE
    xy = pyvips.Image.xyz(w, h)
    x, y = xy[0], xy[1]
    noise = pyvips.Image.gaussnoise(w, h, sigma=6)
    rgb = ((x / 37 + noise) % 256).bandjoin([(y / 23 + noise) % 256, ((x + y) / 91) % 256])
    write_pyramid(rgb.cast("uchar"), root / "pyramids/section.tif", PyramidKind.RGB8)
    w, h = DEEP_SIZE
    xy = pyvips.Image.xyz(w, h)
    deep = (xy[0] / 2 + pyvips.Image.gaussnoise(w, h, sigma=20, mean=200)).bandjoin(
        [xy[1] / 2 + 100, (xy[0] + xy[1]) / 4]
    )
    write_pyramid(deep.cast("ushort"), root / "pyramids/deep.tif", PyramidKind.LOSSLESS)
    with store.session() as session:
        session.add(PlaneOfSection(id=1, name="coronal"))
        session.add(SectionDataSet(id=1, plane_of_section_id=1, failed=False))
        session.flush()
        for image_id, name, (w, h), bits in (
            (1, "section", RGB_SIZE, 8),
            (2, "deep", DEEP_SIZE, 12),
        ):
            session.add(
                SectionImage(
                    id=image_id,
                    data_set_id=1,
                    path=f"pyramids/{name}.tif",
                    **whole_image(w, h),
                    bits_per_component=bits,
                )
            )
    store.close()
    return store


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                response.read()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer from {url}")


def start_iipsrv(root: Path, workdir: Path) -> tuple[list[subprocess.Popen[bytes]], str]:
    fcgi_port, http_port = free_port(), free_port()
    environment = {
        **os.environ,
        "FILESYSTEM_PREFIX": f"{root}/pyramids/",
        "JPEG_QUALITY": str(QUALITY),
        "MAX_CVT": "20000",
        "VERBOSITY": "0",
        "MAX_IMAGE_CACHE_SIZE": "100",
    }
    iipsrv = subprocess.Popen(
        [IIPSRV, "--bind", f"127.0.0.1:{fcgi_port}", "--backlog", "1024"], env=environment
    )
    config = workdir / "lighttpd.conf"
    config.write_text(
        f'server.bind = "127.0.0.1"\nserver.port = {http_port}\n'
        f'server.document-root = "{workdir}"\nserver.modules = ("mod_fastcgi")\n'
        f'fastcgi.server = ( "/fcgi-bin/iipsrv.fcgi" => (( "host" => "127.0.0.1", '
        f'"port" => {fcgi_port}, "check-local" => "disable" )) )\n'
    )
    lighttpd = subprocess.Popen(["lighttpd", "-D", "-f", str(config)])
    base = f"http://127.0.0.1:{http_port}/fcgi-bin/iipsrv.fcgi"
    return [lighttpd, iipsrv], base


def wrk(
    url: str,
    workdir: Path,
    lua: str | None = None,
    duration: int = DURATION,
    warmup: int = WARMUP,
) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 in ms, over `duration` seconds after `warmup` seconds."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", "--latency", "--timeout", "30s"]
    if lua is not None:
        script = workdir / "random.lua"
        script.write_text(lua)
        command += ["-s", str(script)]
    subprocess.run([*command, f"-d{warmup}s", url], check=True, capture_output=True)
    output = subprocess.run(
        [*command, f"-d{duration}s", url], check=True, capture_output=True, text=True
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"errors from {url}:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return rate, _percentile(output, "50%"), _percentile(output, "99%")


def _percentile(output: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def encode_ceiling(url: str) -> float:
    """Single-core encodes/s of a decoded response of `url` (same size, same quality)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        pixels = simplejpeg.decode_jpeg(response.read(), colorspace="RGB")
    start, count = time.perf_counter(), 0
    while time.perf_counter() - start < 2:
        simplejpeg.encode_jpeg(pixels, quality=QUALITY, colorsubsampling="420")
        count += 1
    return count / (time.perf_counter() - start)


def _load() -> str:
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def workloads(brainmap: str, iip: str) -> list[tuple[str, str, str, str | None, str | None]]:
    """(name, brainmap URL, iipsrv URL, brainmap Lua, iipsrv Lua)."""
    w, h = RGB_SIZE
    window = ",".join(map(str, WINDOW))
    minmax = "&".join(f"MINMAX={c + 1}:{WINDOW[2 * c]},{WINDOW[2 * c + 1]}" for c in range(3))
    region_bm = f"/api/v2/image_download/1?left=%d&top=%d&width=1000&height=1000&quality={QUALITY}"
    region_iip = "/fcgi-bin/iipsrv.fcgi?IIIF=section.tif/%d,%d,1000,1000/full/0/default.jpg"
    bounds = {"max_x": w - 1000, "max_y": h - 1000}
    return [
        (
            "(a) whole section, downsample 4",
            f"{brainmap}/api/v2/image_download/1?downsample=4&quality={QUALITY}",
            f"{iip}?IIIF=section.tif/full/{w // 16},/0/default.jpg",
            None,
            None,
        ),
        (
            "(b) random 1000 x 1000, full res",
            f"{brainmap}/api/v2/image_download/1?left=0&top=0&width=1000&height=1000&quality={QUALITY}",
            f"{iip}?IIIF=section.tif/0,0,1000,1000/full/0/default.jpg",
            RANDOM_REGION_LUA.format(template=region_bm, **bounds),
            RANDOM_REGION_LUA.format(template=region_iip, **bounds),
        ),
        (
            "(c) 12-bit windowed, downsample 3",
            f"{brainmap}/api/v2/image_download/2?downsample=3&range={window}&quality={QUALITY}",
            f"{iip}?FIF=deep.tif&{minmax}&WID={DEEP_SIZE[0] // 8}&CVT=jpeg",
            None,
            None,
        ),
    ]


def main() -> None:
    ensure_tools()
    workdir = Path(tempfile.mkdtemp(prefix="brainmap-render-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        start = time.perf_counter()
        build(workdir / "store")
        print(f"pyramids built in {time.perf_counter() - start:.0f} s; {_load()}")
        store_dir = str(workdir / "store")
        ports = {"off": free_port(), "on": free_port()}
        for cache, port in ports.items():
            size = str(CACHE_BYTES if cache == "on" else 0)
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-c", SERVER, store_dir, str(port), size, str(WORKERS)]
                )
            )
        iip_processes, iip = start_iipsrv(workdir / "store", workdir)
        processes += iip_processes
        uncached = workloads(f"http://127.0.0.1:{ports['off']}", iip)
        cached = workloads(f"http://127.0.0.1:{ports['on']}", iip)
        print(
            "| workload | brainmap req/s | p50 / p99 ms | cached req/s | p50 / p99 ms "
            "| iipsrv req/s | p50 / p99 ms | encode ceiling /s | vs iipsrv | vs ceiling |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for (name, url, iip_url, lua, iip_lua), cached_row in zip(uncached, cached, strict=True):
            for address in (url, cached_row[1], iip_url):
                wait_for(address)
            ceiling = encode_ceiling(url)
            targets = [(url, lua), (cached_row[1], cached_row[3]), (iip_url, iip_lua)]
            runs = [[wrk(u, workdir, script) for u, script in targets] for _ in range(ROUNDS)]
            (r1, a1, b1), (r2, a2, b2), (r3, a3, b3) = (
                max(column) for column in zip(*runs, strict=True)
            )
            print(
                f"| {name} | {r1:.1f} | {a1:.1f} / {b1:.1f} | {r2:.1f} | {a2:.1f} / {b2:.1f} "
                f"| {r3:.1f} | {a3:.1f} / {b3:.1f} | {ceiling:.1f} | {r1 / r3:.2f} "
                f"| {r1 / ceiling:.2f} |",
                flush=True,
            )
        print(_load())
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
