"""RMA query text -> `Query` AST: a recursive-descent parser over the characters.

Grammar (docs/allen-api.md §3.2-3.4; stages and their clauses are joined by top-level commas)::

    query   := stage (',' stage)*
    stage   := 'model::' NAME filter* clause* | ('pipe::' | 'service::') NAME filter*
    clause  := ',rma::criteria' filter* (',' path)* | ',rma::include' filter* (',' path)*
             | ',rma::options' filter+
    path    := [NAME] filter* ['(' path (',' path)* ')']
    filter  := '[' LHS [OP value (',' value)*] ']'
    OP      := '$eq' | '$ne' | '$lt' | '$gt' | '$le' | '$ge' | '$in' | '$nin' | '$li' | '$il'
             | '$is' (pipe parameters)
    value   := "'" chars ("''" is a quote) "'" | '$' NAME | bare word

Whitespace right after a separating comma is ignored; a bare word keeps its inner spaces (a
form-decoded ``+``). Every error is an `RmaError` naming the offending stage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, TypeAlias

from brainmap.errors import RmaError
from brainmap.rma.ast import (
    Filter,
    Literal,
    ModelStage,
    NumRows,
    Options,
    Path,
    PipeStage,
    Query,
    ServiceStage,
    Stage,
    Value,
    Variable,
)
from brainmap.rma.numbers import parse_int64

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
QUALIFIED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
OPERATOR = re.compile(r"\$(?:nin|eq|ne|lt|gt|le|ge|in|li|il|is)", re.IGNORECASE)
BARE = re.compile(r"[^,\[\]'$][^,\[\]']*")
AXIS = re.compile(r"\s*([A-Za-z_]+)::")
NEXT_STAGE = re.compile(r",\s*(?:model|service|pipe)::")
ORDER_SUFFIX = re.compile(r"(?:[ +$](asc|desc))$", re.IGNORECASE)
MAX_DEPTH = 32
ErrorFactory: TypeAlias = Callable[[str], RmaError]
OptionParser: TypeAlias = Callable[[str, ErrorFactory], Any]
STAGE_AXES = ("model", "service", "pipe")
CACHED_QUERIES = 256
CACHED_TEXT = 8 * 1024
OPTION_NAMES = ("only", "except", "tabular", "num_rows", "start_row", "order", "debug", "count")


class _Parser:
    """Cursor over the query text with one method per grammar rule."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.stage_start = 0
        self.depth = 0

    # -- errors and low-level scanning -------------------------------------------------

    def fail(self, reason: str) -> RmaError:
        """An error naming the stage being parsed (up to the next stage)."""
        boundary = NEXT_STAGE.search(self.text, self.stage_start + 1)
        end = boundary.start() if boundary else len(self.text)
        return RmaError(self.text[self.stage_start : end], reason)

    def where(self) -> str:
        """A short description of the current position for error reasons."""
        if self.pos >= len(self.text):
            return "end of query"
        return f"{self.text[self.pos : self.pos + 20]!r} at character {self.pos}"

    def peek(self, char: str) -> bool:
        return self.text.startswith(char, self.pos)

    def eat(self, char: str) -> bool:
        if self.peek(char):
            self.pos += len(char)
            return True
        return False

    def expect(self, char: str, context: str) -> None:
        if not self.eat(char):
            raise self.fail(f"expected '{char}' {context}, found {self.where()}")

    def match(self, pattern: re.Pattern[str]) -> str | None:
        found = pattern.match(self.text, self.pos)
        if found is None:
            return None
        self.pos = found.end()
        return found.group(0)

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def axis_after_comma(self) -> str | None:
        """The axis name (`model`, `rma`...) of the item after the comma at the cursor."""
        found = AXIS.match(self.text, self.pos + 1)
        return found.group(1) if found else None

    # -- grammar rules -----------------------------------------------------------------

    def query(self) -> Query:
        stages = [self.stage()]
        while self.peek(","):
            self.pos += 1
            self.skip_spaces()
            stages.append(self.stage())
        if self.pos != len(self.text):
            raise self.fail(f"unexpected {self.where()}")
        return tuple(stages)

    def stage(self) -> Stage:
        self.stage_start = self.pos
        axis = self.match(NAME)
        if axis is None or not self.eat("::"):
            raise self.fail(f"expected model::, service:: or pipe:: at {self.where()}")
        if axis not in STAGE_AXES:
            raise self.fail(f"a stage cannot start with the {axis}:: axis")
        name = self.match(NAME)
        if name is None:
            raise self.fail(f"expected a name after {axis}::")
        filters = self.filters()
        if axis == "pipe":
            return PipeStage(name, filters)
        if axis == "service":
            return ServiceStage(name, filters)
        return self.model_clauses(ModelStage(name, filters))

    def model_clauses(self, stage: ModelStage) -> ModelStage:
        criteria: list[Path] = []
        include: list[Path] = []
        option_filters: list[Filter] = []
        paths: list[Path] | None = None
        while self.peek(","):
            axis = self.axis_after_comma()
            if axis in STAGE_AXES:
                break
            self.pos += 1
            self.skip_spaces()
            if axis is None:
                if paths is None:
                    raise self.fail(
                        f"expected rma::criteria, rma::include or rma::options at {self.where()}"
                    )
                paths.append(self.path())
                continue
            self.match(AXIS)
            clause = self.match(NAME)
            if axis != "rma" or clause not in ("criteria", "include", "options"):
                raise self.fail(f"unknown clause {axis}::{clause or ''}")
            attached = self.filters()
            if clause == "options":
                if not attached:
                    raise self.fail("rma::options needs at least one [option$eqvalue]")
                option_filters.extend(attached)
                paths = None
                continue
            paths = criteria if clause == "criteria" else include
            if attached:
                paths.append(Path(None, attached))
        options = options_from_pairs(((self.option_pair(f)) for f in option_filters), self.fail)
        return ModelStage(stage.model, stage.filters, tuple(criteria), tuple(include), options)

    def option_pair(self, option: Filter) -> tuple[str, str]:
        if option.op != "$eq" or not option.rhs:
            raise self.fail(f"option {option.lhs} must be written [{option.lhs}$eqvalue]")
        if any(isinstance(value, Variable) for value in option.rhs):
            raise self.fail(f"option {option.lhs} cannot take a variable")
        return option.lhs, ",".join(
            value.text for value in option.rhs if isinstance(value, Literal)
        )

    def path(self) -> Path:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"paths nested deeper than {MAX_DEPTH} levels")
        association = self.match(NAME)
        if association is not None and self.peek("::"):
            raise self.fail(f"unexpected axis {association}:: inside a path")
        filters = self.filters()
        children: list[Path] = []
        if self.eat("("):
            children.append(self.path())
            while self.eat(","):
                self.skip_spaces()
                children.append(self.path())
            self.expect(")", "to close the nested association list")
        if association is None and not filters and not children:
            raise self.fail(f"expected an association or a [filter] at {self.where()}")
        self.depth -= 1
        return Path(association, filters, tuple(children))

    def filters(self) -> tuple[Filter, ...]:
        found = []
        while self.eat("["):
            found.append(self.filter())
        return tuple(found)

    def filter(self) -> Filter:
        lhs = self.match(QUALIFIED)
        if lhs is None:
            raise self.fail(f"expected an attribute name after '[' at {self.where()}")
        if self.eat("]"):
            return Filter(lhs)
        operator = self.match(OPERATOR)
        if operator is None:
            raise self.fail(f"unknown operator after {lhs} at {self.where()}")
        values = [self.value()]
        while self.eat(","):
            values.append(self.value())
        self.expect("]", f"to close the filter on {lhs}")
        return Filter(lhs, operator.lower(), tuple(values))

    def value(self) -> Value:
        if self.eat("'"):
            return Literal(self.quoted(), quoted=True)
        if self.eat("$"):
            name = self.match(NAME)
            if name is None:
                raise self.fail(f"expected a variable name after '$' at {self.where()}")
            return Variable(name)
        bare = self.match(BARE)
        if bare is None:
            raise self.fail(f"expected a value at {self.where()}")
        return Literal(bare)

    def quoted(self) -> str:
        chunks = []
        while True:
            end = self.text.find("'", self.pos)
            if end < 0:
                raise self.fail("unterminated quoted string")
            chunks.append(self.text[self.pos : end])
            self.pos = end + 1
            if not self.eat("'"):
                return "'".join(chunks)


