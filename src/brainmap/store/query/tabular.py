"""The ``tabular`` option: flat rows of chosen columns instead of nested records.

``rma::options[tabular$eq'distinct+specimens.name+as+specimen_name,data_sets.id']`` (``+`` is a
space once the URL is form-decoded) selects columns by ``attr``, ``table.attr`` or
``association.attr``; ``as`` renames one; a leading ``distinct`` drops repeated rows. Tables
reached through ``rma::include`` are joined like an inner join, so a parent without a
matching child disappears (the API's documented behaviour); their filters restrict the join.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEPARATORS = re.compile(r"[+\s]+")


@dataclass(frozen=True)
class TabularColumn:
    """One output column: where it comes from and what it is called."""

    qualifier: str  # "" for the stage's own model
    name: str
    alias: str


@dataclass(frozen=True)
class TabularSpec:
    """The parsed option: its columns, and whether repeated rows are dropped."""

    distinct: bool
    columns: tuple[TabularColumn, ...]

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(column.alias for column in self.columns)


def parse_tabular(items: tuple[str, ...]) -> TabularSpec:
    """Read the option's items; ValueError explains a malformed one."""
    distinct = False
    columns: list[TabularColumn] = []
    for position, item in enumerate(items):
        words = [word for word in SEPARATORS.split(item.strip()) if word]
        if position == 0 and words and words[0].lower() == "distinct":
            distinct, words = True, words[1:]
        if len(words) == 3 and words[1].lower() == "as":
            source, alias = words[0], words[2]
        elif len(words) == 1:
            source = words[0]
            alias = source.rpartition(".")[2]
        else:
            raise ValueError(f"tabular column {item!r} is not 'name' or 'name as alias'")
        qualifier, _, name = source.rpartition(".")
        if not name or "." in qualifier:
            raise ValueError(f"tabular column {source!r} is not attr or table.attr")
        columns.append(TabularColumn(qualifier, name, alias))
    aliases = [column.alias for column in columns]
    if len(set(aliases)) != len(aliases):
        raise ValueError("tabular columns need distinct names (use 'as')")
    return TabularSpec(distinct, tuple(columns))
