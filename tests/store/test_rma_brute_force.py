"""Random criteria on random small stores: the compiler agrees with a plain-Python evaluator,
on every database.

The evaluator reads the same rows from Python objects and applies RMA's rules directly:
comparisons with null are false, `*` is the only wildcard, `$li` is case-sensitive and `$il`
ignores the case of ASCII letters, an association path keeps a data set if any associated
record matches. Each example fills an empty store in a transaction rolled back after it.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from brainmap.rma.parse import parse_query
from brainmap.store import schema as s
from brainmap.store.folder import Store
from brainmap.store.query.run import run_query

DATES = [dt.datetime(2011, 12, 14, 18, 20, 48), dt.datetime(2009, 1, 2, 3, 4, 5, 600)]
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
NAMES = "abAB_%\u00e9\u00c9"
"""Letters of the random names: ASCII in both cases, SQL's wildcards (literal in RMA), and an
accented letter that `$il` does not fold (`é`, `É`)."""


@dataclass(frozen=True)
class Row:
    id: int
    weight: int | None
    name: str | None
    failed: bool
    products: frozenset[int]
    sections: tuple[int, ...]
    qc_date: dt.datetime | None


@dataclass(frozen=True)
class Criterion:
    """One criteria path as RMA text and as a Python predicate over a `Row`."""

    text: str
    keep: Callable[[Row], bool]


rows = st.lists(
    st.builds(
        Row,
        st.just(0),
        st.one_of(st.none(), st.integers(-3, 3)),
        st.one_of(st.none(), st.text(NAMES, max_size=3)),
        st.booleans(),
        st.frozensets(st.integers(1, 4), max_size=3),
        st.lists(st.integers(0, 5), max_size=3).map(tuple),
        st.one_of(st.none(), st.sampled_from(DATES)),
    ),
    max_size=8,
).map(lambda found: [Row(i + 1, *list(vars(row).values())[1:]) for i, row in enumerate(found)])

COMPARE = {"$eq": operator.eq, "$ne": operator.ne, "$lt": operator.lt}
COMPARE |= {"$gt": operator.gt, "$le": operator.le, "$ge": operator.ge}


def _compare(op: str, value: int) -> Criterion:
    def keep(row: Row) -> bool:
        return row.weight is not None and bool(COMPARE[op](row.weight, value))

    return Criterion(f"[weight{op}{value}]", keep)


def _member(negate: bool, values: list[int]) -> Criterion:
    op = "$nin" if negate else "$in"
    return Criterion(
        f"[weight{op}{','.join(map(str, values))}]",
        lambda row: row.weight is not None and (row.weight in values) != negate,
    )


def _like(case_sensitive: bool, pattern: str) -> Criterion:
    def keep(row: Row) -> bool:
        if row.name is None:
            return False
        if case_sensitive:
            return fnmatch.fnmatchcase(row.name, pattern)
        return fnmatch.fnmatchcase(row.name.translate(ASCII_LOWER), pattern.translate(ASCII_LOWER))

    return Criterion(f"[name{'$li' if case_sensitive else '$il'}'{pattern}']", keep)


def _failed(word: str) -> Criterion:
    flag = word.strip("'") in ("true", "t")
    return Criterion(f"[failed$eq{word}]", lambda row: row.failed == flag)


criteria = st.one_of(
    st.builds(_compare, st.sampled_from(sorted(COMPARE)), st.integers(-3, 3)),
    st.builds(_member, st.booleans(), st.lists(st.integers(-3, 3), min_size=1, max_size=3)),
    st.builds(_like, st.booleans(), st.text(NAMES + "*", min_size=1, max_size=3)),
    st.sampled_from(["true", "false", "'t'", "'f'"]).map(_failed),
    st.just(Criterion("[name]", lambda row: row.name is not None)),
    st.integers(1, 4).map(
        lambda p: Criterion(f"products[id$eq{p}]", lambda row: p in row.products)
    ),
    st.integers(0, 5).map(
        lambda n: Criterion(
            f"sub_images[section_number$ge{n}]", lambda row: any(x >= n for x in row.sections)
        )
    ),
)


@contextmanager
def filled(store: Store, data: list[Row]) -> Iterator[Session]:
    """A session on `store` holding `data`, rolled back after."""
    with store.engine.connect() as connection:
        with Session(connection, autoflush=False) as db:
            _fill(db, data)
            db.flush()
            yield db
        connection.rollback()


def _fill(db: Session, data: list[Row]) -> None:
    products = {p: s.Product(id=p) for p in range(1, 5)}
    image = 0
    for row in data:
        data_set = s.SectionDataSet(id=row.id, weight=row.weight, name=row.name, failed=row.failed)
        data_set.products = [products[p] for p in sorted(row.products)]
        db.add(data_set)
        for section in row.sections:
            image += 1
            db.add(
                s.SectionImage(
                    id=image,
                    data_set_id=row.id,
                    section_number=section,
                    path="p",
                    width=1,
                    height=1,
                    image_width=1,
                    image_height=1,
                    tier_count=1,
                )
            )


@settings(max_examples=60, deadline=None)
@given(data=rows, chosen=st.lists(criteria, min_size=1, max_size=3))
def test_compiler_matches_brute_force(
    empty_store: Store, data: list[Row], chosen: list[Criterion]
) -> None:
    text = "model::SectionDataSet,rma::criteria," + ",".join(c.text for c in chosen)
    with filled(empty_store, data) as db:
        result = run_query(db, parse_query(text + ",rma::options[num_rows$eq'all']"))
        found: list[Any] = [record["id"] for record in result.records]
    expected = [row.id for row in data if all(c.keep(row) for c in chosen)]
    assert found == expected, text


ORDERED = ["name", "weight", "failed", "qc_date", "id"]
TABULAR = "[tabular$eq'distinct+name,failed']"
dialect_criteria = st.one_of(
    criteria,
    st.builds(
        lambda op, value: Criterion(f"[name{op}'{value}']", lambda _row: True),
        st.sampled_from(["$lt", "$ge"]),
        st.text(NAMES, max_size=2),
    ),
    st.sampled_from(
        [
            "[qc_date$li'2011*']",
            "[qc_date$il'*t18:*z']",
            "[failed$li'tr*']",
            "[weight$li'-*']",
            "[qc_date$lt'2010-06-01']",
            "[name$ltname]",
        ]
    ).map(lambda text: Criterion(text, lambda _row: True)),
)


@st.composite
def dialect_queries(draw: st.DrawFn) -> str:
    """A query over `rows` touching what databases disagree on: null order, text order, case,
    the text of non-text columns, paging, includes, distinct tabular rows."""
    chosen = draw(st.lists(dialect_criteria, max_size=2))
    tabular = draw(st.booleans())
    keys = ["name", "failed"] if tabular else ORDERED
    order = draw(st.lists(st.tuples(st.sampled_from(keys), st.booleans()), max_size=3))
    rows_per_page = draw(st.sampled_from(["'all'", "0", "1", "3"]))
    start = draw(st.integers(0, 4))
    include = draw(st.sampled_from(["", ",rma::include,products", ",rma::include,section_images"]))
    text = "model::SectionDataSet"
    if chosen:
        text += ",rma::criteria," + ",".join(c.text for c in chosen)
    text += include if not tabular else ""
    options = f"[num_rows$eq{rows_per_page}][start_row$eq{start}]"
    if order:
        keys_text = ",".join(f"{key}{'$desc' if desc else ''}" for key, desc in order)
        options += f"[order$eq'{keys_text}']"
    return text + ",rma::options" + options + (TABULAR if tabular else "")


@settings(max_examples=100, deadline=None)
@given(data=rows, text=dialect_queries())
def test_sqlite_and_postgresql_give_the_same_answers(
    store_pair: tuple[Store, Store], data: list[Row], text: str
) -> None:
    answers = []
    for store in store_pair:
        with filled(store, data) as db:
            result = run_query(db, parse_query(text))
            records = list(result.records)
            answers.append(json.dumps([result.total_rows, result.num_rows, records]))
    assert answers[0] == answers[1], text
