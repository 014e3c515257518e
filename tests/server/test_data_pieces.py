"""How the data routes send a body: whole, with its length, when it is shorter than a piece;
otherwise streamed in pieces. Pieces are made a few hundred bytes here, so that the RMA store's
120 genes stream; the bytes must be the same either way, in every format."""

from __future__ import annotations

import pytest

from brainmap.server.routes import data
from loopback import call

GENES = "q=model::Gene,rma::options[num_rows$eq'all']"


@pytest.mark.parametrize("fmt", ["json", "xml", "csv"])
def test_a_body_is_the_same_whole_or_in_pieces(
    rma_server: str, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    status, headers, whole = call(rma_server, f"/api/v2/data/query.{fmt}", GENES)
    assert status == 200 and int(headers["content-length"]) == len(whole) > 2_000
    assert "transfer-encoding" not in headers
    monkeypatch.setattr(data, "PIECE_BYTES", 300)
    status, headers, pieces = call(rma_server, f"/api/v2/data/query.{fmt}", GENES)
    assert status == 200 and headers["transfer-encoding"] == "chunked"
    assert "content-length" not in headers
    assert pieces == whole
