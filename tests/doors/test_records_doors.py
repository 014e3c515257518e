"""The bad-input matrix of ``brainmap import``: each file a user might hand it by mistake, the
exit code, the one-line message naming the file and what is wrong, and a store (and every file
around it) left exactly as it was."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from brainmap.cli import main

Make = Callable[[Path], list[str]]
"""Writes an input under a folder; the arguments that follow ``import --store STORE``."""


def file(name: str, content: str | bytes) -> Make:
    def make(folder: Path) -> list[str]:
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return [str(path)]

    return make


def files(*makers: Make) -> Make:
    return lambda folder: [arg for make in makers for arg in make(folder)]


def with_options(options: list[str], make: Make) -> Make:
    return lambda folder: [*options, *make(folder)]


def a_socket(folder: Path) -> list[str]:
    """A Unix socket: it exists and is no folder, but nobody, root included, can read it."""
    path = folder / "s.json"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()
    return [str(path)]


def no_permission(folder: Path) -> list[str]:
    [path] = file("locked.json", json.dumps([{"id": 1, "name": "coronal"}]))(folder)
    Path(path).chmod(0)
    return [path]


def a_folder(folder: Path) -> list[str]:
    (folder / "records.json").mkdir()
    return [str(folder / "records.json")]


def store_under_a_file(folder: Path) -> list[str]:
    (folder / "plain").write_text("not a folder")
    return ["--store", str(folder / "plain" / "store"), *file("ok.json", PLANES)(folder)]


def store_not_a_database(folder: Path) -> list[str]:
    (folder / "other").mkdir()
    (folder / "other" / "brainmap.sqlite").write_text("id,name\n1,coronal\n")
    return ["--store", str(folder / "other"), *file("ok.json", PLANES)(folder)]


def xml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def envelope(msg: object, success: bool = True) -> str:
    return json.dumps({"success": success, "id": 0, "start_row": 0, "num_rows": 0,
                       "total_rows": 0, "msg": msg})  # fmt: skip


PLANES = json.dumps(
    [
        {"id": 1, "name": "coronal", "plane_of_section_name_facet": 1147990476},
        {"id": 2, "name": "sagittal", "plane_of_section_name_facet": 1688773703},
    ]
)
IMAGE = {"id": 5, "data_set_id": 123, "height": 10, "width": 10, "image_height": 10,
         "image_width": 10, "path": "pyramids/x.tif", "tier_count": 1}  # fmt: skip
HTML = "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body></body></html>\n"
CSV_HEADER = "id,name,plane_of_section_name_facet\n"
RAILS_HEAD = '<section-data-set><id type="integer">123</id>'


@dataclass(frozen=True)
class Door:
    """One matrix row: the input, how to make it, the exit code, a fragment of the message."""

    input: str
    make: Make
    code: int
    message: str
    marks: tuple[pytest.MarkDecorator, ...] = field(default=())


MATRIX = [
    Door("an HTML page named .json", file("page.json", HTML), 1,
         "page.json: an HTML page, not Allen records"),
    Door("an XHTML page named .xml", file("page.xml", xml(
         '<html xmlns="http://www.w3.org/1999/xhtml"><body>Sorry</body></html>')), 1,
         "page.xml: an HTML page, not Allen records"),
    Door("the body of an HTML page", file("body.json", "<body><p>Service unavailable</p>\n"), 1,
         "body.json: an HTML page, not Allen records"),
    Door("one line of text named .json", file("note.json", "Not Found\n"), 1,
         "note.json: neither JSON, XML nor CSV with a header naming an id column"),
    Door("an empty file", file("empty.json", ""), 1, "empty.json: empty"),
    Door("only white space", file("blank.xml", " \n\t\n"), 1, "blank.xml: empty"),
    Door("binary junk", file("junk.json", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"), 1,
         "junk.json: binary data, not Allen records"),
    Door("truncated JSON", file("cut.json", envelope([{"id": 1, "name": "coronal"}])[:60]), 1,
         "cut.json: not valid JSON (truncated or damaged)"),
    Door("truncated XML", file("cut.xml", xml(f"{RAILS_HEAD}<weight type=")), 1,
         "cut.xml: not valid XML (truncated or damaged)"),
    Door("XML of an unknown model", file("odd.xml", xml(
         '<mystery><id type="integer">1</id></mystery>')), 1,
         "odd.xml: XML of a record <mystery>, no known model; name one with --model"),
    Door("XML whose root holds only text", file("note.xml", xml("<note>hello</note>")), 1,
         "note.xml: XML whose root <note> is neither a record nor a <Response>"),
    Door("JSON envelope, success false", file("fail.json", envelope(
         "Error in query: model::Nope, unknown model", success=False)), 1,
         "fail.json: success: false: Error in query: model::Nope"),
    Door("XML envelope, success false", file("fail.xml", xml(
         '<Response success="false" id="0"><msg>Error in query: x</msg></Response>')), 1,
         "fail.xml: success: false: Error in query: x"),
    Door("XML envelope with two collections", file("two.xml", xml(
         '<Response success="true"><genes/><products/></Response>')), 1,
         "two.xml: a <Response> holding 2 collection elements"),
    Door("JSON envelope, msg []", file("none.json", envelope([])), 1,
         "none.json: holds no records (an empty result)"),
    Door("JSON envelope, msg {} (a service's empty result)", file("none.json", envelope({})), 1,
         "none.json: holds no records"),
    Door("bare JSON list, empty", file("none.json", "[]"), 1, "none.json: holds no records"),
    Door("XML envelope, empty collection", file("none.xml", xml(
         '<Response success="true"><section-images type="array"/></Response>')), 1,
         "none.xml: holds no records"),
    Door("CSV header, no rows", file("none.csv", CSV_HEADER), 1, "none.csv: holds no records"),
    Door("JSON envelope, msg a string", file("text.json", envelope("done")), 1,
         "text.json: an envelope whose msg is not a list of records: 'done'"),
    Door("a JSON number", file("n.json", "42\n"), 1,
         "n.json: JSON but not a list of records or an envelope (a JSON number)"),
    Door("a JSON object with no id", file("o.json", '{"error": "x"}'), 1,
         "o.json: JSON but not a list of records or an envelope (an object with no id)"),
    Door("a JSON list of numbers", file("l.json", "[1, 2]"), 1,
         "l.json, record 0: is not a JSON object"),
    Door("CSV with no header row", file("rows.csv", "1,coronal,7\n2,sagittal,8\n"), 1,
         "rows.csv: neither JSON, XML nor CSV with a header naming an id column"),
    Door("CSV with a short row", file("short.csv", f"{CSV_HEADER}1,coronal,7\n2,sagittal\n"),
         1, "short.csv, record 1: has 2 fields, the header 3"),
    Door("CSV with an over-long field", file("huge.csv", "id,name\n1," + "a" * 200_000 + "\n"),
         1, "huge.csv: not readable CSV: field larger than field limit"),
    Door("JSON nested too deeply", file("deep.json", "[" * 100_000 + "]" * 100_000), 1,
         "deep.json: nested too deeply to be Allen records"),
    Door("XML nested too deeply", file("deep.xml", "<a>" * 100_000 + "</a>" * 100_000), 1,
         "deep.xml: nested too deeply to be Allen records"),
    Door("an id past 64 bits", with_options(["--model", "PlaneOfSection"],
         file("huge.json", '[{"id": 1' + "0" * 30 + ', "name": "x"}]')), 1,
         "huge.json, record 0 (id 1" + "0" * 30 + "): field id: 1" + "0" * 30 + " is out of"),
    Door("CSV naming a column twice", file("twice.csv", "id,name,name\n1,a,b\n"), 1,
         "twice.csv: a CSV header that names a column twice"),
    Door("a record missing its id", file("noid.json", json.dumps(
         [IMAGE, {**IMAGE, "id": None}])), 1, "noid.json, record 1: has no id"),
    Door("a record that fits several models", file("fits.json", json.dumps(
         [{"id": 1, "name": "coronal"}])), 1,
         "fits.json, record 0 (id 1): fits Age, Atlas, "),
    Door("a record of an id only", file("bare.json", '[{"id": 1}]'), 1,
         "bare.json, record 0 (id 1): matches no model; name one with --model"),
    Door("a record missing its id, --model given", with_options(["--model", "PlaneOfSection"],
         file("noid.json", json.dumps([{"name": "sagittal"}]))), 1,
         "noid.json, record 0: has no id"),
    Door("a bad value in the middle of a file", file("bad.json", envelope(
         [IMAGE, {**IMAGE, "id": 6, "height": "tall"}, {**IMAGE, "id": 7}])), 1,
         "bad.json, record 1 (id 6): field height: expected int, got 'tall'"),
    Door("a bad typed value in XML", file("bad.xml", xml(
         '<plane-of-section><id type="integer">12x</id></plane-of-section>')), 1,
         "bad.xml: <id type='integer'> holds '12x'"),
    Door("an unsupported XML type", file("yaml.xml", xml(
         f'{RAILS_HEAD}<name type="yaml">--- x</name></section-data-set>')), 1,
         "yaml.xml: <name>: unsupported type='yaml'"),
    Door("an XML record repeating a field", file("twice.xml", xml(
         f"{RAILS_HEAD}<name>a</name><weight>1</weight><name>b</name></section-data-set>")), 1,
         "twice.xml: <section-data-set> repeats <name>"),
    Door("an include that is not a record", file("inc.xml", xml(
         f"{RAILS_HEAD}<specimen>abc</specimen></section-data-set>")), 1,
         "inc.xml, record 0 (id 123): specimen: expected a record, got 'abc'"),
    Door("a nested record naming another owner", file("owner.json", json.dumps(
         {"id": 123, "weight": 1, "section_images": [{**IMAGE, "data_set_id": 999}]})), 1,
         "owner.json, record 0 (id 123): section_images 5: data_set_id 999 is not its owner's "
         "id 123"),
    Door("a record naming another nested record", file("spec.json", json.dumps(
         {"id": 123, "weight": 1, "specimen_id": 5, "specimen": {"id": 6, "hemisphere": "left"}})),
         1, "spec.json, record 0 (id 123): specimen 6: specimen_id 5 is not its specimen's id 6"),
    Door("an object in a text field", file("obj.json", json.dumps(
         [{"id": 1, "name": {"en": "coronal"}, "plane_of_section_name_facet": 5}])), 1,
         "obj.json, record 0 (id 1): field name: expected str, got {'en': 'coronal'}"),
    Door("a record the database refuses (NOT NULL)", with_options(["--model", "SectionImage"],
         file("null.json", json.dumps([{"id": 9, "data_set_id": 1}]))), 1,
         "null.json, record 0 (id 9): NOT NULL constraint failed"),
    Door("a good file, then a bad one", files(file("ok.json", PLANES),
         file("then.json", "[{]")), 1, "then.json: not valid JSON"),
    Door("an unreadable file (a socket)", a_socket, 1, "s.json: cannot read"),
    Door("an unreadable file (no permission)", no_permission, 1,
         "locked.json: cannot read: Permission denied",
         (pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file"),)),
    Door("a folder", a_folder, 2, "records.json' is a directory"),
    Door("a missing file", lambda folder: [str(folder / "gone.json")], 2, "does not exist"),
    Door("an unknown --model", with_options(["--model", "Mystery"], file("ok.json", PLANES)),
         2, "Invalid value for '--model': no model 'Mystery'"),
    Door("--store under a file", store_under_a_file, 2,
         "Invalid value for --store: cannot open a store there"),
    Door("--store whose brainmap.sqlite is no database", store_not_a_database, 2,
         "Invalid value for --store: cannot open a store there"),
]  # fmt: skip


def snapshot(folder: Path) -> dict[str, object]:
    """Every entry under `folder`: a regular file's bytes, else its kind; and the database's
    rows (read without touching the file)."""
    state: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        state[name] = path.read_bytes() if path.is_file() and os.access(path, os.R_OK) else "-"
    database = folder / "store" / "brainmap.sqlite"
    with sqlite3.connect(f"file:{database}?immutable=1", uri=True) as connection:
        state["rows"] = list(connection.iterdump())
    return state


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    """A folder with a store holding records worth keeping (a data set and two planes)."""
    records = tmp_path / "start.json"
    records.write_text(
        json.dumps([{"id": 123, "section_thickness": 25.0, "delegate": False}, *json.loads(PLANES)])
    )
    result = CliRunner().invoke(main, ["import", "--store", str(tmp_path / "store"), str(records)])
    assert result.exit_code == 0, result.output
    return tmp_path


@pytest.mark.parametrize(
    "door", [pytest.param(door, id=door.input, marks=door.marks) for door in MATRIX]
)
def test_import_door(door: Door, workspace: Path) -> None:
    args = door.make(workspace)
    before = snapshot(workspace)
    assert len(before["rows"]) > 10  # type: ignore[arg-type]
    result = CliRunner().invoke(main, ["import", "--store", str(workspace / "store"), *args])
    assert result.exit_code == door.code, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert door.message in last
    assert last.startswith("brainmap: " if door.code == 1 else "Error: ")
    if door.code == 1:
        assert result.stderr.count("\n") == 1 and last.endswith("(nothing was imported)")
    assert "Traceback" not in result.output and result.stdout == ""
    assert snapshot(workspace) == before
