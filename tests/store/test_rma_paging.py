"""How a page is read (`paging.read_page`): a first batch at once, the count and a stream of the
rest only when the page goes on. The batch is made small here so that the 120 genes of the RMA
store span many batches; every reader (plain rows, objects with includes, tabular rows) must give
the pages and totals a single query would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event

from brainmap.store.folder import Store
from brainmap.store.query import paging
from rma_store import run

BATCH = 7
GENES = 120


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paging, "BATCH_ROWS", BATCH)


@pytest.fixture
def statements(rma_store: Store) -> Iterator[list[str]]:
    """The SQL statements the store's engine runs while the test does."""
    seen: list[str] = []

    def record(*arguments: object) -> None:
        seen.append(str(arguments[2]))

    event.listen(rma_store.engine, "before_cursor_execute", record)
    yield seen
    event.remove(rma_store.engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    ("options", "first", "count"),
    [
        ("[num_rows$eq'all']", 1, GENES),
        ("[num_rows$eq'all'][start_row$eq3]", 4, GENES - 3),
        ("[num_rows$eq'all'][start_row$eq114]", 115, 6),
        ("[num_rows$eq'all'][start_row$eq113]", 114, 7),
        ("[num_rows$eq7]", 1, 7),
        ("[num_rows$eq8][start_row$eq1]", 2, 8),
        ("[num_rows$eq30][start_row$eq100]", 101, 20),
        ("[num_rows$eq30][start_row$eq120]", 121, 0),
        ("[num_rows$eq3][start_row$eq119]", 120, 1),
        ("[num_rows$eq0]", 1, 0),
    ],
)
@pytest.mark.parametrize(
    "reader",
    [
        "model::Gene,rma::options{options}",
        "model::Gene,rma::include,organism,rma::options{options}",
        "model::Gene,rma::options[tabular$eq'id,acronym']{options}",
    ],
)
def test_pages_across_batches(
    rma_store: Store, reader: str, options: str, first: int, count: int
) -> None:
    result, records = run(rma_store, reader.format(options=options))
    assert [record["id"] for record in records] == list(range(first, first + count))
    assert (result.num_rows, result.total_rows) == (count, GENES)


def test_an_answer_shorter_than_a_batch_needs_no_count(
    rma_store: Store, statements: list[str]
) -> None:
    result, records = run(rma_store, "model::Gene,rma::criteria,[id$le5]")
    assert (result.num_rows, result.total_rows, len(records)) == (5, 5, 5)
    assert len([sql for sql in statements if "count(" in sql.lower()]) == 0
    assert len(statements) == 1


def test_a_longer_answer_is_counted_and_streamed(rma_store: Store, statements: list[str]) -> None:
    result, records = run(rma_store, "model::Gene,rma::options[num_rows$eq'all']")
    assert (result.num_rows, len(records)) == (GENES, GENES)
    assert len([sql for sql in statements if "count(" in sql.lower()]) == 1
