"""RMA queries as allensdk sends them, and the envelope they come back in."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from brainmap.testing.verdicts import Difference, expect, expect_equal
from brainmap.testing.wire import Reply, Server

Record = dict[str, Any]

ENVELOPE_KEYS = ("success", "id", "start_row", "num_rows", "total_rows", "msg")
"""The JSON envelope's keys, in wire order (docs/allen-api.md §4.1)."""
UNQUOTED = ";/?:@&=+$,"
"""Characters allensdk leaves as they are when it quotes a query URL (docs/allen-api.md §2.2)."""


def stage(model: str, criteria: str = "", include: str = "", options: str = "") -> str:
    """A model stage in the form allensdk's builders write it."""
    text = f"model::{model}"
    if criteria:
        text += f",rma::criteria,{criteria}"
    if include:
        text += f",rma::include,{include}"
    if options:
        text += f",rma::options{options}"
    return text


def quoted(text: str) -> str:
    """`text` as a quoted RMA value."""
    return f"'{text}'"


def encode(value: str) -> str:
    """`value` percent-encoded the way allensdk encodes a query."""
    return quote(value, safe=UNQUOTED)


def fetch(server: Server, stages: str, fmt: str = "json", parameter: str = "q") -> Reply:
    """``/api/v2/data/query.{fmt}?{parameter}=<stages>``, whatever it answers."""
    return server.get(f"/data/query.{fmt}", f"{parameter}={encode(stages)}")


def parse_json(reply: Reply) -> Record:
    """The JSON object in the body; a Difference when the body is something else."""
    try:
        document = json.loads(reply.body)
    except ValueError as error:
        raise Difference(
            f"{reply.url}: the body is not JSON ({error}): {reply.excerpt()}"
        ) from None
    if not isinstance(document, dict):
        raise Difference(f"{reply.url}: the body is not a JSON object: {reply.excerpt()}")
    return document


def successful(reply: Reply) -> Record:
    """The envelope of an answered query: HTTP 200, `success: true` and a list in `msg`."""
    expect_equal(reply.status, 200, f"HTTP status of {reply.url}")
    envelope = parse_json(reply)
    expect(
        envelope.get("success") is True,
        f"{reply.url}: the query failed: {str(envelope.get('msg'))[:300]}",
    )
    expect(isinstance(envelope.get("msg"), list), f"{reply.url}: msg is not a list")
    return envelope


def query(server: Server, stages: str) -> Record:
    """The envelope of a JSON query that must succeed."""
    return successful(fetch(server, stages))


def records(server: Server, stages: str) -> list[Record]:
    """The records of a JSON query that must succeed."""
    return list(query(server, stages)["msg"])


def integer(record: Record, name: str) -> int:
    """`record[name]` (a record or an envelope) as an int; a Difference when it is missing or
    not an integer."""
    value = record.get(name)
    if type(value) is not int:
        raise Difference(f"{name} should be an integer, got {value!r} (id {record.get('id')!r})")
    return value


def ids(found: list[Record]) -> list[int]:
    """The `id` of each record, in order."""
    return [integer(record, "id") for record in found]
