"""SQLAlchemy models named after the Allen Brain Map API models, by family.

Attribute names, table names (lower-case plurals, used to qualify attributes in RMA such as
``sub_images.section_number``) and relationship names (the RMA association names such as
``section_data_set`` or ``alternate_images``) are those of the real API, so the RMA compiler
can resolve a query by introspecting these classes alone.

Columns marked ``info={"hidden": True}`` are brainmap bookkeeping: never emitted in records
and never addressable from RMA. Importing this package maps every model.
"""

from brainmap.store.schema.access import public_data_sets, read_tokens
from brainmap.store.schema.base import HIDDEN, Base, Record, model_classes
from brainmap.store.schema.data_sets import (
    AtlasDataSet,
    DataSet,
    Equalization,
    Gene,
    PlaneOfSection,
    Product,
    SectionDataSet,
    Treatment,
    data_sets_genes,
    data_sets_products,
    data_sets_treatments,
)
from brainmap.store.schema.images import (
    Alignment2d,
    Alignment3d,
    AlternateImage,
    AtlasImage,
    SectionImage,
    SubImage,
    mirrored_pyramids,
)
from brainmap.store.schema.ontology import (
    Atlas,
    GraphicGroupLabel,
    Ontology,
    Structure,
    StructureGraph,
    StructureSet,
    atlases_graphic_group_labels,
    structure_sets_structures,
)
from brainmap.store.schema.reference_spaces import ReferenceSpace
from brainmap.store.schema.subjects import Age, Donor, Organism, Specimen

__all__ = [
    "HIDDEN",
    "Age",
    "Alignment2d",
    "Alignment3d",
    "AlternateImage",
    "Atlas",
    "AtlasDataSet",
    "AtlasImage",
    "Base",
    "DataSet",
    "Donor",
    "Equalization",
    "Gene",
    "GraphicGroupLabel",
    "Ontology",
    "Organism",
    "PlaneOfSection",
    "Product",
    "Record",
    "ReferenceSpace",
    "SectionDataSet",
    "SectionImage",
    "Specimen",
    "Structure",
    "StructureGraph",
    "StructureSet",
    "SubImage",
    "Treatment",
    "atlases_graphic_group_labels",
    "data_sets_genes",
    "data_sets_products",
    "data_sets_treatments",
    "mirrored_pyramids",
    "model_classes",
    "public_data_sets",
    "read_tokens",
    "structure_sets_structures",
]
