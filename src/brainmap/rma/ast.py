"""The RMA query as data: frozen dataclasses shared by the parser, the renderer and the compiler.

A query is a tuple of stages. Model stages select records; pipe stages turn the previous stage's
rows into variables for later stages; service stages name a server-side service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal as TypingLiteral
from typing import TypeAlias


@dataclass(frozen=True)
class Literal:
    """A value as written: `text` without its quotes; `quoted` if it was in single quotes."""

    text: str
    quoted: bool = False


@dataclass(frozen=True)
class Variable:
    """A reference to a variable bound by an earlier pipe stage (`$name`)."""

    name: str


Value: TypeAlias = Literal | Variable


@dataclass(frozen=True)
class Filter:
    """`[lhs op rhs]`; `op` None is an existence test. `lhs` may be `table.attr` or `assoc.attr`."""

    lhs: str
    op: str | None = None
    rhs: tuple[Value, ...] = ()


@dataclass(frozen=True)
class Path:
    """`assoc[filter]...(child,...)`; `association` None applies the filters to the model itself."""

    association: str | None
    filters: tuple[Filter, ...] = ()
    children: tuple[Path, ...] = ()


NumRows: TypeAlias = int | TypingLiteral["all"]


@dataclass(frozen=True)
class Options:
    """`rma::options`; None / empty means "not given" (the engine applies its defaults)."""

    num_rows: NumRows | None = None
    start_row: int | None = None
    order: tuple[tuple[str, bool], ...] = ()  # (key, descending)
    only: tuple[str, ...] = ()
    except_: tuple[str, ...] = ()
    tabular: tuple[str, ...] = ()
    count: bool | None = None
    debug: str | None = None  # "true", "false" or "preview"


@dataclass(frozen=True)
class ModelStage:
    """`model::Name[filter]...,rma::criteria,...,rma::include,...,rma::options[...]`."""

    model: str
    filters: tuple[Filter, ...] = ()
    criteria: tuple[Path, ...] = ()
    include: tuple[Path, ...] = ()
    options: Options = Options()


@dataclass(frozen=True)
class NamedStage:
    """A stage that is a name and its bracketed parameters."""

    name: str
    params: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class PipeStage(NamedStage):
    """`pipe::name[param$is'value']...`."""


@dataclass(frozen=True)
class ServiceStage(NamedStage):
    """`service::name[param$eqvalue]...`."""


Stage: TypeAlias = ModelStage | PipeStage | ServiceStage
Query: TypeAlias = tuple[Stage, ...]
