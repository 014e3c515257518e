"""Under ``serve --auth``, a page longer than the first batch the RMA engine reads (its rest
streams from the threadpool) holds only public rows too, whatever its length and order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store import schema as s
from brainmap.store.access import add_token, mark_public
from brainmap.store.folder import Store
from brainmap.store.query.paging import BATCH_ROWS
from loopback import request
from rma_store import _image

PUBLIC, PRIVATE = 7, 8
IMAGES = BATCH_ROWS + 300
"""Images of each data set, interleaved by id: the private ones run past the first batch."""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    store = Store.create(tmp_path_factory.mktemp("long-pages"))
    with store.session() as session:
        session.add_all([s.SectionDataSet(id=PUBLIC), s.SectionDataSet(id=PRIVATE)])
        session.flush()
        session.add_all(
            _image(s.SectionImage, 10_000 + number, (PUBLIC, PRIVATE)[number % 2], number)
            for number in range(2 * IMAGES)
        )
    mark_public(store, [PUBLIC])
    token = add_token(store, "reader")
    try:
        with BackgroundServer(create_app(store, auth=True)) as server:
            yield server.url, token
    finally:
        store.close()


@pytest.mark.parametrize(
    ("options", "shown"),
    [
        ("[num_rows$eq'all']", 2 * IMAGES),
        (f"[num_rows$eq{IMAGES + 50}]", IMAGES + 50),
        ("[num_rows$eq'all'][order$eq'id']", 2 * IMAGES),
    ],
)
def test_a_long_page_holds_only_public_rows(
    served: tuple[str, str], options: str, shown: int
) -> None:
    url, token = served
    query = f"{url}/api/v2/data/query.json?criteria=model::SectionImage,rma::options{options}"
    anyone = request(query).json()
    assert {record["data_set_id"] for record in anyone["msg"]} <= {PUBLIC}
    assert anyone["total_rows"] == len(anyone["msg"]) == IMAGES
    reader = request(query, headers={"Authorization": f"Bearer {token}"}).json()
    assert (reader["total_rows"], len(reader["msg"])) == (2 * IMAGES, shown)
    assert {record["data_set_id"] for record in reader["msg"]} == {PUBLIC, PRIVATE}
