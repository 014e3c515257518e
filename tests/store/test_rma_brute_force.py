"""Random criteria on random small stores: the compiler agrees with a plain-Python evaluator.

The evaluator reads the same rows from Python objects and applies RMA's rules directly:
comparisons with null are false, `*` is the only wildcard, `$li` is case-sensitive and `$il`
is not, an association path keeps a data set if any associated record matches.
"""

from __future__ import annotations

import fnmatch
import operator
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from brainmap.rma.parse import parse_query
from brainmap.store import schema as s
from brainmap.store.folder import Store
from brainmap.store.query.run import run_query


@dataclass(frozen=True)
class Row:
    id: int
    weight: int | None
    name: str | None
    failed: bool
    products: frozenset[int]
    sections: tuple[int, ...]


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
        st.one_of(st.none(), st.text("abAB", max_size=3)),
        st.booleans(),
        st.frozensets(st.integers(1, 4), max_size=3),
        st.lists(st.integers(0, 5), max_size=3).map(tuple),
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
        return fnmatch.fnmatchcase(row.name.lower(), pattern.lower())

    return Criterion(f"[name{'$li' if case_sensitive else '$il'}'{pattern}']", keep)


def _failed(word: str) -> Criterion:
    flag = word.strip("'") in ("true", "t")
    return Criterion(f"[failed$eq{word}]", lambda row: row.failed == flag)


criteria = st.one_of(
    st.builds(_compare, st.sampled_from(sorted(COMPARE)), st.integers(-3, 3)),
    st.builds(_member, st.booleans(), st.lists(st.integers(-3, 3), min_size=1, max_size=3)),
    st.builds(_like, st.booleans(), st.text("abAB*", min_size=1, max_size=3)),
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


def _fill(store: Store, data: list[Row]) -> None:
    with store.session() as db:
        products = {p: s.Product(id=p) for p in range(1, 5)}
        image = 0
        for row in data:
            data_set = s.SectionDataSet(
                id=row.id, weight=row.weight, name=row.name, failed=row.failed
            )
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
@given(rows, st.lists(criteria, min_size=1, max_size=3))
def test_compiler_matches_brute_force(data: list[Row], chosen: list[Criterion]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store.create(folder, "sqlite://")
        _fill(store, data)
        text = "model::SectionDataSet,rma::criteria," + ",".join(c.text for c in chosen)
        with store.session() as db:
            result = run_query(db, parse_query(text + ",rma::options[num_rows$eq'all']"))
            found: list[Any] = [record["id"] for record in result.records]
        store.close()
    expected = [row.id for row in data if all(c.keep(row) for c in chosen)]
    assert found == expected, text
