"""The phantom's structure ontology: a small, hand-written mouse-like hierarchy.

Names are ordinary anatomical terms; ids (apart from the customary root 997), colours and
the tree are brainmap's own. Each region also carries the Nissl cell density the phantom
stains it with, so the stain and the annotation come from the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

ROOT_ID = 997
ONTOLOGY_ID = 1
GRAPH_ID = 1


@dataclass(frozen=True)
class Region:
    """One structure of the phantom ontology, with its place in the tree."""

    id: int
    acronym: str
    name: str
    parent: str | None
    color: str
    density: float
    depth: int
    graph_order: int
    path: tuple[int, ...]


# acronym, name, parent acronym, colour, Nissl density (0 = no tissue, 1 = densest)
_TABLE: tuple[tuple[str, str, str | None, str, float], ...] = (
    ("root", "root", None, "FFFFFF", 0.3),
    ("grey", "Grey matter", "root", "BFDAE3", 0.4),
    ("CH", "Cerebrum", "grey", "B0F0FF", 0.4),
    ("CTX", "Cerebral cortex", "CH", "B0FFB8", 0.6),
    ("ISO", "Isocortex", "CTX", "70FF71", 0.6),
    ("ISO1", "Isocortex, layer 1", "ISO", "9AE89C", 0.14),
    ("ISO2/3", "Isocortex, layer 2/3", "ISO", "4FC24F", 0.78),
    ("ISO4", "Isocortex, layer 4", "ISO", "3DAE5E", 0.84),
    ("ISO5", "Isocortex, layer 5", "ISO", "2A9B48", 0.52),
    ("ISO6", "Isocortex, layer 6", "ISO", "1F8A70", 0.66),
    ("OLF", "Olfactory areas", "CTX", "9AD2BD", 0.6),
    ("MOB", "Main olfactory bulb", "OLF", "8BC7A7", 0.72),
    ("PIR", "Piriform area", "OLF", "6ABCA0", 0.74),
    ("HPF", "Hippocampal formation", "CTX", "7ED04B", 0.34),
    ("CA", "Ammon's horn", "HPF", "5BB84A", 0.95),
    ("DG", "Dentate gyrus", "HPF", "3E9C5D", 1.0),
    ("CNU", "Cerebral nuclei", "CH", "98D6F9", 0.42),
    ("STR", "Striatum", "CNU", "80CDF8", 0.5),
    ("CP", "Caudoputamen", "STR", "6FB8E8", 0.52),
    ("ACB", "Nucleus accumbens", "STR", "5FA4D9", 0.58),
    ("PAL", "Pallidum", "CNU", "8599CC", 0.3),
    ("BS", "Brain stem", "grey", "FF7080", 0.4),
    ("IB", "Interbrain", "BS", "FF7088", 0.45),
    ("TH", "Thalamus", "IB", "FF7C8E", 0.46),
    ("HY", "Hypothalamus", "IB", "E64438", 0.5),
    ("MB", "Midbrain", "BS", "FF64FF", 0.4),
    ("SC", "Superior colliculus", "MB", "E690FF", 0.47),
    ("IC", "Inferior colliculus", "MB", "C77CF0", 0.45),
    ("PAG", "Periaqueductal gray", "MB", "B469D8", 0.55),
    ("HB", "Hindbrain", "BS", "FF9B88", 0.38),
    ("P", "Pons", "HB", "FFAE6F", 0.36),
    ("MY", "Medulla", "HB", "FF9BA0", 0.4),
    ("CB", "Cerebellum", "grey", "F0F080", 0.5),
    ("CBX", "Cerebellar cortex", "CB", "FFFC91", 0.6),
    ("CBXmo", "Cerebellar cortex, molecular layer", "CBX", "FFFDBC", 0.2),
    ("CBXgr", "Cerebellar cortex, granular layer", "CBX", "ECE754", 1.0),
    ("CBN", "Cerebellar nuclei", "CB", "D5C84C", 0.45),
    ("fiber", "Fiber tracts", "root", "CCCCCC", 0.1),
    ("cc", "Corpus callosum", "fiber", "B5B5B5", 0.08),
    ("ac", "Anterior commissure", "fiber", "A6A6A6", 0.08),
    ("int", "Internal capsule", "fiber", "999999", 0.1),
    ("arb", "Arbor vitae", "fiber", "8C8C8C", 0.07),
    ("VS", "Ventricular system", "root", "AAAAAA", 0.0),
    ("VL", "Lateral ventricle", "VS", "BDBDE0", 0.0),
    ("V3", "Third ventricle", "VS", "B0B0D8", 0.0),
    ("AQ", "Cerebral aqueduct", "VS", "A3A3CF", 0.0),
    ("V4", "Fourth ventricle", "VS", "9696C6", 0.0),
)


def _build() -> tuple[Region, ...]:
    """Number the table: ids in table order, graph order depth-first, paths from the root."""
    children: dict[str | None, list[str]] = {}
    for acronym, _name, parent, _color, _density in _TABLE:
        children.setdefault(parent, []).append(acronym)
    ids = {
        row[0]: (ROOT_ID if row[2] is None else 1000 + index) for index, row in enumerate(_TABLE)
    }
    rows = {row[0]: row for row in _TABLE}
    regions: list[Region] = []

    def visit(acronym: str, path: tuple[int, ...]) -> None:
        _acronym, name, parent, color, density = rows[acronym]
        here = (*path, ids[acronym])
        regions.append(
            Region(
                ids[acronym], acronym, name, parent, color, density, len(path), len(regions), here
            )
        )
        for child in children.get(acronym, []):
            visit(child, here)

    visit("root", ())
    return tuple(regions)


REGIONS: tuple[Region, ...] = _build()
BY_ACRONYM: dict[str, Region] = {region.acronym: region for region in REGIONS}


def lineage(acronym: str) -> list[str]:
    """`acronym` and its ancestors, nearest first."""
    chain = [acronym]
    while (parent := BY_ACRONYM[chain[-1]].parent) is not None:
        chain.append(parent)
    return chain


def inherited(values: dict[str, float], acronym: str) -> float:
    """The value set on `acronym` or its nearest ancestor that has one (0 if none)."""
    return next((values[name] for name in lineage(acronym) if name in values), 0.0)
