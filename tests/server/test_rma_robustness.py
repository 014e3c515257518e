"""What any client can send: the client builder's queries parse, injection strings stay values,
and random bytes over HTTP never reach a 5xx (every failure names its stage and reason)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brainmap.client.allensdk.rma_api import RmaApi
from brainmap.errors import RmaError
from brainmap.rma.parse import parse_query
from brainmap.store.folder import Store
from brainmap.store.query.values import MAX_PATTERN
from loopback import call
from rma_store import ids, run

BUILDER = RmaApi()
words = st.text("abcxyz_", min_size=1, max_size=8)
attributes = st.builds(lambda a, b: f"{a}.{b}" if b else a, words, st.one_of(st.just(""), words))
rhs = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    words,
    st.text(max_size=10).map(lambda text: BUILDER.quote_string(text.replace("'", "''"))),
)
paths = st.sampled_from(
    ["[id$eq1]", "products[id$in10,22]", "section_data_set(section_images[id$in1,2])", "genes"]
)


@settings(max_examples=200, deadline=None)
@given(
    model=st.sampled_from(["Gene", "SectionDataSet", "AtlasImage"]),
    filters=st.dictionaries(words, rhs, max_size=2),
    criteria=st.one_of(st.none(), paths),
    include=st.one_of(st.none(), paths),
    only=st.one_of(st.none(), st.lists(attributes, min_size=1, max_size=3)),
    num_rows=st.one_of(st.none(), st.just("all"), st.integers(0, 10**5)),
    start_row=st.one_of(st.none(), st.integers(0, 10**5)),
    order=st.one_of(
        st.none(), st.lists(st.builds(str.__add__, attributes, st.sampled_from(["", "+desc"])))
    ),
    debug=st.sampled_from([None, True, False, "preview"]),
    count=st.sampled_from([None, True, False]),
    pipe=st.booleans(),
)
def test_every_builder_query_parses(pipe: bool, **kwargs: object) -> None:
    stage = BUILDER.model_stage(**{key: value for key, value in kwargs.items() if value != []})
    stages = (
        [stage, BUILDER.pipe_stage("list", [("ids", "$is", "'id'")]), stage] if pipe else [stage]
    )
    url = BUILDER.build_query_url(stages)
    parse_query(url.split("?q=", 1)[1])


INJECTIONS = [
    "'; DROP TABLE genes; --",
    "1 OR 1=1",
    "x' UNION SELECT sqlite_version() --",
    "/* comment */ id",
    "a\\' OR \\'1",
    "%_*?[]",
    "名前 ☃ \u202e \U0001f600",
    "\x00\x01\n\r\t",
    "x" * 65_536,
]


@pytest.mark.parametrize("value", INJECTIONS, ids=lambda value: repr(value[:20]))
def test_injection_corpus_is_only_ever_a_value(rma_store: Store, value: str) -> None:
    quoted = value.replace("'", "''")
    every = ",rma::options[num_rows$eq'all']"
    if "\x00" in value:  # no database stores NUL (PostgreSQL cannot): refused, not unmatched
        for op in ("$eq", "$ne", "$il"):
            with pytest.raises(RmaError, match="NUL character"):
                run(rma_store, f"model::Gene,rma::criteria,[name{op}'{quoted}']")
        return
    assert ids(rma_store, f"model::Gene,rma::criteria,[name$eq'{quoted}']") == []
    assert ids(rma_store, f"model::Gene,rma::criteria,[name$in'{quoted}','x']") == []
    assert len(ids(rma_store, f"model::Gene,rma::criteria,[name$ne'{quoted}']{every}")) == 120
    like = f"model::Gene,rma::criteria,[acronym$il'{quoted}']"
    if len(value) > MAX_PATTERN:
        with pytest.raises(RmaError, match="pattern longer than"):
            run(rma_store, like)
    else:
        assert ids(rma_store, like) == []
    assert run(rma_store, "model::Gene")[0].total_rows == 120


fuzz_text = st.text(
    alphabet="model::rma,criteria[]()'$eqinli*_.GeneSectionImage0123 +%;-\"\x00é☃", max_size=80
)


@settings(max_examples=300, deadline=None)
@given(fuzz_text, st.sampled_from(["json", "xml", "csv"]))
def test_random_queries_over_http_never_fail_the_server(
    rma_server: str, text: str, fmt: str
) -> None:
    status, _, body = call(rma_server, f"/api/v2/data/query.{fmt}", "q=" + quote(text, safe=""))
    assert status == 200
    if fmt == "json":
        reply = json.loads(body)
        if not reply["success"]:
            _stage, _, reason = reply["msg"].removeprefix("Error in query: ").rpartition(", ")
            assert reply["msg"].startswith("Error in query: ") and reason
