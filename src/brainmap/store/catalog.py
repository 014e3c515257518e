"""`enumerate.json` and `{Model}/describe.json`: the RMA models, generated from the schema.

`enumerate` lists every model by name. `describe` gives one model's table name, its attributes
(name and JSON type, in table order) and its associations (name, target model, to-many or not).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import inspect

from brainmap.store.schema import Base, model_classes
from brainmap.store.serialize import visible_columns

JSON_TYPES: dict[type, str] = {
    bool: "boolean",
    int: "integer",
    float: "float",
    str: "string",
    dt.datetime: "datetime",
    dt.date: "date",
}


def enumerate_models() -> list[dict[str, Any]]:
    """One record per model, alphabetical."""
    return [{"name": name} for name in sorted(model_classes())]


def describe_model(model: type[Base]) -> dict[str, Any]:
    """Table, attributes and associations of `model`, as RMA sees them."""
    mapper = inspect(model)
    attributes = [
        {"name": name, "type": _json_type(mapper.columns[name].type)}
        for name in visible_columns(model)
    ]
    associations = [
        {"many": bool(relation.uselist), "model": relation.mapper.class_.__name__, "name": name}
        for name, relation in sorted(mapper.relationships.items())
    ]
    return {
        "associations": associations,
        "attributes": attributes,
        "name": model.__name__,
        "table": mapper.tables[0].name,
    }


def _json_type(column_type: Any) -> str:
    try:
        return JSON_TYPES.get(column_type.python_type, "string")
    except NotImplementedError:
        return "string"
