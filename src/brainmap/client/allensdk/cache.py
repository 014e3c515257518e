"""`cacheable`: allensdk's file-caching decorator for query methods.

The decorated function accepts extra keyword arguments: ``path``, ``strategy`` (``'lazy'``,
``'create'``, ``'file'`` or None), ``pre``, ``post``, ``reader``, ``writer`` and ``pathfinder``.
Without any of them the call goes straight through. ``dataframe=True`` (a brainmap addition)
returns the rows as a pandas DataFrame, after ``post``.

* ``create``: query, apply ``pre``, write with ``writer`` to ``path`` (parent folders created).
* ``file``: read ``path`` with ``reader``, no query.
* ``lazy`` (the default when ``path`` or ``writer`` is given): ``file`` if ``path`` exists, else
  ``create``.
* ``post`` is applied to whatever is returned.

Difference from allensdk: when ``path`` is given without ``writer``/``reader``, the data is
written and read as JSON (allensdk then silently skipped writing, or returned None on reading).
JSON files are written atomically.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from brainmap.client._http.files import atomic_writer
from brainmap.client.frames import to_dataframe

F = TypeVar("F", bound=Callable[..., Any])
Reader = Callable[[str], Any]
Writer = Callable[[str, Any], None]
PathFinder = Callable[..., "str | None"]

STRATEGIES = ("lazy", "create", "file")


def write_json(path: str, data: Any) -> None:
    """Write `data` as indented JSON, atomically."""
    with atomic_writer(path) as handle:
        handle.write(json.dumps(data, indent=2).encode("utf-8"))


def read_json(path: str) -> Any:
    """Read a JSON file."""
    with open(path, "rb") as handle:
        return json.load(handle)


def cacheable(
    strategy: str | None = None,
    pre: Callable[[Any], Any] | None = None,
    writer: Writer | None = None,
    reader: Reader | None = None,
    post: Callable[[Any], Any] | None = None,
    pathfinder: PathFinder | None = None,
) -> Callable[[F], F]:
    """Decorate a query function; the arguments are defaults for the call-time keywords."""
    defaults = {
        "strategy": strategy,
        "pre": pre,
        "writer": writer,
        "reader": reader,
        "post": post,
    }

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            dataframe = kwargs.pop("dataframe", False)
            finder = kwargs.pop("pathfinder", None) or pathfinder
            if finder is not None and "path" not in kwargs:
                found = finder(*args, **kwargs)
                if found:
                    kwargs["path"] = found
            for key, value in defaults.items():
                if value is not None:
                    kwargs.setdefault(key, value)
            data = _cached_call(function, args, kwargs)
            return to_dataframe(data) if dataframe else data

        return cast(F, wrapper)

    return decorate


def _cached_call(
    function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    path: str | None = kwargs.pop("path", None)
    strategy: str | None = kwargs.pop("strategy", None)
    pre = kwargs.pop("pre", None)
    post = kwargs.pop("post", None)
    reader: Reader | None = kwargs.pop("reader", None)
    writer: Writer | None = kwargs.pop("writer", None)

    if strategy is None and path is None and writer is None:
        data = function(*args, **kwargs)
    else:
        if strategy not in (None, *STRATEGIES):
            raise ValueError(f"Unknown query strategy: {strategy}.")
        if path is None:
            raise ValueError(f"strategy {strategy or 'lazy'!r} needs a path")
        if strategy in (None, "lazy"):
            strategy = "file" if os.path.exists(path) else "create"
        if strategy == "create":
            data = function(*args, **kwargs)
            if pre is not None:
                data = pre(data)
            folder = os.path.dirname(path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            (writer or write_json)(path, data)
            if reader is not None:
                data = reader(path)
        else:
            data = (reader or read_json)(path)
    return post(data) if post is not None else data
