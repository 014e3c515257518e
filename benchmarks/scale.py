"""brainmap at institute scale: the render and RMA workloads over each kind of store, side by side.

The workloads are those of benchmarks/render.py, (a) the whole 16,000 x 12,000 RGB section at
downsample 4, (b) random 1000 x 1000 regions of it at full resolution, (c) the 12-bit section
windowed with range at downsample 3, and the RMA queries of benchmarks/rma.py (its store of
SectionImages and data sets; its four seed queries taken in turn by wrk, and each query's p50
timed alone beside the peer's, hand-written SQL encoded as JSON). They are served by
``brainmap serve --workers N`` (1 and 2, default caches, access log off) from:

(1) SQLite + local disk: the stores as built;
(2) PostgreSQL + local disk: the render store copied by ``brainmap store copy`` into a
    throw-away cluster (tests/postgres.py), its pixel root the folder of (1); the RMA rows
    copied by benchmarks/rma.py;
(3) PostgreSQL + S3: the same databases, the pyramids copied by ``store copy`` to moto's S3
    (tests/s3_server.py, in its own process on 127.0.0.1), answering at once and then with
    20 ms added to every request. moto reads a whole object for each ranged GET (1.2 ms per
    MiB of object measured here: 157 ms for a range of a 128 MiB object); its process keeps
    each object's bytes once read, so that a range costs what it returns, as on S3.

Every server of a worker count runs at once, each starting with empty caches; each workload
runs in wrk (1 thread, 8 connections) for `Bench.duration` s after `Bench.warmup` s on each
configuration in turn, in `Bench.rounds` rounds (the best is shown: the machine may be
shared). The target (issue 14): (3) at 20 ms within 2x of (1) on (a) and (c), in requests/s
and p50. Beside the table, the work behind one request of each workload from the servers'
/metrics (every round, warm-up included): object store requests and their seconds, database
statements and their seconds, renders and their seconds, and the response cache's hits.

    .venv/bin/python benchmarks/scale.py            # 1,000,000-image RMA store, 2 rounds of 5 s
    .venv/bin/python benchmarks/scale.py --quick    # 100,000 images, 1 round of 2 s

Needs wrk (apt-get install wrk) and PostgreSQL's server binaries (apt-get install postgresql).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from render import build as build_sections
from render import free_port, workloads, wrk

import rma

TESTS = Path(__file__).resolve().parents[1] / "tests"
BUCKET = "brainmap-scale"
WORKERS = (1, 2)
LATENCY_MS = 20
TARGET = 2.0
"""How many times slower (3) at `LATENCY_MS` may be than (1) on (a) and (c) (issue 14)."""
BRAINMAP = str(Path(sys.executable).with_name("brainmap"))
MOTO = """
import sys
sys.path.insert(0, sys.argv[1])
from moto.s3.models import FakeKey
from s3_server import S3Server

whole = FakeKey.value


def value(key):  # kept as bytes once read: a ranged GET then costs its range, as on S3
    kept = getattr(key, "_kept", None)
    if kept is None:
        kept = key._kept = whole.fget(key)
    return kept


def replace(key, new):
    key._kept = None
    whole.fset(key, new)


FakeKey.value = property(value, replace)
server = S3Server()
print(server.url, flush=True)
for line in sys.stdin:  # a latency in ms; its record of requests is not kept
    server.latency = float(line) / 1000
    server.requests.clear()
    print("ok", flush=True)
"""
COPY = "from brainmap.cli.store_copy import copy; copy(prog_name='brainmap store copy')"
ROUND_ROBIN_LUA = """
local paths = {{{paths}}}
local next_path = 0
request = function()
  next_path = next_path % #paths + 1
  return wrk.format("GET", paths[next_path])
