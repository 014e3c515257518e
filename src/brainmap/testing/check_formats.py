"""Checks of the response formats: the JSON envelope, records, XML, CSV, errors, the per-model
URL forms and the structure graph download."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ElementTree
from typing import Any

from brainmap.testing import rma
from brainmap.testing.kit import Basis, CheckGroup
from brainmap.testing.rma import ENVELOPE_KEYS, Record, encode, integer, stage
from brainmap.testing.samples import Probe
from brainmap.testing.verdicts import Difference, expect, expect_equal, require

FORMATS = CheckGroup()

PAGE_ROWS = 2
BYTE_ORDER_MARK = b"\xef\xbb\xbf"
GRAPH_NODE_KEYS = (
    "id",
    "atlas_id",
    "ontology_id",
    "acronym",
    "name",
    "color_hex_triplet",
    "graph_order",
    "st_level",
    "hemisphere_id",
    "parent_structure_id",
    "children",
)
BAD_QUERIES = ("model::NoSuchModelAnywhere", "model::SectionImage,rma::criteria,[id$eq")


def _page(probe: Probe) -> str:
    """The first two images of the data set, by id: a short query every format check shares."""
    data_set = integer(probe.samples.section_image, "data_set_id")
    options = f"[num_rows$eq{PAGE_ROWS}][order$eqid]"
    return stage("SectionImage", f"[data_set_id$eq{data_set}]", options=options)


def _expect_envelope_keys(envelope: Record, url: str) -> None:
    expect_equal(tuple(envelope), ENVELOPE_KEYS, f"envelope keys of {url}")
    for key in ENVELOPE_KEYS[1:5]:
        expect(type(envelope[key]) is int, f"{url}: {key} is not an integer: {envelope[key]!r}")


@FORMATS.add("json-envelope", Basis.ALLEN_API, "§4.1")
def json_envelope(probe: Probe) -> None:
    """a query answers 200 application/json: success, id, start_row, num_rows, total_rows, msg in
    that order, integers for the counts, num_rows records in msg"""
    reply = rma.fetch(probe.server, _page(probe))
    envelope = rma.successful(reply)
    expect_equal(reply.media_type, "application/json", f"Content-Type of {reply.url}")
    _expect_envelope_keys(envelope, reply.url)
    expect_equal(envelope["num_rows"], len(envelope["msg"]), "num_rows against the records")
    expect_equal(envelope["start_row"], 0, "start_row")


@FORMATS.add("record-keys", Basis.ALLEN_API, "§4.1")
def record_keys(probe: Probe) -> None:
    """a record's keys are in alphabetical order"""
    for record in rma.records(probe.server, _page(probe)):
        keys = list(record)
        expect_equal(keys, sorted(keys), f"key order of record {record.get('id')}")


@FORMATS.add("xml-format", Basis.ALLEN_API, "§4.4")
def xml_format(probe: Probe) -> None:
    """query.xml: a Response element with the envelope as attributes, the records in the plural of
    the model, hyphens for underscores, application/xml"""
    envelope = rma.query(probe.server, _page(probe))
    reply = rma.fetch(probe.server, _page(probe), fmt="xml")
    expect_equal(reply.status, 200, f"HTTP status of {reply.url}")
    expect_equal(reply.media_type, "application/xml", f"Content-Type of {reply.url}")
    try:
        root = ElementTree.fromstring(reply.body)
    except ElementTree.ParseError as error:
        raise Difference(f"{reply.url}: the body is not XML ({error})") from None
    expect_equal(root.tag, "Response", "root element")
    expect_equal(root.get("success"), "true", "the success attribute")
    for key in ENVELOPE_KEYS[1:5]:
        expect_equal(root.get(key), str(envelope[key]), f"the {key} attribute")
    expect_equal([child.tag for child in root], ["section-images"], "elements under Response")
    items = list(root[0])
    expect_equal([item.tag for item in items], ["section-image"] * len(items), "record elements")
    expect_equal(
        [item.findtext("id") for item in items],
        [str(record["id"]) for record in envelope["msg"]],
        "record ids, against the JSON answer",
    )
    for item in items:
        names = [field.tag for field in item]
        expect("data-set-id" in names, f"record {item.findtext('id')} has no data-set-id")
        expect(not any("_" in name for name in names), f"underscores in field names: {names}")


