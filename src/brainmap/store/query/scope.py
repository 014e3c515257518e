"""One model stage under compilation: the pipe bindings it sees, the SQL dialect, how it
resolves RMA names against the models, and errors that name the stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, inspect
from sqlalchemy.orm import RelationshipProperty

from brainmap.errors import RmaError
from brainmap.rma.ast import ModelStage
from brainmap.rma.build import render_stage
from brainmap.store.schema import Base, model_classes
from brainmap.store.serialize import visible_columns

Condition = ColumnElement[bool]
Bindings = dict[str, tuple[str, ...]]
"""Pipe variables: each name bound to the previous stage's values of one field."""


def table_names(model: type[Base]) -> tuple[str, ...]:
    """The tables a model's attributes may be qualified with, in mapper order."""
    return tuple(table.name for table in inspect(model).tables)


@dataclass(frozen=True)
class StageScope:
    """The stage, the variables bound by earlier pipes and the database's dialect name.

    A stage's plan is kept by its scope (`run.stage_plan`): anything that changes the stage's
    SQL must be a field here."""

    stage: ModelStage
    bindings: Bindings
    dialect: str

    def fail(self, reason: str) -> RmaError:
        """The error to raise, naming this stage."""
        return RmaError(render_stage(self.stage), reason)

    def model(self) -> type[Base]:
        """The stage's model class."""
        model = model_classes().get(self.stage.model)
        if model is None:
            raise self.fail(f"unknown model {self.stage.model}")
        return model

    def relationship(self, model: type[Base], name: str) -> RelationshipProperty[Any]:
        """The association `name` of `model`."""
        found = inspect(model).relationships.get(name)
        if found is None:
            raise self.fail(f"unknown association {name} of {model.__name__}")
        return found

    def attribute(self, model: type[Base], dotted: str) -> tuple[list[str], type[Base], str]:
        """Resolve `attr`, `table.attr` or `assoc(.assoc)*.attr` from `model`.

        Returns the associations to cross, the model owning the column and the column name.
        """
        qualifier, _, rest = dotted.partition(".")
        if not rest:
            if qualifier not in visible_columns(model):
                raise self.fail(f"unknown attribute {qualifier} of {model.__name__}")
            return [], model, qualifier
        if qualifier in table_names(model) and "." not in rest:
            return self.attribute(model, rest)
        target = self.relationship(model, qualifier).mapper.class_
        hops, owner, column = self.attribute(target, rest)
        return [qualifier, *hops], owner, column
