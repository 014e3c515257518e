"""Checks of the RMA query language: paging, options, filters, association paths and pipes."""

from __future__ import annotations

from brainmap.testing import rma
from brainmap.testing.kit import Basis, CheckGroup
from brainmap.testing.rma import Record, integer, quoted, stage
from brainmap.testing.samples import Probe, plate_stages
from brainmap.testing.verdicts import Skipped, expect, expect_equal, require

QUERIES = CheckGroup()

DEFAULT_PAGE = 50
PIPED_PLATES = 5
UNUSED_PRODUCT_ID = 0


def _data_set_criteria(probe: Probe) -> str:
    return f"[data_set_id$eq{integer(probe.samples.section_image, 'data_set_id')}]"


def _graph_criteria(probe: Probe) -> str:
    return f"[graph_id$eq{probe.samples.structure_graph_id}]"


def _structure_rows(probe: Probe, options: str = "") -> tuple[Record, int]:
    """The envelope of the graph's structures queried with `options`, and its total_rows;
    skipped unless the graph has more structures than a default page."""
    envelope = rma.query(probe.server, stage("Structure", _graph_criteria(probe), options=options))
    total = integer(envelope, "total_rows")
    require(total > DEFAULT_PAGE, f"the structure graph has {total} structures, not over 50")
    return envelope, total


@QUERIES.add("default-page", Basis.ALLEN_API, "§3.3")
def default_page(probe: Probe) -> None:
    """without num_rows a query returns the first 50 rows and says so in num_rows"""
    envelope, _ = _structure_rows(probe)
    expect_equal(envelope["num_rows"], DEFAULT_PAGE, "num_rows")
    expect_equal(len(envelope["msg"]), DEFAULT_PAGE, "records in msg")


@QUERIES.add("all-rows", Basis.ALLEN_API, "§3.3")
def all_rows(probe: Probe) -> None:
    """num_rows 'all' returns every row: num_rows, total_rows and the records agree"""
    envelope, total = _structure_rows(probe, "[num_rows$eq'all']")
    expect_equal(envelope["num_rows"], total, "num_rows against total_rows")
    expect_equal(len(envelope["msg"]), total, "records against total_rows")


@QUERIES.add("paging", Basis.ALLEN_API, "§3.3")
def paging(probe: Probe) -> None:
    """start_row pages through the rows: pages follow each other, start_row is echoed and total_rows
    is the same on every page"""
    images = rma.ids(probe.samples.data_set_images)
    require(len(images) >= 4, "the data set has fewer than 4 images")
    for start in (0, 2):
        options = f"[num_rows$eq2][start_row$eq{start}][order$eqid]"
        envelope = rma.query(
            probe.server, stage("SectionImage", _data_set_criteria(probe), options=options)
        )
        expect_equal(envelope["start_row"], start, "start_row")
        expect_equal(envelope["num_rows"], 2, f"num_rows of the page at {start}")
        expect_equal(envelope["total_rows"], len(images), f"total_rows of the page at {start}")
        expect_equal(
            rma.ids(envelope["msg"]), images[start : start + 2], f"ids of the page at {start}"
        )


@QUERIES.add("order", Basis.ALLEN_API, "§3.3")
def order(probe: Probe) -> None:
    """order sorts the rows, ascending by default, descending with +desc"""
    images = rma.ids(probe.samples.data_set_images)
    require(len(images) >= 2, "the data set has fewer than 2 images")
    for key, expected in (("id", sorted(images)), ("id+desc", sorted(images, reverse=True))):
        options = f"[num_rows$eq'all'][order$eq{key}]"
        found = rma.records(
            probe.server, stage("SectionImage", _data_set_criteria(probe), options=options)
        )
        expect_equal(rma.ids(found), expected, f"ids with order {key}")


@QUERIES.add("only", Basis.ALLEN_API, "§3.3")
def only(probe: Probe) -> None:
    """only keeps the named fields, quoted or not"""
    for fields in ("id,section_number", "'id,section_number'"):
        options = f"[only$eq{fields}][num_rows$eq2]"
        for record in rma.records(
            probe.server, stage("SectionImage", _data_set_criteria(probe), options=options)
        ):
            expect_equal(sorted(record), ["id", "section_number"], f"fields with only {fields}")


@QUERIES.add("filter-eq-in", Basis.ALLEN_API, "§3.2")
def filter_eq_in(probe: Probe) -> None:
    """$eq keeps the equal row, $in the rows in the list"""
    images = rma.ids(probe.samples.data_set_images)
    require(len(images) >= 3, "the data set has fewer than 3 images")
    for criteria, expected in (
        (f"[id$eq{images[1]}]", [images[1]]),
        (f"[id$in{images[0]},{images[2]}]", [images[0], images[2]]),
    ):
        found = rma.records(probe.server, stage("SectionImage", criteria))
        expect_equal(sorted(rma.ids(found)), expected, f"ids with {criteria}")