def _csv_text(value: Any) -> str | None:
    """How CSV writes a JSON value, for the kinds the record is known to show."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    return None


@FORMATS.add("csv-format", Basis.ALLEN_API, "§4.5")
def csv_format(probe: Probe) -> None:
    """query.csv: no byte-order mark, a header row of column names, one row per record, booleans as
    t/f and null as an empty field"""
    record = probe.samples.section_image
    stages = stage("SectionImage", f"[id$eq{integer(record, 'id')}]")
    reply = rma.fetch(probe.server, stages, fmt="csv")
    expect_equal(reply.status, 200, f"HTTP status of {reply.url}")
    expect(not reply.body.startswith(BYTE_ORDER_MARK), f"{reply.url} starts with a byte-order mark")
    table = list(csv.reader(io.StringIO(reply.text())))
    expect(bool(table), f"{reply.url}: the body is empty")
    header, *rows = table
    expect("id" in header, f"no id column in the header row {header}")
    expect_equal(len(rows), 1, "rows under the header")
    expect_equal(len(rows[0]), len(header), "fields in the row, against the header")
    row = dict(zip(header, rows[0], strict=True))
    for name, value in record.items():
        written = _csv_text(value)
        if name in row and written is not None:
            expect_equal(row[name], written, f"CSV column {name} (JSON {value!r})")


@FORMATS.add("content-disposition", Basis.ALLEN_API, "§4.1")
def content_disposition(probe: Probe) -> None:
    """Content-Disposition names the file query.json, query.xml or query.csv"""
    for fmt in ("json", "xml", "csv"):
        reply = rma.fetch(probe.server, _page(probe), fmt=fmt)
        header = reply.headers.get("content-disposition", "")
        expect(
            re.search(rf'filename="?query\.{fmt}"?(;|$)', header) is not None,
            f"{reply.url}: Content-Disposition {header!r} does not name query.{fmt}",
        )


@FORMATS.add("query-synonyms", Basis.ALLEN_API, "§3.1")
def query_synonyms(probe: Probe) -> None:
    """criteria= means the same as q="""
    with_q = rma.query(probe.server, _page(probe))
    with_criteria = rma.successful(rma.fetch(probe.server, _page(probe), parameter="criteria"))
    expect_equal(with_criteria["msg"], with_q["msg"], "records of criteria= against q=")


@FORMATS.add("query-error", Basis.BRAINMAP_RULE, '"Errors"')
def query_error(probe: Probe) -> None:
    """an unknown model or a syntax error: HTTP 200, the six envelope keys with success false, zero
    counts and msg 'Error in query: <stage>, <reason>'"""
    for stages in BAD_QUERIES:
        reply = rma.fetch(probe.server, stages)
        expect_equal(reply.status, 200, f"HTTP status of {reply.url}")
        expect_equal(reply.media_type, "application/json", f"Content-Type of {reply.url}")
        envelope = rma.parse_json(reply)
        _expect_envelope_keys(envelope, reply.url)
        expect(envelope["success"] is False, f"{reply.url}: success is not false")
        counts = [envelope[key] for key in ENVELOPE_KEYS[1:5]]
        expect_equal(counts, [0, 0, 0, 0], "id, start_row, num_rows and total_rows")
        message = envelope["msg"]
        expect(
            isinstance(message, str) and message.startswith("Error in query: "),
            f"{reply.url}: msg {message!r} does not start with 'Error in query: '",
        )


@FORMATS.add("record-by-id", Basis.ALLEN_API, "§4.1")
def record_by_id(probe: Probe) -> None:
    """/data/{Model}/{id}.json: the envelope around a list of that one record"""
    image_id = integer(probe.samples.section_image, "id")
    reply = probe.server.get(f"/data/SectionImage/{image_id}.json")
    envelope = rma.successful(reply)
    _expect_envelope_keys(envelope, reply.url)
    expect_equal(rma.ids(envelope["msg"]), [image_id], "ids in msg")


@FORMATS.add("legacy-query", Basis.ALLEN_API, "§3.1")
def legacy_query(probe: Probe) -> None:
    """/data/{Model}/query.json with criteria=, order=, num_rows= and start_row= parameters"""
    images = rma.ids(probe.samples.data_set_images)
    require(len(images) >= 3, "the data set has fewer than 3 images")
    data_set = integer(probe.samples.section_image, "data_set_id")
    query = f"criteria={encode(f'[data_set_id$eq{data_set}]')}&order=id&num_rows=2&start_row=1"
    envelope = rma.successful(probe.server.get("/data/SectionImage/query.json", query))
    expect_equal(envelope["start_row"], 1, "start_row")
    expect_equal(rma.ids(envelope["msg"]), images[1:3], "ids of rows 1 and 2 by id")


def _expect_graph_node(node: Record, parent: int | None) -> None:
    """Check a structure graph node, then its descendants."""
    node_id = node.get("id")
    expect_equal(tuple(node), GRAPH_NODE_KEYS, f"keys of structure {node_id}")
    expect_equal(node["parent_structure_id"], parent, f"parent_structure_id of structure {node_id}")
    children = node["children"]
    expect(isinstance(children, list), f"children of structure {node_id} is not a list")
    for child in children:
        _expect_graph_node(child, integer(node, "id"))


@FORMATS.add("structure-graph", Basis.ALLEN_API, "§4.1, §5.6")
def structure_graph(probe: Probe) -> None:
    """structure_graph_download/{id}.json: one root structure, each node's keys in the documented
    order, children nested under their parent"""
    graph_id = probe.samples.structure_graph_id
    reply = probe.server.get(f"/structure_graph_download/{graph_id}.json")
    envelope = rma.successful(reply)
    _expect_envelope_keys(envelope, reply.url)
    expect_equal(len(envelope["msg"]), 1, "root structures")
    _expect_graph_node(envelope["msg"][0], None)