end
"""
WORK = (
    ("S3 req", "brainmap_object_store_requests_total", 1.0),
    ("S3 ms", "brainmap_object_store_read_duration_seconds_sum", 1e3),
    ("db stmts", "brainmap_db_statement_duration_seconds_count", 1.0),
    ("db ms", "brainmap_db_statement_duration_seconds_sum", 1e3),
    ("renders", "brainmap_render_duration_seconds_count", 1.0),
    ("render ms", "brainmap_render_duration_seconds_sum", 1e3),
)
"""Work per request from /metrics: a label, the sample (summed over its labels), a unit."""


@dataclass(frozen=True)
class Configuration:
    """Where a server reads: the render store and the RMA store, each a folder and optionally
    a database URL and a pixel root; `latency` (ms) set on the S3 server first, when given."""

    name: str
    sections: tuple[Path, str | None, str | None]
    queries: tuple[Path, str | None, str | None]
    database: rma.Database
    latency: int | None = None


@dataclass(frozen=True)
class Result:
    """requests/s, p50 and p99 in ms; the requests /metrics counted (warm-up and run) and the
    work they took (`WORK`, in its units)."""

    rate: float
    p50: float
    p99: float
    requests: float
    work: dict[str, float]


def best(results: list[Result]) -> Result:
    """The round with the most requests/s, with the work a request took over every round."""
    top = max(results, key=lambda result: result.rate)
    requests = sum(result.requests for result in results)
    work = {label: sum(r.work[label] for r in results) / max(requests, 1.0) for label, _, _ in WORK}
    return Result(top.rate, top.p50, top.p99, requests, work)


# -- servers ------------------------------------------------------------------------------------


class MotoProcess:
    """tests/s3_server.py's moto S3 in a process of its own, with an adjustable latency."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", MOTO, str(TESTS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a line a request
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://"):
            raise RuntimeError("moto's S3 server did not start")

    def latency(self, milliseconds: int) -> None:
        """Add `milliseconds` to every answer from now on."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{milliseconds}\n")
        self.process.stdin.flush()
        self.process.stdout.readline()

    def environment(self) -> dict[str, str]:
        """The standard AWS variables sending fsspec (and so brainmap) to this server."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "brainmap-bench",
            "AWS_SECRET_ACCESS_KEY": "brainmap-bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@contextmanager
def serving(
    where: tuple[Path, str | None, str | None], workers: int, environment: dict[str, str]
) -> Iterator[str]:
    """``brainmap serve`` on a free port until the block ends; its base URL once it answers.
    Its processes share a fresh metrics folder, so /metrics sums over them; what it says on
    stderr is shown if it does not start."""
    folder, db, pixels = where
    port = free_port()
    command = [BRAINMAP, "serve", "--store", str(folder), "--workers", str(workers)]
    command += ["--access-log", "off", "--port", str(port)]
    command += ["--db", db] if db else []
    command += ["--pixels", pixels] if pixels else []
    with (
        tempfile.TemporaryDirectory(prefix="brainmap-metrics-") as metrics,
        tempfile.TemporaryFile() as log,
    ):
        server = subprocess.Popen(
            command,
            env={**os.environ, **environment, "PROMETHEUS_MULTIPROC_DIR": metrics},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while not _answers(f"{base}/metrics"):
                if time.monotonic() > deadline or server.poll() is not None:
                    log.seek(0)
                    said = log.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"the server did not start: {' '.join(command)}\n{said}")
                time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=60)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def metrics(base: str) -> dict[str, float]:
    """Every sample of the server's /metrics, summed over labels, by sample name."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=30) as response:
        text = response.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if found := re.match(r"^([a-z_]+)(?:\{[^}]*\})? ([-+.eE\d]+|NaN)$", line):
            samples[found[1]] = samples.get(found[1], 0.0) + float(found[2])
    return samples


def cache_hits(base: str) -> dict[str, tuple[float, float]]:
    """(hits, misses) by cache name."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=30) as response:
        text = response.read().decode()
    found: dict[str, tuple[float, float]] = {}
    for kind, cache, value in re.findall(
        r'^brainmap_cache_(hits|misses)_total\{cache="([^"]+)"\} ([.\deE+-]+)$', text, re.M
    ):
        hits, misses = found.get(cache, (0.0, 0.0))
        found[cache] = (
            (hits + float(value), misses) if kind == "hits" else (hits, misses + float(value))
        )
    return found


# -- measuring ----------------------------------------------------------------------------------


def measured(base: str, url: str, bench: Bench, lua: str | None) -> Result:
    """wrk on `url` (after one request, which must succeed); the requests and their work
    from the difference of /metrics over the warm-up and the run."""
    with urllib.request.urlopen(url, timeout=300) as response:
        response.read()
    before = metrics(base)
    rate, p50, p99 = wrk(url, bench.workdir, lua, duration=bench.duration, warmup=bench.warmup)
    after = metrics(base)
    requests = after["brainmap_http_requests_total"] - before["brainmap_http_requests_total"]
    work = {
        label: (after.get(name, 0.0) - before.get(name, 0.0)) * unit for label, name, unit in WORK
    }
    return Result(rate, p50, p99, requests, work)


def rma_path(query: str) -> str:
    """The RMA query's path as allensdk sends it (rma.fetch's encoding)."""
    return "/api/v2/data/query.json?q=" + quote(query, safe=";/?:@&=+$,")


