"""Reference rows of the demo store: products, planes, organisms, genes, the atlas.

Product ids and names, plane ids, the atlas and its structure graph follow the public API
(abbreviations marked "ours" below are guesses where no source gives one). Genes are real mouse
genes with their Entrez ids; the expression profiles over the phantom ontology are brainmap's
own caricatures, looked up through :func:`~brainmap.demo.phantom_ontology.inherited`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from brainmap.store.schema import Atlas, Ontology, Organism, PlaneOfSection, Product, StructureGraph

MOUSE = 2
HUMAN = 1
FAILED_FALSE_FACET = 734881840
ATLAS_ID = 1
ATLAS_IMAGE_TYPE = "Atlas - Adult Mouse"

# id, name, abbreviation, resource, species
_PRODUCTS: tuple[tuple[int, str, str, str, str], ...] = (
    (1, "Mouse Brain", "Mouse", "Mouse Brain", "Mouse"),
    (2, "Human Brain Microarray", "HumanMA", "Human Brain", "Human"),
    (3, "Developing Mouse Brain", "DevMouse", "Developing Mouse Brain", "Mouse"),  # ours
    (5, "Mouse Connectivity Projection", "MouseConn", "Mouse Connectivity", "Mouse"),  # ours
    (7, "Mouse Connectivity Reference Data", "ConnRef", "Mouse Connectivity", "Mouse"),
    (9, "Human Brain ISH Cortex Study", "HumanCtx", "Human Brain", "Human"),
    (10, "Human Brain ISH SubCortex Study", "HumanSubCtx", "Human Brain", "Human"),
    (11, "Human Brain ISH Schizophrenia Study", "HumanSZ", "Human Brain", "Human"),
    (12, "Mouse Brain Reference Data", "MouseRef", "Mouse Brain", "Mouse"),  # ours
    (22, "Developing Human Brain ISH", "DevHumanISH", "Developing Human Brain", "Human"),
    (25, "Developing Human Reference Data", "DevHumanRef", "Developing Human Brain", "Human"),
    (26, "Human Brain ISH Autism Study", "HumanASD", "Human Brain", "Human"),
    (27, "Human Brain ISH Neurotransmitter Study", "HumanNT", "Human Brain", "Human"),
)


def facet(text: str) -> int:
    """A stable facet number for a name (the API's facets are opaque integers)."""
    return zlib.crc32(text.encode())


def products() -> list[Product]:
    """The product list (a subset of the public one, with its real ids)."""
    return [
        Product(
            id=id_,
            name=name,
            abbreviation=abbreviation,
            description=f"{name} (brainmap demo store: synthetic images)",
            resource=resource,
            species=species,
            product_name_facet=facet(name),
            species_name_facet=facet(species),
            tags="",
        )
        for id_, name, abbreviation, resource, species in _PRODUCTS
    ]


def reference_rows() -> list[Organism | PlaneOfSection | Ontology | StructureGraph]:
    """Organisms, planes of section, the mouse ontology and its structure graph."""
    return [
        Organism(id=HUMAN, name="Homo sapiens"),
        Organism(id=MOUSE, name="Mus musculus"),
        PlaneOfSection(id=1, name="coronal", plane_of_section_name_facet=facet("coronal")),
        PlaneOfSection(id=2, name="sagittal", plane_of_section_name_facet=facet("sagittal")),
        Ontology(id=1, name="Mouse Brain Atlas", description="brainmap phantom mouse ontology"),
        StructureGraph(
            id=1, name="Mouse Brain Atlas", description="phantom structure graph", ontology_id=1
        ),
    ]


def atlas(atlas_data_set_id: int) -> Atlas:
    """Atlas 1, whose plates live in the phantom atlas data set."""
    return Atlas(
        id=ATLAS_ID,
        name="Mouse, P56, Coronal",
        image_type=ATLAS_IMAGE_TYPE,
        description="Synthetic coronal reference plates (brainmap phantom)",
        structure_graph_id=1,
        atlas_data_set_id=atlas_data_set_id,
    )


@dataclass(frozen=True)
class GeneProfile:
    """A mouse gene and its phantom expression level (0..1) by structure acronym."""

    acronym: str
    name: str
    entrez_id: int
    aliases: str
    levels: dict[str, float] = field(default_factory=dict)


GENES: tuple[GeneProfile, ...] = (
    GeneProfile(
        "Gad1",
        "glutamate decarboxylase 1",
        14415,
        "GAD67 Gad67",
        {
            "STR": 0.9,
            "PAL": 0.75,
            "CTX": 0.14,
            "HPF": 0.14,
            "MOB": 0.85,
            "HY": 0.45,
            "MB": 0.3,
            "SC": 0.5,
            "IC": 0.55,
            "HB": 0.25,
            "CBXmo": 0.8,
            "CBXgr": 0.12,
            "CBN": 0.3,
        },
    ),
    GeneProfile(
        "Slc17a7",
        "solute carrier family 17 (sodium-dependent inorganic phosphate cotransporter), member 7",
        72961,
        "VGLUT1 Vglut1",
        {
            "CTX": 0.85,
            "ISO1": 0.03,
            "ISO4": 0.65,
            "OLF": 0.7,
            "MOB": 0.45,
            "HPF": 0.3,
            "CA": 0.95,
            "DG": 0.95,
            "TH": 0.3,
            "CBXgr": 0.9,
        },
    ),
    GeneProfile(
        "Calb1",
        "calbindin 1",
        12307,
        "Calb calbindin-D28k",
        {
            "ISO": 0.25,
            "ISO2/3": 0.8,
            "HPF": 0.2,
            "DG": 0.85,
            "CA": 0.45,
            "STR": 0.5,
            "TH": 0.35,
            "HY": 0.3,
            "MB": 0.2,
            "SC": 0.45,
            "CBXmo": 0.85,
            "MOB": 0.4,
        },
    ),
    GeneProfile(
        "Pvalb",
        "parvalbumin",
        19293,
        "PV Pva",
        {
            "ISO": 0.3,
            "ISO1": 0.0,
            "ISO4": 0.6,
            "ISO5": 0.5,
            "HPF": 0.12,
            "CA": 0.3,
            "STR": 0.15,
            "PAL": 0.6,
            "TH": 0.25,
            "SC": 0.35,
            "IC": 0.45,
            "HB": 0.3,
            "CBXmo": 0.9,
            "CBN": 0.6,
        },
    ),
    GeneProfile("Prox1", "prospero homeobox 1", 19130, "Prox-1", {"DG": 0.95}),
    GeneProfile("Rorb", "RAR-related orphan receptor beta", 225998, "Nr1f2", {"ISO4": 0.9}),
    GeneProfile("Drd1", "dopamine receptor D1", 13488, "Drd1a D1R", {"STR": 0.9, "ISO6": 0.3}),
    GeneProfile("Penk", "preproenkephalin", 18619, "Penk1 ENK", {"STR": 0.85, "ISO2/3": 0.2}),
)
