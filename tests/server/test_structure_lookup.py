"""`/api/v2/image_to_structure/{id}.{fmt}?x=&y=`: the structure at one pixel of an annotated
plate, over the small store's label map (315 left of x=400, 549 right, 0 around them). Its
refusals are rows of the bad-input matrix, tests/doors/test_viewer_doors.py."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ElementTree

import pytest

from loopback import request
from small_store import ATLAS_IMAGE, SmallStore

LOOKUP = "/api/v2/image_to_structure"


def lookup(base: str, target: str) -> list[dict[str, object]]:
    reply = request(f"{base}{LOOKUP}/{target}")
    assert reply.status == 200, reply.body
    assert reply.content_type == "application/json"
    envelope = reply.json()
    assert envelope["success"] is True
    assert envelope["num_rows"] == envelope["total_rows"] == len(envelope["msg"])
    return envelope["msg"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("x", "y"),
    [(100, 100), (399, 499), (250, 300), (400, 100), (699, 499), (550, 250)],
)
def test_the_record_is_the_structure_of_the_label_at_the_pixel(
    small_server: str, small_store: SmallStore, x: int, y: int
) -> None:
    label = int(small_store.labels[y, x])
    [record] = lookup(small_server, f"{ATLAS_IMAGE}.json?x={x}&y={y}")
    assert record["id"] == label
    assert record["acronym"] == f"S{label}"
    assert record["name"] == f"structure {label}"
    # the same record as the data endpoint's
    same = request(f"{small_server}/api/v2/data/Structure/{label}.json").json()["msg"]
    assert [record] == same


@pytest.mark.parametrize(
    ("x", "y"),
    [(99, 100), (100, 99), (700, 300), (0, 0), (799, 599), (800, 10), (10, 600), (-1, 5), (5, -3)],
)
def test_background_and_points_outside_the_image_hold_no_structure(
    small_server: str, x: int, y: int
) -> None:
    assert lookup(small_server, f"{ATLAS_IMAGE}.json?x={x}&y={y}") == []


def test_the_atlas_can_be_named(small_server: str) -> None:
    [record] = lookup(small_server, f"{ATLAS_IMAGE}.json?x=150&y=150&atlas=1")
    assert record["id"] == 315


def test_xml_and_csv_carry_the_same_record(small_server: str) -> None:
    xml = request(f"{small_server}{LOOKUP}/{ATLAS_IMAGE}.xml?x=500&y=300")
    assert xml.status == 200 and xml.content_type == "application/xml"
    root = ElementTree.fromstring(xml.body)
    assert root.tag == "Response" and root.get("total_rows") == "1"
    assert [element.text for element in root.iter("acronym")] == ["S549"]
    text = request(f"{small_server}{LOOKUP}/{ATLAS_IMAGE}.csv?x=500&y=300")
    assert text.status == 200 and text.content_type.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert [(row["id"], row["acronym"]) for row in rows] == [("549", "S549")]
    empty = request(f"{small_server}{LOOKUP}/{ATLAS_IMAGE}.csv?x=1&y=1")
    assert empty.text.splitlines()[0].startswith("id,") and len(empty.text.splitlines()) == 1


@pytest.mark.parametrize(
    ("query", "name"), [(f"x={'9' * 5000}&y=1", "x"), (f"x=1&y=-{'9' * 5000}", "y")]
)
def test_a_coordinate_of_thousands_of_digits_is_refused_by_name(
    small_server: str, query: str, name: str
) -> None:
    reply = request(f"{small_server}{LOOKUP}/{ATLAS_IMAGE}.json?{query}")
    assert reply.status == 400, reply.body
    assert "does not fit in 64 bits" in reply.text and "\n" not in reply.text.strip()
    assert reply.text.startswith(f"{name}:")