def query_p50s(base: str, database: rma.Database, bench: Bench) -> list[tuple[float, float]]:
    """Each seed query's p50 served and the peer's (SQL + JSON), in ms, taking turns; the
    bodies must be equal."""
    port = int(base.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    ratios: list[tuple[float, float]] = []
    try:
        for case in rma.cases(bench.scale):
            if rma.fetch(connection, case.rma) != rma.peer_body(database.run, case.sql):
                raise RuntimeError(f"{case.name}: the server's body differs from the peer's")
            served, peer = rma.timed(
                (
                    lambda c=case: rma.fetch(connection, c.rma),
                    lambda c=case: rma.peer_body(database.run, c.sql),
                ),
                max(3, case.repeat * bench.repeats // 200),
            )
            ratios.append((rma.percentile(served, 0.5) * 1e3, rma.percentile(peer, 0.5) * 1e3))
    finally:
        connection.close()
    return ratios


# -- the run ------------------------------------------------------------------------------------


def build_stores(
    root: Path, scale: rma.Scale, cluster: Any, moto: MotoProcess
) -> list[Configuration]:
    """The stores of (1), copied into PostgreSQL and S3 for (2) and (3)."""
    start = time.perf_counter()
    sections = root / "sections"
    build_sections(sections)
    print(f"pyramids built in {time.perf_counter() - start:.0f} s", flush=True)
    start = time.perf_counter()
    queries = root / "rma"
    rma.build(queries, scale)
    sqlite = rma.sqlite_database(queries)
    postgres = rma.postgres_database(queries, cluster)
    print(f"RMA store: {scale.data_sets * scale.images_per_set:,} SectionImages, in SQLite and "
          f"PostgreSQL in {time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
    start = time.perf_counter()
    db, s3 = cluster.database("sections"), f"s3://{BUCKET}/sections"
    to = ["--to-store", str(root / "pg"), "--to-db", db, "--to-pixels", s3]
    subprocess.run(
        [sys.executable, "-c", COPY, "--store", str(sections), *to],
        check=True,
        env={**os.environ, **moto.environment()},
    )
    print(f"store copy to PostgreSQL + S3 in {time.perf_counter() - start:.0f} s", flush=True)
    rma_pg = (queries / "postgresql", postgres.url, None)
    rma_s3 = (queries / "postgresql", postgres.url, f"s3://{BUCKET}/rma")
    return [
        Configuration("(1) SQLite + disk", (sections, None, None), (queries, None, None), sqlite),
        Configuration("(2) PostgreSQL + disk", (root / "pg", db, str(sections)), rma_pg, postgres),
        *(
            Configuration(f"(3) PG + S3 {ms} ms", (root / "pg", db, s3), rma_s3, postgres, ms)
            for ms in (0, LATENCY_MS)
        ),
    ]


@dataclass(frozen=True)
class Row:
    """One configuration with a number of workers: each workload's best round, each seed
    query's p50 and its peer's (ms), the render server's (hits, misses) by cache."""

    results: dict[str, Result]
    queries: list[tuple[float, float]]
    caches: dict[str, tuple[float, float]]


def run(
    configurations: list[Configuration], workers: int, moto: MotoProcess, bench: Bench
) -> dict[str, Row]:
    """Every workload on every configuration with `workers` processes: every server started
    at once, each workload run on each in turn, `bench.rounds` times (every other round in
    the reverse order), so that other work on the machine falls on all of them alike."""
    environment = moto.environment()
    cases = rma.cases(bench.scale)
    lua = ROUND_ROBIN_LUA.format(paths=", ".join(f'"{rma_path(c.rma)}"' for c in cases))
    with ExitStack() as stack:
        servers = {
            c.name: (
                stack.enter_context(serving(c.sections, workers, environment)),
                stack.enter_context(serving(c.queries, workers, environment)),
            )
            for c in configurations
        }
        found: dict[tuple[str, str], list[Result]] = {}
        for turn in range(bench.rounds):
            for index in range(len(workloads("", ""))):
                for c in configurations[:: -1 if turn % 2 else 1]:
                    moto.latency(c.latency or 0)
                    sections, queries = servers[c.name]
                    name, url, _, script, _ = workloads(sections, "")[index]
                    found.setdefault((c.name, name[:3]), []).append(
                        measured(sections, url, bench, script)
                    )
            for c in configurations[:: -1 if turn % 2 else 1]:
                moto.latency(c.latency or 0)
                _, queries = servers[c.name]
                found.setdefault((c.name, "RMA"), []).append(
                    measured(queries, queries + rma_path(cases[0].rma), bench, lua)
                )
        rows = {}
        for c in configurations:
            moto.latency(c.latency or 0)
            sections, queries = servers[c.name]
            results = {kind: best(found[c.name, kind]) for kind in ("(a)", "(b)", "(c)", "RMA")}
            rows[c.name] = Row(
                results, query_p50s(queries, c.database, bench), cache_hits(sections)
            )
    return rows


def print_tables(rows: dict[tuple[str, int], Row], bench: Bench) -> None:
    """The workloads side by side, the work behind a request, the seed queries' p50s, and the
    target's ratios."""
    names = ("(a)", "(b)", "(c)", "RMA")
    print(f"\nbest of {bench.rounds} rounds of {bench.duration} s after {bench.warmup} s")
    print("| configuration | workers | " + " | ".join(
        f"{name} req/s | {name} p50 / p99 ms" for name in names) + " |")  # fmt: skip
    print("|---|---|" + "---|---|" * len(names))
    for (configuration, workers), row in rows.items():
        cells = " | ".join(
            f"{r.rate:.1f} | {r.p50:.1f} / {r.p99:.1f}"
            for r in (row.results[name] for name in names)
        )
        print(f"| {configuration} | {workers} | {cells} |")
    labels = [label for label, _, _ in WORK]
    print("\nwork a request (every round, warm-up and run, from /metrics): " + ", ".join(labels))
    print("| configuration | workers | " + " | ".join(names) + " | response cache hits |")
    print("|---|---|" + "---|" * (len(names) + 1))
    for (configuration, workers), row in rows.items():
        cells = " | ".join(
            " / ".join(f"{row.results[name].work[label]:.3g}" for label in labels) for name in names
        )
        hits, misses = row.caches.get("responses", (0.0, 0.0))
        print(f"| {configuration} | {workers} | {cells} | {hits:.0f} of {hits + misses:.0f} |")
    cases = rma.cases(bench.scale)
    print("\nRMA seed queries, p50 ms served (x the peer's SQL + JSON p50; target x5)")
    print("| configuration | workers | " + " | ".join(case.name for case in cases) + " |")
    print("|---|---|" + "---|" * len(cases))
    for (configuration, workers), row in rows.items():
        cells = " | ".join(f"{p50:.2f} (x{p50 / peer:.1f})" for p50, peer in row.queries)
        print(f"| {configuration} | {workers} | {cells} |")
    print(f"\ntarget: (3) at {LATENCY_MS} ms within x{TARGET:.0f} of (1) in req/s and p50")
    slow = f"(3) PG + S3 {LATENCY_MS} ms"
    for workers in WORKERS:
        for name in ("(a)", "(c)"):
            first = rows["(1) SQLite + disk", workers].results[name]
            third = rows[slow, workers].results[name]
            rate, p50 = first.rate / third.rate, third.p50 / first.p50
            verdict = "PASS" if max(rate, p50) <= TARGET else "FAIL"
            print(f"  {name} {workers} worker(s): req/s (1)/(3) x{rate:.2f}, "
                  f"p50 (3)/(1) x{p50:.2f}: {verdict}")  # fmt: skip


@dataclass(frozen=True)
class Bench:
    """The run's settings: the RMA store's scale, wrk's seconds (run, warm-up), the rounds,
    how many calls of each seed query per 200 `rma.Case.repeat` asks, and wrk's folder."""

    scale: rma.Scale
    duration: int
    warmup: int
    rounds: int
    repeats: int
    workdir: Path


def report(quick: bool) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install wrk")
    workdir = Path(tempfile.mkdtemp(prefix="brainmap-scale-"))
    bench = Bench(
        rma.Scale(data_sets=2_500 if quick else 25_000, images_per_set=40),
        *((2, 1, 1, 50) if quick else (5, 1, 2, 100)),
        workdir,
    )
    moto = MotoProcess()
    cluster = rma.start_postgres()
    try:
        os.environ.update(moto.environment())
        import fsspec

        fsspec.filesystem("s3", skip_instance_cache=True).mkdir(BUCKET)
        configurations = build_stores(workdir, bench.scale, cluster, moto)
        print(_load(), flush=True)
        rows: dict[tuple[str, int], Row] = {}
        for workers in WORKERS:
            started = time.perf_counter()
            for name, row in run(configurations, workers, moto, bench).items():
                rows[name, workers] = row
                summary = ", ".join(
                    f"{kind} {r.rate:.1f}/s p50 {r.p50:.1f} ms" for kind, r in row.results.items()
                )
                print(f"{name}, {workers} worker(s): {summary}", flush=True)
            seconds = time.perf_counter() - started
            print(f"{workers} worker(s) measured in {seconds:.0f} s; {_load()}", flush=True)
        print_tables(rows, bench)
        print(_load())
        for database in {c.database.name: c.database for c in configurations}.values():
            database.close()
    finally:
        cluster.stop()
        moto.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _load() -> str:
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the RMA rows, 2 s runs")
    report(parser.parse_args().quick)


if __name__ == "__main__":
    main()
