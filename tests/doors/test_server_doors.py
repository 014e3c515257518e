"""The server's doors against bad input: numbers in RMA queries that do not fit (every format),
a store that is not a store, a port that cannot be bound, and a database damaged while it is
served. Each MATRIX row gives the door, the input, the HTTP status or exit code and a fragment
of the one-line message, and checks that the store's files are byte for byte as they were.
After the matrix, a brute force sends every number that does not fit through every place an
RMA query can hold a number."""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from brainmap.cli import main
from brainmap.rma.numbers import LARGEST, SMALLEST
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store.folder import DATABASE_FILE, Store
from loopback import call, request
from rma_store import make_store

FORMATS = ["json", "xml", "csv"]
BIG = "9" * 23
HUGE = "9" * 5000
"""Beyond Python's own limit on turning text into an int."""


@dataclass(frozen=True)
class Served:
    """The module's server and the folder of the store it serves."""

    url: str
    root: Path


@dataclass
class Env:
    """What a row works with: its own folder, the module's server, the server log, and what
    to stop when the row ends."""

    tmp: Path
    shared: Served
    caplog: pytest.LogCaptureFixture
    stack: ExitStack


@dataclass(frozen=True)
class Outcome:
    code: int
    message: str


@dataclass(frozen=True)
class Door:
    door: str
    input: str
    code: int
    message: str
    setup: Callable[[Env], Path]
    """Prepares the row; returns the folder whose files must not change."""
    run: Callable[[Env], Outcome]


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every file under `folder` with its bytes (None for a folder). SQLite's shared-memory
    index (``-shm``) is left out: readers write their marks into it."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() if path.is_file() else None
        for path in sorted(folder.rglob("*"))
        if not path.name.endswith("-shm")
    }


def query_error(fmt: str, body: bytes) -> str:
    """The message of a complete `success: false` body in `fmt`; fails on anything else."""
    text = body.decode()
    if fmt == "json":
        reply = json.loads(text)
        assert reply["success"] is False
        message = str(reply["msg"])
    elif fmt == "xml":
        assert '<Response success="false"' in text and text.endswith("</msg></Response>")
        message = text.split("<msg>", 1)[1].removesuffix("</msg></Response>")
    else:
        assert text.endswith("\n") and text.count("\n") == 1
        message = text.strip()
    stage, _, reason = message.removeprefix("Error in query: ").rpartition(", ")
    assert message.startswith("Error in query: ") and stage and reason, message
    return message


# -- doors over HTTP: queries -------------------------------------------------------------


def shared_store(env: Env) -> Path:
    return env.shared.root


def get(target: str, fmt: str) -> Callable[[Env], Outcome]:
    """GET `target` (``{fmt}`` filled in, the query's value percent-encoded) on the module's
    server: a 200 must be a complete query error in `fmt`."""

    def run(env: Env) -> Outcome:
        path, _, query = target.format(fmt=fmt).partition("?")
        name, _, value = query.partition("=")
        status, _, body = call(env.shared.url, path, f"{name}={quote(value, safe='')}")
        return Outcome(status, query_error(fmt, body) if status == 200 else body.decode())

    return run


