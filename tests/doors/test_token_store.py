"""The token doors outside the served matrix (docs/deployment.md "Read tokens"): the
``token`` and ``public`` commands, tokens kept as digests and revoked within the check's few
seconds, the rule in the store on each database, and a token check on a database gone."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from brainmap import NotFound
from brainmap.cli import main
from brainmap.params import ImageRequest
from brainmap.server.access import vary_by_authorization
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store import schema as s
from brainmap.store.access import (
    TokenCheck,
    add_token,
    hide_private_data,
    mark_public,
    public_only,
    revoke_token,
    token_digest,
)
from brainmap.store.folder import Store
from brainmap.store.lookups import resolve_source
from loopback import request
from rma_store import _image, run


def test_tokens_are_kept_as_digests_and_revocation_waits_for_the_check(tmp_path: Path) -> None:
    store = Store.create(tmp_path)
    now = [100.0]
    check = TokenCheck(store, seconds=5, clock=lambda: now[0])
    token = add_token(store, "lab")
    with store.session() as session:
        (row,) = session.execute(select(s.read_tokens)).all()
    assert row.name == "lab" and row.digest == token_digest(token)
    assert token not in repr(tuple(row)) and len(token) >= 43  # 32 random bytes
    assert check.valid(token) and not check.valid(token + "x")
    revoke_token(store, "lab")
    now[0] += 4.9
    assert check.valid(token)  # within the check's few seconds
    now[0] += 0.1
    assert not check.valid(token)
    store.close()


# --- the commands -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def brainmap(*args: str) -> Ran:
    result = CliRunner().invoke(main, list(args))
    return Ran(result.exit_code, result.stdout, result.stderr)


@pytest.fixture()
def records(tmp_path: Path) -> Path:
    """A store of three data sets and nothing else."""
    store = Store.create(tmp_path / "store")
    with store.session() as session:
        session.add_all([s.SectionDataSet(id=11), s.SectionDataSet(id=12), s.AtlasDataSet(id=13)])
    store.close()
    return tmp_path / "store"


def test_token_commands(records: Path) -> None:
    where = ["--store", str(records)]
    added = brainmap("token", "add", "lab one", *where)
    assert added.code == 0 and "shown only now" in added.err
    token = added.out.strip()
    assert len(token) >= 43 and "\n" not in token
    assert brainmap("token", "add", "lab one", *where).code == 2  # the name is taken
    assert brainmap("token", "add", " ", *where).code == 2
    listed = brainmap("token", "list", *where)
    assert listed.code == 0 and token not in listed.out + listed.err
    name, created = listed.out.strip().split("\t")
    assert name == "lab one" and created.endswith("Z")
    missing = brainmap("token", "revoke", "nobody", *where)
    assert missing.code == 5 and missing.err == "brainmap: no token named 'nobody'\n"
    assert brainmap("token", "revoke", "lab one", *where).code == 0
    assert brainmap("token", "list", *where).out == ""
    assert brainmap("token", "list", "--store", str(records / "absent")).code == 2


def test_public_commands_refuse_unknown_ids_and_change_nothing(records: Path) -> None:
    where = ["--store", str(records)]
    assert brainmap("public", "add", "11", "13", *where).code == 0
    refused = brainmap("public", "add", "12", "99", "98", *where)
    assert refused.code == 5 and refused.err == "brainmap: no data set with id 98, 99\n"
    assert brainmap("public", "list", *where).out.split() == ["11", "13"]
    assert brainmap("public", "remove", "13", "97", *where).code == 5
    assert brainmap("public", "list", *where).out.split() == ["11", "13"]
    assert brainmap("public", "add", "-1", *where).code == 2
    assert brainmap("public", "remove", "13", "12", *where).code == 0
    assert brainmap("public", "list", *where).out.split() == ["11"]
    assert (
        brainmap("public", "list", "--db", "sqlite:///" + str(records / "x.db"), *where).code == 2
    )


# --- the rule in the store, on each database ------------------------------------------------


def small_private_store(root: Path, url: str | None) -> Store:
    """Data set 1 public; 2 (sections) and 3 (plates) private; each with an image, its
    alternate, alignments and equalization; atlas 1 of data set 3, atlas 2 of none; gene 5 of
    data sets 1 and 2."""
    store = Store.create(root, url)
    with store.session() as db:
        gene = s.Gene(id=5, acronym="G5")
        db.add_all([gene, s.AtlasDataSet(id=3)])
        for data_set in (1, 2):
            db.add(s.SectionDataSet(id=data_set, genes=[gene]))
        db.flush()
        for image, data_set in ((11, 1), (21, 2), (31, 3)):
            kind = s.AtlasImage if data_set == 3 else s.SectionImage
            db.add(_image(kind, image, data_set, image % 10))
        db.add_all([s.Atlas(id=1, atlas_data_set_id=3), s.Atlas(id=2)])
        db.flush()
        for image, data_set in ((11, 1), (21, 2)):
            db.add(s.AlternateImage(id=image, sub_image_id=image, image_type="X", path="p"))
            db.add(s.Alignment2d(id=image, section_image_id=image))
            db.add(s.Alignment3d(id=data_set, aligned_id=data_set, aligned_type="DataSet"))
            window = dict.fromkeys(("red", "green", "blue"), 0)
            db.add(
                s.Equalization(
                    id=data_set,
                    section_data_set_id=data_set,
                    **{f"{c}_lower": v for c, v in window.items()},
                    **{f"{c}_upper": 4095 for c in window},
                )
            )
    mark_public(store, [1])
    hide_private_data(store)
    return store


QUERIES = {  # query: (ids with a token, ids without)
    "model::DataSet": ([1, 2, 3], [1]),
    "model::SubImage": ([11, 21, 31], [11]),
    "model::AtlasImage": ([31], []),
    "model::AlternateImage": ([11, 21], [11]),
    "model::Alignment2d": ([11, 21], [11]),
    "model::Alignment3d": ([1, 2], [1]),
    "model::Equalization": ([1, 2], [1]),
    "model::Atlas": ([1, 2], [2]),
    "model::Gene,rma::criteria,data_sets[id$eq2]": ([5], []),
    "model::Gene,rma::include,data_sets": ([5], [5]),
    "model::SectionImage,rma::criteria,section_data_set[id$in1,2]": ([11, 21], [11]),
}


def test_the_rule_on_each_database(tmp_path: Path, new_database: Any) -> None:
    store = small_private_store(tmp_path, new_database("tokens"))
    for query, (everything, public) in QUERIES.items():
        result, records = run(store, query)
        assert [r["id"] for r in records] == everything and result.total_rows == len(everything)
        with public_only():
            result, records = run(store, query)
        assert [r["id"] for r in records] == public, query
        assert result.total_rows == len(public), query
    with public_only():
        (gene,) = run(store, "model::Gene,rma::include,data_sets")[1]
        assert [d["id"] for d in gene["data_sets"]] == [1]
        with store.session() as session, pytest.raises(NotFound):
            resolve_source(session, 21, ImageRequest())
    with store.session() as session:
        assert resolve_source(session, 21, ImageRequest()).path == "pyramids/21.tif"
    token = add_token(store, "lab")
    assert TokenCheck(store).valid(token) and not TokenCheck(store).valid(token[:-1])
    store.close()


def test_a_token_check_on_a_database_gone_is_the_503_of_every_route(tmp_path: Path) -> None:
    store = small_private_store(tmp_path, None)
    with BackgroundServer(create_app(store, auth=True)) as server:
        (tmp_path / "new").write_text("not a database any more\n")
        (tmp_path / "new").replace(tmp_path / "brainmap.sqlite")
        target = f"{server.url}/api/v2/data/SectionDataSet/1.json"
        for headers in ({}, {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}):
            reply = request(target, headers=headers)
            assert (reply.status, reply.content_type) == (503, "application/json")
            assert "it was removed or replaced since it was opened" in reply.json()["msg"]
            assert b"\n" not in reply.body and str(tmp_path) not in reply.text
    store.close()


@pytest.mark.parametrize(
    ("headers", "personal", "expected"),
    [
        ([(b"vary", b"Accept")], False, [(b"vary", b"Accept, Authorization")]),
        ([(b"vary", b"authorization")], True, [(b"vary", b"authorization")]),
        ([(b"vary", b"*")], False, [(b"vary", b"*")]),
        (
            [(b"cache-control", b"public, max-age=86400")],
            True,
            [(b"cache-control", b"private, max-age=86400"), (b"vary", b"Authorization")],
        ),
        (
            [(b"cache-control", b"public, max-age=86400")],
            False,
            [(b"cache-control", b"public, max-age=86400"), (b"vary", b"Authorization")],
        ),
    ],
)
def test_answer_headers_vary_by_authorization(
    headers: list[tuple[bytes, bytes]], personal: bool, expected: list[tuple[bytes, bytes]]
) -> None:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    start = {"type": "http.response.start", "status": 200, "headers": headers}
    anyio.run(vary_by_authorization(send, personal=personal), start)
    assert sent == [{**start, "headers": expected}]