@QUERIES.add("filter-like", Basis.ALLEN_API, "§3.2")
def filter_like(probe: Probe) -> None:
    """$li matches with * as the wildcard and respects case; $il ignores case"""
    structure = probe.samples.structure
    acronym = structure.get("acronym")
    if not (isinstance(acronym, str) and acronym.isalnum() and acronym.swapcase() != acronym):
        raise Skipped(f"the structure's acronym {acronym!r} is not letters and digits")
    structure_id = integer(structure, "id")
    swapped = acronym.swapcase()
    for operator, prefix, folded, found_expected in (
        ("$li", acronym, False, True),
        ("$li", swapped, False, False),
        ("$il", swapped, True, True),
    ):
        criteria = f"{_graph_criteria(probe)}[acronym{operator}'{prefix}*']"
        found = rma.records(
            probe.server, stage("Structure", criteria, options="[num_rows$eq'all']")
        )
        for record in found:
            name = str(record.get("acronym"))
            matches = name.lower().startswith(prefix.lower()) if folded else name.startswith(prefix)
            expect(matches, f"{operator}'{prefix}*' returned acronym {name!r}")
        expect_equal(
            structure_id in rma.ids(found),
            found_expected,
            f"{operator}'{prefix}*' finds {acronym!r}",
        )


@QUERIES.add("filter-exists", Basis.ALLEN_API, "§3.2")
def filter_exists(probe: Probe) -> None:
    """a filter without operator drops the records whose attribute is null"""
    images = probe.samples.data_set_images
    expected = [integer(r, "id") for r in images if r.get("expression_path") is not None]
    criteria = f"{_data_set_criteria(probe)}[expression_path]"
    found = rma.records(probe.server, stage("SectionImage", criteria, options="[num_rows$eq'all']"))
    expect_equal(sorted(rma.ids(found)), expected, "ids of the images with an expression_path")


@QUERIES.add("criteria-association", Basis.ALLEN_API, "§3.2")
def criteria_association(probe: Probe) -> None:
    """an association path in rma::criteria restricts the top-level model"""
    data_set = integer(probe.samples.section_image, "data_set_id")
    found = rma.records(probe.server, stage("SectionDataSet", f"[id$eq{data_set}]", "products"))
    require(bool(found) and bool(found[0].get("products")), f"data set {data_set} has no product")
    product = integer(found[0]["products"][0], "id")
    for product_id, expected in ((product, [data_set]), (UNUSED_PRODUCT_ID, [])):
        criteria = f"[id$eq{data_set}],products[id$eq{product_id}]"
        restricted = rma.records(probe.server, stage("SectionDataSet", criteria))
        expect_equal(rma.ids(restricted), expected, f"data sets with {criteria}")


@QUERIES.add("include", Basis.ALLEN_API, "§3.2, §4.1")
def include(probe: Probe) -> None:
    """rma::include nests the associated records after the record's own fields; a filter in the
    include restricts the children"""
    images = rma.ids(probe.samples.data_set_images)
    require(bool(images), "the data set lists no images")
    data_set = integer(probe.samples.section_image, "data_set_id")
    for path, expected in (
        ("section_images", None),
        (f"section_images[id$eq{images[0]}]", images[:1]),
    ):
        found = rma.records(probe.server, stage("SectionDataSet", f"[id$eq{data_set}]", path))
        expect_equal(rma.ids(found), [data_set], f"data sets including {path}")
        keys = list(found[0])
        expect_equal(keys[-1], "section_images", f"last key of the data set including {path}")
        expect_equal(keys[:-1], sorted(keys[:-1]), "order of the data set's own keys")
        children = found[0]["section_images"]
        expect(isinstance(children, list) and bool(children), f"{path}: no list of images")
        for child in children:
            expect_equal(child.get("data_set_id"), data_set, f"data_set_id of included {child}")
        included = sorted(rma.ids(children))
        expect(set(included) <= set(images), f"{path} included images {included}")
        if expected is not None:
            expect_equal(included, expected, f"images included with {path}")


@QUERIES.add("pipe-list", Basis.ALLEN_API, "§2.4, §3.4")
def pipe_list(probe: Probe) -> None:
    """allensdk's atlas_image_query: pipe::list binds the atlas's image_type for the next stage"""
    plate = probe.samples.atlas_plate
    atlas = plate.atlas_id
    piped = (
        stage("Atlas", f"[id$eq{atlas}]", options="[only$eqimage_type]")
        + ",pipe::list[type_name$is'image_type'],"
        + plate_stages(atlas, "$type_name", PIPED_PLATES)
    )
    direct = rma.records(probe.server, plate_stages(atlas, quoted(plate.image_type), PIPED_PLATES))
    expect_equal(
        rma.ids(rma.records(probe.server, piped)), rma.ids(direct), "plates through the pipe"
    )