def parse_query(text: str) -> Query:
    """Parse a whole RMA query (`q=` / `criteria=` after form-decoding). The ASTs of the last
    few hundred queries up to 8 KiB are kept (they are immutable)."""
    stripped = text.strip()
    if not stripped:
        raise RmaError("", "empty query")
    if len(stripped) > CACHED_TEXT:
        return _Parser(stripped).query()
    return _parse_kept(stripped)


@lru_cache(maxsize=CACHED_QUERIES)
def _parse_kept(text: str) -> Query:
    return _Parser(text).query()


def parse_paths(text: str) -> tuple[Path, ...]:
    """Parse a comma-separated path list (the legacy `criteria=` and `include=` parameters)."""
    parser = _Parser(text.strip())
    if not parser.text:
        return ()
    paths = [parser.path()]
    while parser.eat(","):
        parser.skip_spaces()
        paths.append(parser.path())
    if parser.pos != len(parser.text):
        raise parser.fail(f"unexpected {parser.where()}")
    return tuple(paths)


def parse_options(pairs: Iterable[tuple[str, str]]) -> Options:
    """Options from (name, value) pairs, as the legacy query parameters give them."""
    text = "&".join(f"{name}={value}" for name, value in pairs)
    return options_from_pairs(
        ((name, _unquote(value)) for name, value in pairs), lambda reason: RmaError(text, reason)
    )


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value