QUERY = "GET /api/v2/data/query.{fmt}"
RECORD = "GET /api/v2/data/{Model}/{id}.{fmt}"
LEGACY = "GET /api/v2/data/{Model}/query.{fmt}"
GRAPH = "GET /api/v2/structure_graph_download/{id}.{fmt}"
Q = "/api/v2/data/query.{fmt}?q="
QUERY_ROWS = [
    (QUERY, "start_row 10^23", Q + f"model::SectionImage,rma::options[start_row$eq{BIG}]",
     f"start_row {BIG}: integer out of range"),
    (QUERY, "num_rows 10^23", Q + f"model::SectionImage,rma::options[num_rows$eq{BIG}]",
     f"num_rows {BIG}: integer out of range"),
    (QUERY, "num_rows 1e999", Q + "model::SectionImage,rma::options[num_rows$eq1e999]",
     "num_rows must be a non-negative integer, not '1e999'"),
    (QUERY, "start_row -1", Q + "model::SectionImage,rma::options[start_row$eq-1]",
     "start_row must be a non-negative integer, not '-1'"),
    (QUERY, "criteria id 10^20", "/api/v2/data/query.{fmt}?criteria=model::SectionImage"
     "[id$eq99999999999999999999]", "for id: integer out of range"),
    (QUERY, "an id of 5000 digits in $in", Q + f"model::Gene[id$in1,{HUGE}]",
     "for id: integer out of range"),
    (QUERY, "nested criteria id 2^63", Q + "model::SectionDataSet,rma::criteria,"
     f"section_images[id$eq{LARGEST + 1}]", "for id: integer out of range"),
    (QUERY, "include filter id -2^63-1", Q + "model::SectionDataSet,rma::include,"
     f"section_images[id$eq{SMALLEST - 1}]", "for id: integer out of range"),
    (QUERY, "float nan", Q + "model::SectionImage[resolution$eqnan]",
     "for resolution: not a number"),
    (QUERY, "float 1e999", Q + "model::SectionImage[resolution$gt1e999]",
     "for resolution: number out of range"),
    (QUERY, "float -inf", Q + "model::SectionImage[resolution$lt-inf]",
     "for resolution: not a number"),
    (QUERY, "a syntax error", Q + "model::Gene,[", "expected"),
    (QUERY, "an unclosed quote", Q + "model::Gene[name$eq'abc]", "unterminated quoted string"),
    (RECORD, "id 10^23", f"/api/v2/data/SectionImage/{BIG}.{{fmt}}",
     "for id: integer out of range"),
    (RECORD, "id of 5000 digits", f"/api/v2/data/SectionImage/{HUGE}.{{fmt}}",
     "for id: integer out of range"),
    (LEGACY, "start_row=10^23", f"/api/v2/data/SectionImage/query.{{fmt}}?start_row={BIG}",
     f"start_row {BIG}: integer out of range"),
    (LEGACY, "criteria=[id$eq2^63]",
     f"/api/v2/data/SectionImage/query.{{fmt}}?criteria=[id$eq{LARGEST + 1}]",
     "for id: integer out of range"),
    (GRAPH, "id 10^23", f"/api/v2/structure_graph_download/{BIG}.{{fmt}}",
     "graph id: integer out of range"),
]  # fmt: skip


# -- doors of brainmap serve --------------------------------------------------------------


def store_folder(env: Env) -> Path:
    """A real store under the row's folder."""
    make_store(env.tmp / "store").close()
    return env.tmp / "store"


def db_of(env: Env) -> Path:
    return env.tmp / "store" / DATABASE_FILE


def not_a_store(make: Callable[[Path], None]) -> Callable[[Env], Path]:
    """A store folder whose database `make` writes (after removing the real one)."""

    def setup(env: Env) -> Path:
        folder = store_folder(env)
        db_of(env).unlink()
        make(db_of(env))
        return folder

    return setup


def write(content: bytes) -> Callable[[Path], None]:
    return lambda db: db.write_bytes(content)


def another_schema(db: Path) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE invoices (number INTEGER, total REAL)")
    connection.close()


