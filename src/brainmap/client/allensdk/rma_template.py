"""`RmaTemplate`: named RMA model queries filled in from keyword arguments.

Criteria and include templates use a tiny subset of Jinja, rendered here without Jinja:
``{{ name }}`` (an absent name renders empty) and ``{% if name is defined %}…{% endif %}``.
Anything else raises ValueError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from brainmap.client._http.transport import Transport
from brainmap.client.allensdk.rma_api import RmaApi

Template = Mapping[str, Any]
"""One query template: ``name``, ``model`` and optional ``criteria``, ``criteria_params``,
``include``, ``include_params``, ``only``, ``except``, ``num_rows``, ``start_row``, ``count``,
``order``."""

_CONDITION = re.compile(r"{%\s*if\s+(\w+)\s+is\s+defined\s*%}(.*?){%\s*endif\s*%}", re.DOTALL)
_VARIABLE = re.compile(r"{{\s*(\w+)\s*}}")
_OPTIONS = ("start_row", "num_rows", "count", "order")
_QUOTED_LISTS = ("only", "except")


def render_template(template: str, params: Mapping[str, Any]) -> str:
    """Fill `template` from `params` (values rendered with `str`)."""
    leftover = _VARIABLE.sub("", _CONDITION.sub(r"\2", template))
    if "{{" in leftover or "{%" in leftover:
        raise ValueError(f"unsupported template syntax in {template!r}")
    text = _CONDITION.sub(lambda m: m.group(2) if m.group(1) in params else "", template)
    return _VARIABLE.sub(lambda m: str(params[m.group(1)]) if m.group(1) in params else "", text)


class RmaTemplate(RmaApi):
    """An `RmaApi` with a manifest of named query templates (``{group: [template, ...]}``)."""

    def __init__(
        self,
        base_uri: str | None = None,
        query_manifest: Mapping[str, Sequence[Template]] | None = None,
        *,
        transport: Transport | None = None,
    ) -> None:
        super().__init__(base_uri, transport=transport)
        self.templates = query_manifest

    def to_filter_rhs(self, rhs: Any) -> Any:
        """A list becomes its items joined by commas; anything else is returned unchanged."""
        if type(rhs) is list:
            return ",".join(str(item) for item in rhs)
        return rhs

    def template_query(self, template_name: str, entry_name: str, **kwargs: Any) -> Any:
        """Run the template `entry_name` of group `template_name` and return its rows.

        Template parameters come from `kwargs` (None values are left out). ``only`` and
        ``except`` lists are sent in single quotes (``[only$eq'a,b']``); ``start_row``,
        ``num_rows``, ``count`` and ``order`` in `kwargs` override the template's; other
        keyword arguments reach `model_stage` (e.g. ``include``, ``tabular``, ``debug``).
        """
        if self.templates is None:
            raise ValueError("this RmaTemplate has no query manifest")
        matches = [entry for entry in self.templates[template_name] if entry["name"] == entry_name]
        if not matches:
            raise ValueError(f"Entry {entry_name} not found.")
        template = matches[0]
        query: dict[str, Any] = {"model": template["model"]}
        for part in ("criteria", "include"):
            if part in template:
                names = template.get(part + "_params", ())
                params = {
                    name: self.to_filter_rhs(kwargs[name])
                    for name in names
                    if kwargs.get(name) is not None
                }
                text = render_template(template[part], params)
                if text:
                    query[part] = text
        for key in _QUOTED_LISTS:
            values = kwargs[key] if key in kwargs else template.get(key)
            if values is not None:
                query[key] = [self.quote_string(",".join(values))]
        for key in _OPTIONS:
            if key in kwargs:
                query[key] = kwargs[key]
            elif key in template:
                query[key] = template[key]
        for key, value in kwargs.items():
            if key not in _QUOTED_LISTS:
                query.setdefault(key, value)
        return self.model_query(**query)