def options_from_pairs(pairs: Iterable[tuple[str, str]], fail: ErrorFactory) -> Options:
    """Build `Options` from option names and their comma-joined value text; later ones win."""
    fields: dict[str, object] = {}
    for name, text in pairs:
        if name not in OPTION_NAMES:
            raise fail(f"unknown option {name}")
        fields["except_" if name == "except" else name] = _OPTION_PARSERS[name](text.strip(), fail)
    return Options(**fields)  # type: ignore[arg-type]


def _num_rows(text: str, fail: ErrorFactory) -> NumRows:
    if text.lower() == "all":
        return "all"
    return _count(text, "num_rows", fail)


def _start_row(text: str, fail: ErrorFactory) -> int:
    return _count(text, "start_row", fail)


def _count(text: str, name: str, fail: ErrorFactory) -> int:
    if not text.isdigit() or not text.isascii():
        raise fail(f"{name} must be a non-negative integer, not {text!r}")
    try:
        return parse_int64(text)
    except ValueError as error:
        raise fail(f"{name} {text}: {error}") from None


def _items(text: str, name: str, fail: ErrorFactory) -> tuple[str, ...]:
    items = tuple(item.strip() for item in text.split(","))
    if not all(items):
        raise fail(f"empty item in {name} list {text!r}")
    return items


def _fields(name: str) -> OptionParser:
    def parse(text: str, fail: ErrorFactory) -> tuple[str, ...]:
        items = _items(text, name, fail)
        for item in items:
            if not QUALIFIED.fullmatch(item):
                raise fail(f"{name} expects attribute names, not {item!r}")
        return items

    return parse


def _tabular(text: str, fail: ErrorFactory) -> tuple[str, ...]:
    return _items(text, "tabular", fail)


def _order(text: str, fail: ErrorFactory) -> tuple[tuple[str, bool], ...]:
    keys = []
    for item in _items(text, "order", fail):
        suffix = ORDER_SUFFIX.search(item)
        key, direction = (item[: suffix.start()].strip(), suffix.group(1)) if suffix else (item, "")
        if not QUALIFIED.fullmatch(key):
            raise fail(f"order expects attribute names with an optional asc/desc, not {item!r}")
        keys.append((key, direction.lower() == "desc"))
    return tuple(keys)


def _boolean(name: str) -> OptionParser:
    def parse(text: str, fail: ErrorFactory) -> bool:
        if text.lower() not in ("true", "false"):
            raise fail(f"{name} must be true or false, not {text!r}")
        return text.lower() == "true"

    return parse


def _debug(text: str, fail: ErrorFactory) -> str:
    if text.lower() not in ("true", "false", "preview"):
        raise fail(f"debug must be true, false or preview, not {text!r}")
    return text.lower()


_OPTION_PARSERS: dict[str, OptionParser] = {
    "num_rows": _num_rows,
    "start_row": _start_row,
    "order": _order,
    "only": _fields("only"),
    "except": _fields("except"),
    "tabular": _tabular,
    "count": _boolean("count"),
    "debug": _debug,
}