def truncated(env: Env) -> Path:
    folder = store_folder(env)
    os.truncate(db_of(env), db_of(env).stat().st_size // 3)
    return folder


def serve(*args: str) -> Callable[[Env], Outcome]:
    """``brainmap serve --store STORE ARGS`` in this process; it must announce nothing."""

    def run(env: Env) -> Outcome:
        result = CliRunner().invoke(main, ["serve", "--store", str(env.tmp / "store"), *args])
        assert "serving" not in result.stdout and "Traceback" not in result.output
        lines = result.stderr.strip().splitlines()
        if lines[0].startswith("Usage: "):  # click's usage error: usage, hint, the error
            lines = [line for line in lines if line.startswith("Error: ")]
        assert len(lines) == 1, result.stderr
        return Outcome(result.exit_code, lines[0])

    return run


def port_in_use(env: Env) -> Path:
    """A store, and a port this test listens on, its number in the file ``port``."""
    listener = env.stack.enter_context(socket.socket())
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    (env.tmp / "port").write_text(str(listener.getsockname()[1]))
    return store_folder(env)


def serve_on_the_busy_port(*args: str) -> Callable[[Env], Outcome]:
    def run(env: Env) -> Outcome:
        return serve("--port", (env.tmp / "port").read_text(), *args)(env)

    return run


def privileged(env: Env) -> Path:
    if os.geteuid() == 0:
        pytest.skip("root may bind privileged ports")
    return store_folder(env)


SERVE = "brainmap serve --store"
PORT = "brainmap serve --port/--host"
SERVE_ROWS = [
    (SERVE, "a folder without brainmap.sqlite", not_a_store(lambda db: None),
     "brainmap.sqlite is not a brainmap store: no such file"),
    (SERVE, "an empty brainmap.sqlite", not_a_store(write(b"")), "empty file (0 bytes)"),
    (SERVE, "a text file", not_a_store(write(b"just some notes\n")),
     "not a SQLite database (a text file starting 'just some notes')"),
    (SERVE, "an HTML page", not_a_store(write(b"<!DOCTYPE html>\n<html><body>Sorry</body>")),
     "not a SQLite database (a text file starting '<!DOCTYPE html>')"),
    (SERVE, "random bytes", not_a_store(write(bytes(range(256)) * 64)),
     "not a SQLite database (no SQLite header)"),
    (SERVE, "a store cut to a third", truncated, "truncated ("),
    (SERVE, "a database of another program", not_a_store(another_schema),
     "it has none of brainmap's tables (its tables: invoices)"),
    (SERVE, "a folder named brainmap.sqlite", not_a_store(lambda db: db.mkdir()), "not a file"),
]  # fmt: skip
DB_ROWS = [
    (SERVE, "--db that is not a URL", "not a URL",
     "the database URL is not a brainmap store: cannot be opened (Could not parse"),
    (SERVE, "--db of a driver not installed", "nosuchdb://user:secret@localhost/x",
     "nosuchdb://user:***@localhost/x is not a brainmap store: cannot be opened (Can't load"),
    (SERVE, "--db naming a file that is not there", "sqlite:////nonexistent/x.db",
     "/nonexistent/x.db is not a brainmap store: no such file"),
]  # fmt: skip
PORT_ROWS = [
    (PORT, "--port 99999", store_folder, ("--port", "99999"), 2,
     "Invalid value for '--port': 99999 is not in the range 1<=x<=65535"),
    (PORT, "--port 0", store_folder, ("--port", "0"), 2, "is not in the range 1<=x<=65535"),
    (PORT, "--port -1", store_folder, ("--port", "-1"), 2, "is not in the range 1<=x<=65535"),
    (PORT, "--host not of this machine", store_folder, ("--host", "192.0.2.1", "--port", "8080"),
     2, "cannot listen on 192.0.2.1 port 8080: Cannot assign requested address"),
    (PORT, "--host unknown", store_folder, ("--host", "nosuch.invalid", "--port", "8080"), 2,
     "cannot listen on nosuch.invalid port 8080: "),
    (PORT, "--port 80 as a user", privileged, ("--port", "80"), 2,
     "cannot listen on 127.0.0.1 port 80: Permission denied (ports below 1024 usually need root)"),
]  # fmt: skip
BUSY_ROWS = [
    Door(PORT, "a port already in use", 2, "Address already in use", port_in_use,
         serve_on_the_busy_port()),
    Door(PORT, "a port already in use, --workers 2", 2, "Address already in use", port_in_use,
         serve_on_the_busy_port("--workers", "2")),
    Door(SERVE, "an empty brainmap.sqlite, --workers 2", 2, "empty file (0 bytes)",
         not_a_store(write(b"")), serve("--workers", "2")),
]  # fmt: skip


# -- doors over HTTP: a database damaged while served --------------------------------------


def served_then(damage: Callable[[Path], None]) -> Callable[[Env], Path]:
    """A store opened and served by a server of its own, then `damage`d in its folder."""

    def setup(env: Env) -> Path:
        folder = store_folder(env)
        server = BackgroundServer(create_app(Store.open(folder)))
        env.stack.enter_context(server)
        (env.tmp / "url").write_text(server.url)
        damage(db_of(env).parent)
        return folder

    return setup


def scribble(folder: Path) -> None:
    """Random bytes over the whole file, in place."""
    db = folder / DATABASE_FILE
    with db.open("r+b") as file:
        file.write(os.urandom(db.stat().st_size))


def cut(folder: Path) -> None:
    os.truncate(folder / DATABASE_FILE, 4096)


def replace_with_text(folder: Path) -> None:
    (folder / "new").write_text("not a database any more\n")
    os.replace(folder / "new", folder / DATABASE_FILE)


def remove(folder: Path) -> None:
    (folder / DATABASE_FILE).unlink()


def three_requests(target: str) -> Callable[[Env], Outcome]:
    """The same failing request three times: each a one-line JSON 503; one line logged."""

    def run(env: Env) -> Outcome:
        url = (env.tmp / "url").read_text()
        replies = [request(f"{url}{target}") for _ in range(3)]
        assert len({reply.status for reply in replies}) == 1
        for reply in replies:
            assert reply.content_type == "application/json" and b"\n" not in reply.body
            assert str(env.tmp) not in reply.text
        logged = [r.getMessage() for r in env.caplog.records if r.name == "brainmap.server.state"]
        assert len(logged) == 1 and str(db_of(env)) in logged[0], logged
        return Outcome(replies[0].status, replies[0].json()["msg"])

    return run


DAMAGED = "GET on a store damaged while served"
GENES = "/api/v2/data/query.json?q=model::SectionImage"
DAMAGE_ROWS = [
    (DAMAGED, "random bytes over the database", scribble, GENES,
     "the store's database (brainmap.sqlite) cannot be used: "),
    (DAMAGED, "database cut to 4 KiB", cut, "/api/v2/data/query.csv?q=model::Gene",
     "cannot be used: database disk image is malformed"),
    (DAMAGED, "database replaced by a text file", replace_with_text, GENES,
     "cannot be used: it was removed or replaced since it was opened"),
    (DAMAGED, "database removed", remove, GENES,
     "cannot be used: it was removed or replaced since it was opened"),
    (DAMAGED, "random bytes, an image request", scribble, "/api/v2/image_download/1001",
     "the store's database (brainmap.sqlite) cannot be used: "),
    (DAMAGED, "random bytes, IIIF info.json", scribble, "/iiif/3/1001/info.json",
     "the store's database (brainmap.sqlite) cannot be used: "),
]  # fmt: skip


MATRIX: list[Door] = [
    *(
        Door(door, f"{given}, {fmt}", 200, message, shared_store, get(target, fmt))
        for door, given, target, message in QUERY_ROWS
        for fmt in FORMATS
    ),
    *(Door(door, given, 2, message, setup, serve()) for door, given, setup, message in SERVE_ROWS),
    *(Door(door, given, 2, message, store_folder, serve("--db", url))
      for door, given, url, message in DB_ROWS),
    *(Door(door, given, code, message, setup, serve(*args))
      for door, given, setup, args, code, message in PORT_ROWS),
    *BUSY_ROWS,
    *(Door(door, given, 503, message, served_then(damage), three_requests(target))
      for door, given, damage, target, message in DAMAGE_ROWS),
]  # fmt: skip


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("doors-store")
    make_store(root).close()
    store = Store.open(root)
    with BackgroundServer(create_app(store)) as server:
        yield Served(server.url, root)
    store.close()


@pytest.fixture()
def server_log() -> Iterator[list[logging.LogRecord]]:
    """What uvicorn logs as warnings or errors (an exception in the app: its traceback) while
    the test runs. A server started in the test resets uvicorn's loggers, and this with them."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


@pytest.mark.parametrize("door", MATRIX, ids=[f"{row.door}: {row.input}" for row in MATRIX])
def test_server_door(
    door: Door,
    tmp_path: Path,
    shared: Served,
    server_log: list[logging.LogRecord],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with ExitStack() as stack:
        env = Env(tmp_path, shared, caplog, stack)
        folder = door.setup(env)
        before = tree(folder)
        outcome = door.run(env)
        assert (outcome.code, door.message in outcome.message) == (door.code, True), outcome
        assert "\n" not in outcome.message.strip()
        assert tree(folder) == before
    if door.code != 503:
        assert server_log == []


# -- brute force: every slot of a number, every number that does not fit ------------------

NOT_INTEGERS = [
    str(LARGEST + 1),
    str(SMALLEST - 1),
    BIG,
    HUGE,
    "1e999",
    "-1e999",
    "1e3",
    "1.5",
    "nan",
    "inf",
    "-Infinity",
]
NOT_COUNTS = [*NOT_INTEGERS, "-1", str(SMALLEST)]
NOT_FLOATS = ["9" * 400, "1e999", "-1e999", "nan", "NaN", "inf", "-inf", "Infinity"]
SLOT_LEGACY = "/api/v2/data/SectionImage/query.{fmt}?"
INTEGER_SLOTS = [
    Q + "model::SectionImage[id$eq{n}]",
    Q + "model::SectionImage[id$eq'{n}']",
    Q + "model::SectionImage[id$in1,{n}]",
    Q + "model::SectionImage[id$ne{n}]",
    Q + "model::SectionDataSet,rma::criteria,section_images[section_number$gt{n}]",
    Q + "model::SectionDataSet,rma::criteria,products(data_sets[id$eq{n}])",
    Q + "model::SectionDataSet,rma::include,section_images[id$eq{n}]",
    Q + "model::Gene,pipe::list[ids$is'id'],model::Gene[id$in$ids][id$lt{n}]",
    Q + "model::Gene[id$eq1],model::Gene[id$eq{n}]",
    SLOT_LEGACY + "criteria=[id$eq{n}]",
    SLOT_LEGACY + "include=section_data_set[id$eq{n}]",
]
COUNT_SLOTS = [
    Q + "model::SectionImage,rma::options[start_row$eq{n}]",
    Q + "model::SectionImage,rma::options[num_rows$eq{n}]",
    Q + "model::SectionImage,rma::options[tabular$eq'id'][start_row$eq{n}]",
    Q + "model::SectionImage,rma::options[tabular$eq'id'][num_rows$eq{n}]",
    Q + "model::Gene,rma::options[start_row$eq'{n}'],pipe::list[ids$is'id'],model::Gene",
    SLOT_LEGACY + "start_row={n}",
    SLOT_LEGACY + "num_rows={n}",
]
FLOAT_SLOTS = [
    Q + "model::SectionImage[resolution$eq{n}]",
    Q + "model::SectionDataSet,rma::criteria,section_images(alignment2d[tsv_00$lt{n}])",
    Q + "model::SectionDataSet[section_thickness$in1,{n}]",
]
PATH_SLOTS = [
    "/api/v2/data/SectionImage/{n}.{fmt}",
    "/api/v2/data/SectionImage/{n}.{fmt}?include=section_data_set",
    "/api/v2/structure_graph_download/{n}.{fmt}",
]
PATH_NUMBERS = [str(LARGEST + 1), BIG, HUGE]
CASES = [
    *((slot, n) for slot in INTEGER_SLOTS for n in NOT_INTEGERS),
    *((slot, n) for slot in COUNT_SLOTS for n in NOT_COUNTS),
    *((slot, n) for slot in FLOAT_SLOTS for n in NOT_FLOATS),
    *((slot, n) for slot in PATH_SLOTS for n in PATH_NUMBERS),
]
FITTING = [
    *((slot, n) for slot in INTEGER_SLOTS for n in (str(LARGEST), str(SMALLEST))),
    *((slot, str(LARGEST)) for slot in COUNT_SLOTS),
    *((slot, "1e308") for slot in FLOAT_SLOTS),
    *((slot, str(LARGEST)) for slot in PATH_SLOTS),
]


def in_slot(server: str, slot: str, number: str, fmt: str) -> tuple[int, bytes]:
    """GET `slot` with `number` in it; the query's value percent-encoded."""
    path, _, query = slot.format(n=number, fmt=fmt).partition("?")
    name, _, value = query.partition("=")
    status, _, body = call(server, path, f"{name}={quote(value, safe='')}" if query else "")
    return status, body


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("slot", "number"), CASES, ids=lambda value: str(value)[:40])
def test_a_number_that_does_not_fit_is_a_query_error(
    shared: Served, server_log: list[logging.LogRecord], slot: str, number: str, fmt: str
) -> None:
    status, body = in_slot(shared.url, slot, number, fmt)
    assert status == 200
    message = query_error(fmt, body)
    assert number[:40] in message or "out of range" in message or "not an integer" in message
    assert server_log == []


@pytest.mark.parametrize(("slot", "number"), FITTING, ids=lambda value: str(value)[:40])
def test_a_number_that_just_fits_is_answered(
    shared: Served, server_log: list[logging.LogRecord], slot: str, number: str
) -> None:
    status, body = in_slot(shared.url, slot, number, "json")
    assert status == 200
    reply = json.loads(body)
    assert reply["success"] is True, reply["msg"]
    assert server_log == []


@settings(max_examples=150, deadline=None)
@given(
    number=st.integers(-(10**40), 10**40) | st.sampled_from([LARGEST, SMALLEST, -1, 0]),
    slot=st.sampled_from(INTEGER_SLOTS + COUNT_SLOTS),
)
def test_any_integer_is_answered_exactly_when_it_fits(
    shared: Served, number: int, slot: str
) -> None:
    status, body = in_slot(shared.url, slot, str(number), "json")
    assert status == 200
    if SMALLEST <= number <= LARGEST and (slot in INTEGER_SLOTS or number >= 0):
        assert json.loads(body)["success"] is True
    else:
        query_error("json", body)
