"""The data routes over loopback against the real server on the RMA store (raw request lines,
any URL length)."""

from __future__ import annotations

from urllib.parse import quote

from loopback import call, get_json

ATLAS_IMAGES = (
    "model::Atlas,rma::criteria,[id$eq1],rma::options[only$eqimage_type],"
    "pipe::list[type_name$is'image_type'],model::AtlasImage,rma::criteria,[annotated$eqtrue],"
    "atlas_data_set(atlases[id$eq1]),alternate_images[image_type$eq$type_name],"
    "rma::options[num_rows$eq'all'][order$eqsub_images.section_number]"
)


def test_allensdk_encoding(rma_server: str) -> None:
    # requests.utils.quote(url, ';/?:@&=+$,'): brackets, quotes, parentheses, spaces encoded.
    query = "q=" + quote(ATLAS_IMAGES, safe=";/?:@&=+$,")
    reply = get_json(rma_server, "/api/v2/data/query.json", query)
    assert [record["id"] for record in reply["msg"]] == [2002, 2001]
    assert (reply["success"], reply["num_rows"], reply["total_rows"]) == (True, 2, 2)


def test_unencoded_brackets_quotes_and_plus_for_space(rma_server: str) -> None:
    query = (
        "criteria=model::AtlasImage,rma::criteria,[annotated$eqtrue],"
        "alternate_images[image_type$eq'Atlas+-+Adult+Mouse'],rma::options[only$eqid]"
    )
    reply = get_json(rma_server, "/api/v2/data/query.json", query)
    assert reply["msg"] == [{"id": 2001}, {"id": 2002}, {"id": 2101}]


def test_json_envelope_bytes(rma_server: str) -> None:
    _, _, body = call(
        rma_server, "/api/v2/data/query.json", "q=model::Gene,rma::options[only$eqid][num_rows$eq2]"
    )
    assert body == (
        b'{"success": true, "id": 0, "start_row": 0, "num_rows": 2, "total_rows": 120, '
        b'"msg": [{"id":1},{"id":2}]}'
    )


def test_all_rows_stream(rma_server: str) -> None:
    reply = get_json(
        rma_server, "/api/v2/data/query.json", "q=model::Gene,rma::options[num_rows$eq'all']"
    )
    assert len(reply["msg"]) == reply["num_rows"] == reply["total_rows"] == 120


def test_error_is_200_with_success_false(rma_server: str) -> None:
    reply = get_json(rma_server, "/api/v2/data/query.json", "q=model::Nope")
    assert reply == {
        "success": False,
        "id": 0,
        "start_row": 0,
        "num_rows": 0,
        "total_rows": 0,
        "msg": "Error in query: model::Nope, unknown model Nope",
    }
    assert get_json(rma_server, "/api/v2/data/query.json", "q=model::Gene,[")["success"] is False
    assert get_json(rma_server, "/api/v2/data/query.json")["msg"] == "Error in query: , empty query"


def test_injection_in_the_url(rma_server: str) -> None:
    name = quote("'O''Brien; DROP TABLE genes; --'")
    reply = get_json(
        rma_server, "/api/v2/data/query.json", f"q=model::Gene,rma::criteria,[name$eq{name}]"
    )
    assert [record["id"] for record in reply["msg"]] == [17]
    assert get_json(rma_server, "/api/v2/data/query.json", "q=model::Gene")["total_rows"] == 120


def test_xml_and_csv(rma_server: str) -> None:
    query = (
        "q=model::SectionDataSet,rma::criteria,[id$in100,102],"
        "rma::options[only$eq'id,failed,qc_date']"
    )
    status, headers, body = call(rma_server, "/api/v2/data/query.xml", query)
    assert status == 200 and headers["content-type"] == "application/xml"
    assert b'<Response success="true" id="0" start_row="0" num_rows="2" total_rows="2">' in body
    assert b"<section-data-set><failed>false</failed><id>100</id>" in body
    status, headers, body = call(rma_server, "/api/v2/data/query.csv", query)
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert body == b"id,failed,qc_date\n100,f,\n102,f,2011-12-14T18:20:48Z\n"


