"""Where SQL databases disagree, the one answer brainmap gives on all of them (docs/databases.md):
SQLite's order (nulls first ascending, last descending; text by code point) and SQLite's case
rule for `$il` (only ASCII letters fold), spelled out for PostgreSQL; the text a non-text column
shows to `$li`/`$il` is the text its JSON value has."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, String, all_, any_, bindparam, case, cast, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute

SQLITE = "sqlite"
CODE_POINT_ORDER = "C"
"""PostgreSQL's collation that orders text by code point, as SQLite's BINARY does."""
Term: TypeAlias = "ColumnElement[Any] | InstrumentedAttribute[Any]"
"""A column, or an expression over columns."""
ARRAY_FROM = 1_000
"""Value lists from this long are one array parameter on PostgreSQL, which takes at most 65,535
parameters a statement (a pipe may bind more values than that)."""


def python_type(term: Term) -> type:
    """The Python type of a column or expression; text for types that do not say."""
    try:
        kind: type = term.type.python_type
    except NotImplementedError:
        return str
    return kind


def comparable(term: Term, dialect: str) -> Term:
    """`term` as comparisons and sorting should see it: text in code-point order."""
    if dialect != SQLITE and python_type(term) is str:
        return term.collate(CODE_POINT_ORDER)
    return term


def ordered(term: Term, descending: bool, dialect: str) -> ColumnElement[Any]:
    """An ORDER BY term in SQLite's null order (first ascending, last descending), which
    PostgreSQL reverses unless told."""
    if dialect == SQLITE:
        return term.desc() if descending else term.asc()
    return term.desc().nulls_last() if descending else term.asc().nulls_first()


def as_text(column: Term, dialect: str) -> Term:
    """The text of a column's values as JSON writes them, for `$li`/`$il`: decimal integers,
    ``true``/``false``, ``2011-12-14T18:20:48Z``. ValueError for floats, whose shortest decimal
    form no SQL database writes the way JSON does."""
    kind = python_type(column)
    if kind is str:
        return column
    if kind is int:
        return cast(column, String)
    if kind is bool:
        return case((column.is_(True), "true"), (column.is_(False), "false"))
    if kind is dt.datetime:
        if dialect == SQLITE:
            return func.strftime("%Y-%m-%dT%H:%M:%SZ", column)
        return func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    raise ValueError("is a number with a fraction (compare it with $lt, $gt, $le or $ge)")


def one_of(column: Term, values: list[Any], dialect: str) -> ColumnElement[bool]:
    """`column IN values`; a long list is one array on PostgreSQL (`= ANY`)."""
    if dialect == SQLITE or len(values) < ARRAY_FROM:
        return column.in_(values)
    return column == any_(_array(column, values))


def not_one_of(column: Term, values: list[Any], dialect: str) -> ColumnElement[bool]:
    """`column NOT IN values` (false for null, as IN is); a long list is one array on
    PostgreSQL (`<> ALL`)."""
    if dialect == SQLITE or len(values) < ARRAY_FROM:
        return column.not_in(values)
    return column != all_(_array(column, values))


def _array(column: Term, values: list[Any]) -> ColumnElement[Any]:
    return bindparam(None, values, type_=ARRAY(column.type))
