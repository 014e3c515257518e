"""Revision 0001: the schema of brainmap 0.1.0, the first release, as its stores have it. Every
integer is INTEGER and every reference a foreign key, on every database (0.1.0 made no
difference between them). Spelled out here, not taken from the models, so that it stays what
0.1.0 made while the models change."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

TABLES = (
    "alignment3ds",
    "graphic_group_labels",
    "mirrored_pyramids",
    "ontologies",
    "organisms",
    "plane_of_sections",
    "products",
    "specimens",
    "structure_sets",
    "treatments",
    "ages",
    "data_sets",
    "genes",
    "structure_graphs",
    "atlases",
    "data_sets_genes",
    "data_sets_products",
    "data_sets_treatments",
    "donors",
    "equalizations",
    "structures",
    "sub_images",
    "alignment2ds",
    "alternate_images",
    "atlases_graphic_group_labels",
    "structure_sets_structures",
)
"""The tables this revision creates, in order."""
RGB = ("blue", "green", "red")
ENDS = ("lower", "upper")
ALIGNMENT2D = [f"{prefix}_{i:02d}" for prefix in ("tsv", "tvs") for i in range(6)]
ALIGNMENT3D = [f"{prefix}_{i:02d}" for prefix in ("trv", "tvr") for i in range(12)]


def upgrade() -> None:
    """Create 0.1.0's tables, those referred to before those referring."""
    _record("alignment3ds", _int("aligned_id"), _str("aligned_type"), *_floats(ALIGNMENT3D))
    _index("alignment3ds", "aligned_id")
    _record("graphic_group_labels", _str("name"))
    op.create_table(
        "mirrored_pyramids",
        sa.Column("path", sa.String(), primary_key=True),
        sa.Column("downsample", sa.Integer(), primary_key=True, autoincrement=False),
        _str("file", nullable=False),
    )
    _record("ontologies", _str("name"), _str("description"))
    _record("organisms", _str("name"))
    _record("plane_of_sections", _str("name"), _int("plane_of_section_name_facet"))
    _record(
        "products",
        *_strs("abbreviation", "description", "name"),
        _int("product_name_facet"),
        *_strs("resource", "species"),
        _int("species_name_facet"),
        _str("tags"),
    )
    _record(
        "specimens",
        _int("donor_id"),
        *_strs("external_specimen_name", "hemisphere", "name"),
        *_ints("parent_id", "structure_id"),
    )
    _record("structure_sets", _str("description"), _str("name"))
    _record("treatments", _str("name"), _str("tags"))
    _record(
        "ages",
        _int("age_group_id"),
        _double("days"),
        _str("description"),
        _flag("embryonic"),
        _str("name"),
        _int("organism_id", "organisms"),
        _str("tags"),
    )
    _record(
        "data_sets",
        _str("type", nullable=False),
        _str("blue_channel"),
        *[_flag(name) for name in ("delegate", "expression", "failed")],
        _int("failed_facet"),
        *_strs("green_channel", "name"),
        _int("plane_of_section_id", "plane_of_sections"),
        sa.Column("qc_date", sa.DateTime()),
        _str("red_channel"),
        *_ints("reference_space_id", "rnaseq_design_id"),
        _double("section_thickness"),
        _int("specimen_id", "specimens"),
        _int("sphinx_id"),
        _str("storage_directory"),
        _int("weight"),
    )
    _record(
        "genes",
        *_strs("acronym", "alias_tags"),
        *_ints("chromosome_id", "ensembl_id", "entrez_id", "homologene_id"),
        _str("name"),
        _int("organism_id", "organisms"),
        _int("sphinx_id"),
    )
    _record("structure_graphs", *_strs("description", "name"), _int("ontology_id", "ontologies"))
    _record(
        "atlases",
        _int("atlas_data_set_id", "data_sets"),
        *_strs("description", "image_type", "name"),
        _int("structure_graph_id", "structure_graphs"),
    )
    _link(data_set_id="data_sets", gene_id="genes")
    _link(data_set_id="data_sets", product_id="products")
    _index("data_sets_products", "product_id")
    _link(data_set_id="data_sets", treatment_id="treatments")
    _record(
        "donors",
        _int("age_id", "ages"),
        _str("name"),
        _int("organism_id", "organisms"),
        *_strs("sex", "sex_full_name", "strain"),
        _int("transgenic_mouse_id"),
    )
    _record(
        "equalizations",
        *_ints(*[f"{colour}_{end}" for colour in RGB for end in ENDS], nullable=False),
        _int("section_data_set_id", "data_sets", nullable=False),
    )
    _index("equalizations", "section_data_set_id", unique=True)
    _record(
        "structures",
        _int("atlas_id"),
        *_strs("name", "acronym"),
        _int("st_level"),
        _int("ontology_id", "ontologies"),
        *_ints("hemisphere_id", "weight"),
        _int("parent_structure_id", "structures"),
        _int("depth"),
        _int("graph_id", "structure_graphs"),
        _int("graph_order"),
        _str("structure_id_path"),
        _str("color_hex_triplet"),
        _int("neuro_name_structure_id"),
        _str("neuro_name_structure_id_path"),
        _flag("failed"),
        *_ints("sphinx_id", "structure_name_facet", "failed_facet"),
        _str("safe_name"),
    )
    _index("structures", "graph_id")
    _record(
        "sub_images",
        _str("type", nullable=False),
        _flag("annotated"),
        _str("axes"),
        _int("bits_per_component"),
        _int("data_set_id", "data_sets"),
        *_strs("expression", "expression_path"),
        _flag("failed"),
        *_ints("height", "image_height", nullable=False),
        _str("image_type", nullable=False),
        _int("image_width", nullable=False),
        *_ints("isi_experiment_id", "lims1_id", "number_of_components", "ophys_experiment_id"),
        _str("path", nullable=False),
        _str("projection_function"),
        _double("resolution"),
        *_ints("section_number", "specimen_id", "structure_id"),
        *_ints("tier_count", "width", "x", "y", nullable=False),
    )
    _index("sub_images", "data_set_id")
    _index("sub_images", "section_number")
    _record("alignment2ds", _int("section_image_id", "sub_images"), *_floats(ALIGNMENT2D))
    _index("alignment2ds", "section_image_id")
    _record(
        "alternate_images",
        *_strs("image_type", "path", nullable=False),
        _int("sub_image_id", "sub_images", nullable=False),
        _int("atlas_id", "atlases"),
    )
    _index("alternate_images", "sub_image_id")
    _link(atlas_id="atlases", graphic_group_label_id="graphic_group_labels")
    _link(structure_set_id="structure_sets", structure_id="structures")