def test_record_by_id(rma_server: str) -> None:
    reply = get_json(
        rma_server, "/api/v2/data/SectionDataSet/100.json", "include=equalization,section_images"
    )
    (record,) = reply["msg"]
    assert record["id"] == 100 and record["equalization"]["red_upper"] == 923
    assert [image["id"] for image in record["section_images"]] == [1001, 1002, 1003]
    assert get_json(rma_server, "/api/v2/data/SectionDataSet/999.json")["msg"] == []
    assert get_json(rma_server, "/api/v2/data/Nope/1.json")["success"] is False


def test_legacy_model_query(rma_server: str) -> None:
    reply = get_json(
        rma_server,
        "/api/v2/data/Gene/query.json",
        "criteria=[acronym$il'adora*']&include=organism&only=id,organisms.name",
    )
    assert reply["msg"] == [{"id": 15, "organism": {"name": "Mus musculus"}}]
    paged = get_json(
        rma_server, "/api/v2/data/Gene/query.json", "order=id+desc&num_rows=2&start_row=1"
    )
    assert [record["id"] for record in paged["msg"]] == [119, 118]
    assert paged["start_row"] == 1 and paged["total_rows"] == 120
    assert get_json(rma_server, "/api/v2/data/Gene/query.json", "num_rows=x")["success"] is False


def test_include_model_variant(rma_server: str) -> None:
    reply = get_json(rma_server, "/api/v2/data/query.json", "include=model::Gene[id$eq15]")
    assert [record["acronym"] for record in reply["msg"]] == ["Adora2a"]


def test_limits_and_unknown_formats(rma_server: str) -> None:
    status, _, body = call(rma_server, "/api/v2/data/query.json", "q=model::Gene" + "," * 70_000)
    assert status == 414 and b"64 KiB" in body
    status, _, _ = call(rma_server, "/api/v2/data/query.json", "q=model::Gene" + "," * 65_000)
    assert status == 200
    status, _, _ = call(rma_server, "/api/v2/data/query.txt", "q=model::Gene")
    assert status == 404


def test_content_disposition(rma_server: str) -> None:
    _, headers, _ = call(rma_server, "/api/v2/data/query.xml", "q=model::Gene")
    assert headers["content-disposition"] == 'attachment; filename="query.xml"'
    _, headers, _ = call(
        rma_server, "/api/v2/data/query.csv", "q=model::Gene&filename=genes%22;x.csv"
    )
    assert headers["content-disposition"] == 'attachment; filename="genes__x.csv"'


def test_debug_after_msg(rma_server: str) -> None:
    _, _, body = call(
        rma_server,
        "/api/v2/data/query.json",
        "q=model::Gene,rma::options[only$eqid][debug$eqpreview]",
    )
    assert body == (
        b'{"success": true, "id": 0, "start_row": 0, "num_rows": 0, "total_rows": 0, "msg": [], '
        b'"debug": {"query": "model::Gene,rma::options[only$eq\'id\'][debug$eqpreview]"}}'
    )
    _, _, xml = call(
        rma_server, "/api/v2/data/query.xml", "q=model::Gene,rma::options[debug$eqtrue]"
    )
    assert xml.endswith(
        b"</genes><debug><query>model::Gene,rma::options[debug$eqtrue]</query></debug></Response>"
    )


def test_enumerate_and_describe(rma_server: str) -> None:
    names = [
        record["name"] for record in get_json(rma_server, "/api/v2/data/enumerate.json")["msg"]
    ]
    assert {"SectionImage", "Donor", "Age", "Treatment", "StructureSet", "Alignment2d"} <= set(
        names
    )
    assert names == sorted(names)
    (image,) = get_json(rma_server, "/api/v2/data/SectionImage/describe.json")["msg"]
    assert image["table"] == "sub_images"
    assert {"name": "resolution", "type": "float"} in image["attributes"]
    assert {"many": False, "model": "Alignment2d", "name": "alignment2d"} in image["associations"]
    failed = get_json(rma_server, "/api/v2/data/Nope/describe.json")
    assert failed["msg"] == "Error in query: model::Nope, unknown model Nope"
