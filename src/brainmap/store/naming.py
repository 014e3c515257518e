"""Model names as the Allen API's XML spells them: ``SectionDataSet`` -> ``section_data_set``
(a record element), pluralised for its collection (``section_data_sets``), and back."""

from __future__ import annotations

import re

CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
SIBILANT_END = re.compile(r"(s|x|z|ch|sh)$")
SIBILANT_PLURAL_END = re.compile(r"(s|x|z|ch|sh)es$")
CONSONANT_Y_END = re.compile(r"[^aeiou]y$")


def snake_case(model: str) -> str:
    """``SectionDataSet`` -> ``section_data_set``."""
    return CAMEL_BOUNDARY.sub("_", model).lower()


def plural(name: str) -> str:
    """English plural of a snake-case name: ``atlas`` -> ``atlases``, ``ontology`` ->
    ``ontologies``, ``gene`` -> ``genes``."""
    if SIBILANT_END.search(name):
        return name + "es"
    if CONSONANT_Y_END.search(name):
        return name[:-1] + "ies"
    return name + "s"


def singular(name: str) -> str:
    """The inverse of `plural` on the names it produces."""
    if name.endswith("ies"):
        return name[:-3] + "y"
    if SIBILANT_PLURAL_END.search(name):
        return name[:-2]
    return name.removesuffix("s")
