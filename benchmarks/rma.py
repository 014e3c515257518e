"""RMA over HTTP at scale: the seed's four queries against a `brainmap serve` subprocess.

Builds a store with 1,000,000 SectionImages in 25,000 SectionDataSets over 64 products (plus one
atlas of 500 plates) in a temporary folder (SQLite; for PostgreSQL the same rows are copied into a
throw-away cluster, tests/postgres.py), serves it from a separate process (so the load generator
does not share its GIL), and reports p50/p99 per query. The peer, measured in the same run on the
same database, is hand-written SQL giving the same rows, fetched by the database's own driver
(sqlite3, psycopg) and encoded as the same JSON envelope with `json`: the answer's floor in
Python. Its body must equal the server's byte for byte. Target (issue 14): p50 within 5x of the
peer's for each query, on each database (the server's CPU time a query is printed too: p50s
move when other work shares the machine); `get_section_data_sets_by_product` ('all' over 25,000
rows) streams with the server's memory flat.

Run: ``.venv/bin/python benchmarks/rma.py`` (``--quick`` for a tenth of the rows, ``--db sqlite``
or ``--db postgresql`` for one database; both by default when psycopg is installed).
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from brainmap.store.folder import DATABASE_FILE, Store
from brainmap.store.schema import Base

PRODUCTS = 64
ATLAS_PLATES = 500
TARGET = 5.0
"""The most the server's p50 may be over the peer's (issue 14)."""
SECTION_COLUMNS = (
    "id, type, annotated, axes, bits_per_component, data_set_id, expression, expression_path, "
    "failed, height, image_height, image_type, image_width, isi_experiment_id, lims1_id, "
    "number_of_components, ophys_experiment_id, path, projection_function, resolution, "
    "section_number, specimen_id, structure_id, tier_count, width, x, y"
)
DATA_SET_COLUMNS = (
    "id, type, blue_channel, delegate, expression, failed, failed_facet, green_channel, name, "
    "plane_of_section_id, qc_date, red_channel, reference_space_id, rnaseq_design_id, "
    "section_thickness, specimen_id, sphinx_id, storage_directory, weight"
)


@dataclass(frozen=True)
class Scale:
    data_sets: int
    images_per_set: int

    @property
    def first_image(self) -> int:
        return 10_000_000

    def image_id(self, data_set: int, section: int) -> int:
        return self.first_image + (data_set - 1) * self.images_per_set + section


# -- the store ---------------------------------------------------------------------------------


def build(root: Path, scale: Scale) -> None:
    """Tables and indexes from the models, rows by sqlite3 executemany in one transaction."""
    Store.create(root).close()
    db = sqlite3.connect(root / DATABASE_FILE)
    db.execute("PRAGMA synchronous=OFF")
    with db:
        db.executemany(
            "INSERT INTO products (id, name, abbreviation) VALUES (?, ?, ?)",
            ((p, f"Product {p}", f"P{p}") for p in range(1, PRODUCTS + 1)),
        )
        db.executemany(
            f"INSERT INTO data_sets ({DATA_SET_COLUMNS}) VALUES ({_marks(DATA_SET_COLUMNS)})",
            (_data_set(d) for d in range(1, scale.data_sets + 1)),
        )
        db.executemany(
            "INSERT INTO data_sets_products (data_set_id, product_id) VALUES (?, ?)",
            _memberships(scale.data_sets),
        )
        db.executemany(
            "INSERT INTO equalizations (id, section_data_set_id, red_lower, red_upper,"
            " green_lower, green_upper, blue_lower, blue_upper) VALUES (?, ?, 0, ?, 0, ?, 0, 4095)",
            ((d, d, 800 + d % 200, 900 + d % 300) for d in range(1, scale.data_sets + 1)),
        )
        db.executemany(
            f"INSERT INTO sub_images ({SECTION_COLUMNS}) VALUES ({_marks(SECTION_COLUMNS)})",
            _section_images(scale),
        )
        _atlas(db, scale)
    db.execute("ANALYZE")
    db.close()


def _marks(columns: str) -> str:
    return ", ".join("?" for _ in columns.split(","))


def _data_set(d: int) -> tuple[object, ...]:
    return (d, "SectionDataSet", None, False, False, False, 734881840, None, None, 1 + d % 2,
            None, None, 9 + d % 2, None, 25.0, 700000 + d, 100000 + d,
            f"/external/mouse/prod1/image_series_{d}/", 5000 + d % 500)  # fmt: skip


def _memberships(data_sets: int) -> Iterator[tuple[int, int]]:
    """Every data set is in product 10 or 22 (so the seed query returns them all) and one more."""
    for d in range(1, data_sets + 1):
        seed = 10 if d % 2 else 22
        other = 1 + d % PRODUCTS
        yield (d, seed)
        if other != seed:
            yield (d, other)


def _section_images(scale: Scale) -> Iterator[tuple[object, ...]]:
    for d in range(1, scale.data_sets + 1):
        for section in range(scale.images_per_set):
            image = scale.image_id(d, section)
            yield (image, "SectionImage", False, None, 8, d, None, None, False, 7000, 7100,
                   "Primary", 11000, None, None, 3, None, f"pyramids/{image}.tif", None, 1.049,
                   section * 4, None, None, 7, 10900, 50, 50)  # fmt: skip


def _atlas(db: sqlite3.Connection, scale: Scale) -> None:
    """Atlas 1 over one AtlasDataSet; every other plate annotated, with its label map."""
    atlas_set = scale.data_sets + 1
    db.execute(
        "INSERT INTO data_sets (id, type, delegate, expression, failed)"
        " VALUES (?, 'AtlasDataSet', 0, 0, 0)",
        (atlas_set,),
    )
    db.execute(
        "INSERT INTO atlases (id, atlas_data_set_id, name, image_type)"
        " VALUES (1, ?, 'Mouse, P56, Coronal', 'Atlas - Adult Mouse')",
        (atlas_set,),
    )
    first = scale.first_image + scale.data_sets * scale.images_per_set
    plates = [(first + i, i) for i in range(ATLAS_PLATES)]
    db.executemany(
        "INSERT INTO sub_images (id, type, annotated, data_set_id, failed, height, image_height,"
        " image_type, image_width, path, section_number, tier_count, width, x, y)"
        " VALUES (?, 'AtlasImage', ?, ?, 0, 8000, 8000, 'Primary', 11000, 'p.tif', ?, 7, 11000,"
        " 0, 0)",
        ((plate, i % 2 == 0, atlas_set, ATLAS_PLATES - i) for plate, i in plates),
    )
    db.executemany(
        "INSERT INTO alternate_images (id, image_type, path, sub_image_id, atlas_id)"
        " VALUES (?, 'Atlas - Adult Mouse', 'a.tif', ?, 1)",
        ((i + 1, plate) for plate, i in plates if i % 2 == 0),
    )


# -- the queries and their floor ----------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    rma: str
    sql: str
    repeat: int


def _fields(columns: str) -> str:
    """The columns a record shows (`type` is hidden), alphabetical as the JSON keys are."""
    return ", ".join(sorted(name.strip() for name in columns.split(",") if name.strip() != "type"))


def cases(scale: Scale) -> list[Case]:
    """The four ImageDownloadApi queries of docs/allen-api.md §2.4 and hand-written SQL giving
    the same rows, in the same order, with the columns of the same records."""
    middle = scale.data_sets // 2
    images = (scale.image_id(middle, 3), scale.image_id(middle + 7, 5))
    image_fields = _fields(SECTION_COLUMNS)
    return [
        Case(
            "section_image_query",
            f"model::SectionImage,rma::criteria,[data_set_id$eq{middle}],"
            "rma::options[num_rows$eq'all'][count$eqfalse]",
            f"SELECT {image_fields} FROM sub_images WHERE data_set_id = {middle}"
            " AND type = 'SectionImage' ORDER BY id",
            200,
        ),
        Case(
            "get_section_image_ranges",
            "model::Equalization,rma::criteria,section_data_set(section_images[id$in"
            f"{images[0]},{images[1]}]),rma::options[only$eq'blue_lower,blue_upper,red_lower,"
            "red_upper,green_lower,green_upper'][num_rows$eq'all'][count$eqfalse]",
            "SELECT e.blue_lower, e.blue_upper, e.green_lower, e.green_upper, e.red_lower,"
            " e.red_upper FROM equalizations e WHERE e.section_data_set_id IN (SELECT"
            f" data_set_id FROM sub_images WHERE id IN {images} AND type = 'SectionImage')"
            " ORDER BY e.id",
            200,
        ),
        Case(
            "atlas_image_query",
            "model::Atlas,rma::criteria,[id$eq1],rma::options[only$eqimage_type],"
            "pipe::list[type_name$is'image_type'],model::AtlasImage,rma::criteria,"
            "[annotated$eqtrue],atlas_data_set(atlases[id$eq1]),"
            "alternate_images[image_type$eq$type_name],"
            "rma::options[num_rows$eq'all'][order$eqsub_images.section_number]",
            f"SELECT {image_fields} FROM sub_images s WHERE s.type = 'AtlasImage'"
            " AND s.annotated = TRUE AND s.data_set_id IN (SELECT atlas_data_set_id FROM atlases"
            " WHERE id = 1) AND EXISTS (SELECT 1 FROM alternate_images a WHERE a.sub_image_id ="
            " s.id AND a.image_type = (SELECT image_type FROM atlases WHERE id = 1))"
            " ORDER BY s.section_number, s.id",
            100,
        ),
        Case(
            "get_section_data_sets_by_product",
            "model::SectionDataSet,rma::criteria,[failed$in'false'],products[id$in10,22],"
            "rma::options[num_rows$eq'all'][count$eqfalse]",
            f"SELECT {_fields(DATA_SET_COLUMNS)} FROM data_sets d WHERE d.type = 'SectionDataSet'"
            " AND d.failed = FALSE AND EXISTS (SELECT 1 FROM data_sets_products p WHERE"
            " p.data_set_id = d.id AND p.product_id IN (10, 22)) ORDER BY d.id",
            7,
        ),
    ]


Cursor = Callable[[str], tuple[list[str], list[tuple[object, ...]]]]
"""Run SQL: the column names and every row."""


def peer_body(run: Cursor, sql: str) -> bytes:
    """The floor: the SQL's rows as the server's JSON envelope (formats.json_chunks' bytes)."""
    names, rows = run(sql)
    records = json.dumps(
        [dict(zip(names, row, strict=True)) for row in rows],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    envelope = {"success": True, "id": 0, "start_row": 0, "num_rows": len(rows)}
    head = json.dumps({**envelope, "total_rows": len(rows)})
    return f'{head[:-1]}, "msg": {records}}}'.encode()


# -- the databases ------------------------------------------------------------------------------


@dataclass
class Database:
    """A store's database as the server opens it (`--db`, None: the SQLite file) and the
    peer's cursor on it."""

    name: str
    url: str | None
    run: Cursor
    close: Callable[[], None]


def sqlite_database(root: Path) -> Database:
    """The store's own SQLite file; booleans read as bool, as the server writes them."""
    sqlite3.register_converter("BOOLEAN", lambda text: text != b"0")
    connection = sqlite3.connect(root / DATABASE_FILE, detect_types=sqlite3.PARSE_DECLTYPES)

    def run(sql: str) -> tuple[list[str], list[tuple[object, ...]]]:
        cursor = connection.execute(sql)
        return [column[0] for column in cursor.description], cursor.fetchall()

    return Database("sqlite", None, run, connection.close)


def postgres_database(root: Path, cluster: Any) -> Database:
    """The SQLite store's rows copied into a new database of `cluster` (COPY per table)."""
    import psycopg

    url = cluster.database("bench")
    Store.create(root / "postgresql", url).close()
    conninfo = url.replace("+psycopg", "")
    source = sqlite3.connect(root / DATABASE_FILE)
    with psycopg.connect(conninfo) as target:
        for table in Base.metadata.sorted_tables:
            names = ", ".join(column.name for column in table.columns)
            rows = source.execute(f"SELECT {names} FROM {table.name}")
            with target.cursor().copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    source.close()
    with psycopg.connect(conninfo, autocommit=True) as target:
        target.execute("VACUUM ANALYZE")
    connection = psycopg.connect(conninfo, autocommit=True)

    def run(sql: str) -> tuple[list[str], list[tuple[object, ...]]]:
        cursor = connection.execute(sql)
        assert cursor.description is not None
        return [column.name for column in cursor.description], cursor.fetchall()

    return Database("postgresql", url, run, connection.close)


def start_postgres() -> Any:
    """A throw-away cluster from the test suite's helper (tests/postgres.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from postgres import start_cluster

    return start_cluster()


# -- measuring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One query on one database: the server's and the peer's seconds per call."""

    rows: int
    served: list[float]
    peer: list[float]

    @property
    def ratio(self) -> float:
        return percentile(self.served, 0.5) / percentile(self.peer, 0.5)


def timed(actions: tuple[Callable[[], object], ...], repeat: int) -> list[list[float]]:
    """Seconds per call of each action, after one warm-up call each; the actions take turns,
    so that a machine busy with other work slows each of them alike."""
    times: list[list[float]] = [[] for _ in actions]
    for action in actions:
        action()
    for _ in range(repeat):
        for action, seconds in zip(actions, times, strict=True):
            start = time.perf_counter()
            action()
            seconds.append(time.perf_counter() - start)
    return times


def percentile(times: list[float], fraction: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def fetch(connection: http.client.HTTPConnection, rma: str) -> bytes:
    """One query over the kept-alive connection, as allensdk encodes it: the body."""
    connection.request("GET", "/api/v2/data/query.json?q=" + quote(rma, safe=";/?:@&=+$,"))
    return connection.getresponse().read()


def memory(pid: int) -> dict[str, int]:
    """The server's resident memory now and its high-water mark, in KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {key: int(fields[key].split()[0]) for key in ("VmRSS", "VmHWM")}


def cpu_seconds(pid: int) -> float:
    """The CPU time the process has used (user and system), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(root: Path, url: str | None, port: int) -> subprocess.Popen[bytes]:
    """`brainmap serve` in its own process, once it answers."""
    command = [str(Path(sys.executable).with_name("brainmap")), "serve", "--store", str(root)]
    command += ["--db", url] if url else []
    server = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def measure(root: Path, database: Database, scale: Scale) -> dict[str, Measured]:
    """Every case over HTTP and by the peer, alternately, on one database."""
    results = {}
    server = serve(root, database.url, port := free_port())
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        print(f"{database.name}:")
        print(f"  {'query':34} {'rows':>6} {'p50 ms':>9} {'p99 ms':>9} {'peer p50':>9} ratio")
        for case in cases(scale):
            served_body, peer_body_ = fetch(connection, case.rma), peer_body(database.run, case.sql)
            if served_body != peer_body_:
                raise RuntimeError(f"{case.name}: the server's body differs from the peer's")
            before, cpu = memory(server.pid), cpu_seconds(server.pid)
            served, peer = timed(
                (
                    lambda c=case: fetch(connection, c.rma),
                    lambda c=case: peer_body(database.run, c.sql),
                ),
                case.repeat,
            )
            cpu = (cpu_seconds(server.pid) - cpu) / case.repeat
            after = memory(server.pid)
            found = Measured(len(json.loads(served_body)["msg"]), served, peer)
            results[case.name] = found
            print(f"  {case.name:34} {found.rows:>6} {percentile(served, 0.5) * 1e3:9.2f} "
                  f"{percentile(served, 0.99) * 1e3:9.2f} {percentile(peer, 0.5) * 1e3:9.2f} "
                  f"x{found.ratio:.1f}")  # fmt: skip
            print(f"  {'':34} server CPU {cpu * 1e3:.2f} ms a query; "
                  f"RSS {before['VmRSS'] // 1024} MiB -> "
                  f"{after['VmRSS'] // 1024} MiB, high-water {before['VmHWM'] // 1024} -> "
                  f"{after['VmHWM'] // 1024} MiB")  # fmt: skip
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def summary(results: dict[str, dict[str, Measured]]) -> None:
    """p50 over the peer's p50 per query and database, against the 5x target."""
    print(f"\nratio p50(server) / p50(SQL + JSON), target <= x{TARGET:.0f}")
    print(f"  {'query':34}" + "".join(f" {name:>14}" for name in results))
    for name in next(iter(results.values())):
        cells = ""
        for measured in results.values():
            ratio = measured[name].ratio
            cells += f" {f'x{ratio:.1f} ' + ('ok' if ratio <= TARGET else 'OVER'):>14}"
        print(f"  {name:34}{cells}")


def report(scale: Scale, databases: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="brainmap-bench-") as folder:
        root = Path(folder)
        start = time.perf_counter()
        build(root, scale)
        images = scale.data_sets * scale.images_per_set
        print(f"store: {images:,} SectionImages, {scale.data_sets:,} SectionDataSets, "
              f"{PRODUCTS} products; built in {time.perf_counter() - start:.1f} s")  # fmt: skip
        results: dict[str, dict[str, Measured]] = {}
        if "sqlite" in databases:
            database = sqlite_database(root)
            try:
                results["sqlite"] = measure(root, database, scale)
            finally:
                database.close()
        if "postgresql" in databases:
            cluster = start_postgres()
            try:
                start = time.perf_counter()
                database = postgres_database(root, cluster)
                print(f"PostgreSQL: copied in {time.perf_counter() - start:.1f} s")
                try:
                    results["postgresql"] = measure(root, database, scale)
                finally:
                    database.close()
            finally:
                cluster.stop()
        summary(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the rows")
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgresql", "both"),
        default="both" if importlib.util.find_spec("psycopg") else "sqlite",
        help="the databases to serve from (default: both when psycopg is installed)",
    )
    arguments = parser.parse_args()
    databases = ["sqlite", "postgresql"] if arguments.db == "both" else [arguments.db]
    report(Scale(data_sets=2_500 if arguments.quick else 25_000, images_per_set=40), databases)


if __name__ == "__main__":
    main()