def _record(table: str, *columns: sa.Column[object]) -> None:
    """A model's table: its id first, its kept unknown fields (``extra``) last."""
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), primary_key=True),
        *columns,
        sa.Column("extra", sa.JSON()),
    )


def _link(**tables: str) -> None:
    """The association table of two tables (values), named after them: a key of an id of
    each (keywords)."""
    columns = [
        sa.Column(column, sa.Integer(), sa.ForeignKey(f"{table}.id"), primary_key=True)
        for column, table in tables.items()
    ]
    op.create_table("_".join(tables.values()), *columns)


def _index(table: str, column: str, unique: bool = False) -> None:
    op.create_index(f"ix_{table}_{column}", table, [column], unique=unique)


def _int(name: str, refers_to: str | None = None, nullable: bool = True) -> sa.Column[object]:
    """An integer column, a foreign key to the ids of table `refers_to` if given."""
    references = [sa.ForeignKey(f"{refers_to}.id")] if refers_to else []
    return sa.Column(name, sa.Integer(), *references, nullable=nullable)


def _ints(*names: str, nullable: bool = True) -> list[sa.Column[object]]:
    return [_int(name, nullable=nullable) for name in names]


def _str(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _strs(*names: str, nullable: bool = True) -> list[sa.Column[object]]:
    return [_str(name, nullable=nullable) for name in names]


def _floats(names: list[str]) -> list[sa.Column[object]]:
    return [sa.Column(name, sa.Float()) for name in names]


def _double(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Double())


def _flag(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Boolean(), nullable=False)
