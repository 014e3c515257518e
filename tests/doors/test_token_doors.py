"""The token doors (``serve --auth``, docs/deployment.md "Read tokens"), through a real server on
loopback over the demo store (sections with alignments, annotated plates, a reference space):
without a current token a private data set's records and images answer exactly as records that
do not exist, on every route family; a current token reads them; public data answers anyone;
RMA answers and their counts hold only visible rows; answers to a token are private to shared
caches; the server without ``--auth`` is unchanged; ``serve --auth --workers 2``; the client
sends ``BRAINMAP_TOKEN``. The commands and the rule in the store: test_token_store.py."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import event, select

from brainmap import NotFound
from brainmap.client import Client
from brainmap.client._http.read_token import TOKEN_ENV
from brainmap.demo.phantom import build_demo_store
from brainmap.server.app import create_app
from brainmap.server.background import BackgroundServer
from brainmap.store import schema as s
from brainmap.store.access import (
    add_token,
    mark_public,
    public_ids,
    revoke_token,
    unmark_public,
)
from brainmap.store.folder import Store
from brainmap.testing.wire import Server
from loopback import Reply, first_answer, free_port, request

SCALE = 0.06
PRIVATE_SET, PUBLIC_SET, PLATES = 900000001, 900000002, 900000006
SPACE, ATLAS = 9, 1
MISSING = {"image": 900199999, "set": 900099999, "plate": 900199998, "atlas": 99}


@dataclass(frozen=True)
class Door:
    """The store, its server with ``--auth``, a current token and a revoked one, and the ids of
    an image of the private and of the public data set and of an annotated plate."""

    store: Store
    url: str
    token: str
    revoked: str
    private_image: int
    public_image: int
    plate: int


def first_image(store: Store, data_set_id: int, **where: object) -> int:
    query = select(s.SubImage.id).where(s.SubImage.data_set_id == data_set_id).filter_by(**where)
    with store.session() as session:
        return int(session.scalars(query.order_by(s.SubImage.id)).first() or 0)


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Door]:
    store = build_demo_store(tmp_path_factory.mktemp("tokens") / "demo", scale=SCALE)
    token = add_token(store, "reader")
    revoked = add_token(store, "former")
    revoke_token(store, "former")
    images = (first_image(store, PRIVATE_SET), first_image(store, PUBLIC_SET))
    plate = first_image(store, PLATES, annotated=True)
    with BackgroundServer(create_app(store, auth=True)) as server:
        yield Door(store, server.url, token, revoked, *images, plate)


def publish(store: Store, *ids: int) -> None:
    """Make exactly the data sets `ids` public."""
    unmark_public(store, public_ids(store))
    mark_public(store, ids)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def anonymous_headers(door: Door) -> dict[str, dict[str, str]]:
    """Every way of asking without a current token."""
    return {
        "none": {},
        "wrong": bearer(secrets.token_urlsafe(32)),
        "revoked": bearer(door.revoked),
        "other scheme": {"Authorization": f"Basic {door.token}"},
        "empty": {"Authorization": "Bearer "},
    }


ROUTES = [  # (route family, URL under the server, the placeholder naming the private record)
    ("image", "/api/v2/section_image_download/{image}?downsample=1", "image"),
    ("image", "/api/v2/image_download/{image}?downsample=2&view=expression", "image"),
    ("iiif", "/iiif/3/{image}/info.json", "image"),
    ("iiif", "/iiif/3/{image}/full/64,/0/default.jpg", "image"),
    ("svg", "/api/v2/svg/{plate}", "plate"),
    ("svg", "/api/v2/svg_download/{plate}", "plate"),
    ("lookup", "/api/v2/image_to_structure/{plate}.json?x=40&y=40", "plate"),
    ("sync", "/api/v2/image_to_reference/{image}.json?x=20&y=20", "image"),
    (
        "sync",
        "/api/v2/image_to_image/{image}.json?x=20&y=20&section_data_set_ids={public_set}",
        "image",
    ),
    (
        "sync",
        "/api/v2/image_to_image/{public_image}.json?x=20&y=20&section_data_set_ids={set}",
        "set",
    ),
    (
        "sync",
        "/api/v2/image_to_image_2d/{public_image}.json?x=20&y=20&section_image_ids={image}",
        "image",
    ),
    ("sync", "/api/v2/image_to_atlas/{public_image}.json?x=20&y=20&atlas_id={atlas}", "atlas"),
    ("sync", "/api/v2/structure_to_image/{set}.json?structure_ids=997", "set"),
    (
        "sync",
        f"/api/v2/reference_to_image/{SPACE}.json?x=5000&y=4000&z=5000"
        "&section_data_set_ids={set}",
        "set",
    ),
    ("data", "/api/v2/data/SectionDataSet/{set}.json", "set"),
    ("data", "/api/v2/data/SubImage/{image}.json?include=alternate_images", "image"),
    (
        "data",
        "/api/v2/data/query.json?criteria=model::SectionImage,rma::criteria,[data_set_id$eq{set}]",
        "set",
    ),
    (
        "data",
        "/api/v2/data/query.csv?criteria=model::Alignment2d,rma::criteria,"
        "[section_image_id$eq{image}]",
        "image",
    ),
    (
        "data",
        "/api/v2/data/query.xml?criteria=model::Product,rma::criteria,data_sets[id$eq{set}]",
        "set",
    ),
    ("data", "/api/v2/data/Atlas/{atlas}.json", "atlas"),
]
IDS = [f"{family}:{template.split('?')[0]}:{key}" for family, template, key in ROUTES]


def url(door: Door, template: str, key: str, value: int) -> str:
    fields = {
        "image": door.private_image,
        "set": PRIVATE_SET,
        "plate": door.plate,
        "atlas": ATLAS,
        "public_image": door.public_image,
        "public_set": PUBLIC_SET,
    }
    fields[key] = value
    path = template.format(**fields)
    return door.url + quote(path, safe="/?=&:,$[]'")


def private_value(door: Door, key: str) -> int:
    return {"image": door.private_image, "set": PRIVATE_SET, "plate": door.plate}.get(key, ATLAS)


def seen(reply: Reply, value: int) -> tuple[int, bytes]:
    """Status and body with the record's id blanked, to compare with another id's answer."""
    return reply.status, reply.body.replace(str(value).encode(), b"<id>")


@pytest.mark.parametrize(("family", "template", "key"), ROUTES, ids=IDS)
def test_private_records_answer_as_missing_ones_without_a_current_token(
    door: Door, family: str, template: str, key: str
) -> None:
    publish(door.store, PUBLIC_SET)  # the plates' atlas data set is private
    private = private_value(door, key)
    missing = seen(request(url(door, template, key, MISSING[key])), MISSING[key])
    assert missing[0] in (404, 200), missing
    for how, headers in anonymous_headers(door).items():
        reply = request(url(door, template, key, private), headers=headers)
        assert seen(reply, private) == missing, (family, how)
    granted = request(url(door, template, key, private), headers=bearer(door.token))
    assert granted.status == 200, granted.body[:200]
    assert seen(granted, private) != missing


@pytest.mark.parametrize(("family", "template", "key"), ROUTES, ids=IDS)
def test_public_records_answer_anyone_as_they_answer_a_token(
    door: Door, family: str, template: str, key: str
) -> None:
    publish(door.store, PUBLIC_SET, PLATES)
    value = {"image": door.public_image, "set": PUBLIC_SET}.get(key, private_value(door, key))
    target = url(door, template, key, value)
    granted = request(target, headers=bearer(door.token))
    assert granted.status == 200, (family, granted.body[:200])
    for how, headers in anonymous_headers(door).items():
        reply = request(target, headers=headers)
        assert (reply.status, reply.body) == (200, granted.body), (family, how)


def rows(door: Door, query: str, headers: dict[str, str]) -> dict[str, Any]:
    reply = request(
        f"{door.url}/api/v2/data/query.json?q={quote(query, safe=':,[]$')}", "GET", headers
    )
    assert reply.status == 200, reply.body
    answer: dict[str, Any] = reply.json()
    assert answer["success"] is True, answer["msg"]
    return answer


def owner(door: Door, model: str, record: dict[str, Any]) -> int | None:
    """The data set a record belongs to, from the full answer's own fields."""
    images = {
        r["id"]: r["data_set_id"]
        for r in rows(door, "model::SubImage,rma::options[num_rows$eqall]", bearer(door.token))[
            "msg"
        ]
    }
    found: dict[str, Any] = {
        "SectionDataSet": record.get("id"),
        "AtlasDataSet": record.get("id"),
        "SubImage": record.get("data_set_id"),
        "SectionImage": record.get("data_set_id"),
        "AtlasImage": record.get("data_set_id"),
        "AlternateImage": images.get(record.get("sub_image_id")),
        "Alignment2d": images.get(record.get("section_image_id")),
        "Alignment3d": record.get("aligned_id"),
        "Equalization": record.get("section_data_set_id"),
        "Atlas": record.get("atlas_data_set_id"),
    }
    return found[model]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "model",
    [
        "SectionDataSet",
        "AtlasDataSet",
        "SubImage",
        "SectionImage",
        "AtlasImage",
        "AlternateImage",
        "Alignment2d",
        "Alignment3d",
        "Equalization",
        "Atlas",
    ],
)
def test_rma_rows_and_counts_hold_only_public_data(door: Door, model: str) -> None:
    publish(door.store, PUBLIC_SET)
    everything = rows(door, f"model::{model},rma::options[num_rows$eqall]", bearer(door.token))
    visible = [r["id"] for r in everything["msg"] if owner(door, model, r) == PUBLIC_SET]
    hidden = [r["id"] for r in everything["msg"] if owner(door, model, r) != PUBLIC_SET]
    assert hidden, f"the demo store has no private {model} (the test would prove nothing)"
    for headers in anonymous_headers(door).values():
        page = rows(door, f"model::{model},rma::options[num_rows$eq2]", headers)
        assert page["total_rows"] == len(visible)
        assert [r["id"] for r in page["msg"]] == visible[:2]


def test_includes_criteria_tabular_and_pipes_see_only_public_data(door: Door) -> None:
    publish(door.store, PUBLIC_SET)
    anyone: dict[str, str] = {}
    nested = rows(
        door,
        "model::SectionDataSet,rma::include,section_images(alignment2d),alignment3d,products",
        anyone,
    )
    assert [r["id"] for r in nested["msg"]] == [PUBLIC_SET]
    assert all(i["data_set_id"] == PUBLIC_SET for i in nested["msg"][0]["section_images"])
    products = rows(door, "model::Product,rma::include,data_sets", anyone)["msg"]
    assert {d["id"] for p in products for d in p["data_sets"]} <= {PUBLIC_SET}
    table = rows(
        door,
        "model::SubImage,rma::include,data_set,rma::options"
        "[tabular$eq'distinct data_sets.id as d'][num_rows$eqall]",
        anyone,
    )
    assert [r["d"] for r in table["msg"]] == [PUBLIC_SET] and table["total_rows"] == 1
    piped = (
        "model::SubImage,rma::options[num_rows$eqall],pipe::list[ids$is'id'],"
        "model::AlternateImage,rma::criteria,[sub_image_id$in$ids],rma::options[num_rows$eqall]"
    )
    public_images = {r["id"] for r in rows(door, piped.split(",pipe")[0], anyone)["msg"]}
    seen_alternates = rows(door, piped, anyone)
    assert {r["sub_image_id"] for r in seen_alternates["msg"]} <= public_images
    assert 0 < seen_alternates["total_rows"] < rows(door, piped, bearer(door.token))["total_rows"]
    through = rows(
        door, f"model::AlternateImage,rma::criteria,sub_image[data_set_id$eq{PRIVATE_SET}]", anyone
    )
    assert through["total_rows"] == 0


def test_answers_to_a_token_are_private_to_shared_caches(door: Door) -> None:
    publish(door.store, PUBLIC_SET)
    target = f"{door.url}/api/v2/section_image_download/{door.public_image}?downsample=2"
    anyone = request(target)
    assert anyone.headers["cache-control"].startswith("public")
    assert anyone.headers["vary"] == "Authorization"
    reader = request(target, headers=bearer(door.token))
    assert reader.headers["cache-control"] == anyone.headers["cache-control"].replace(
        "public", "private"
    )
    assert reader.headers["vary"] == "Authorization" and reader.body == anyone.body
    info = request(f"{door.url}/iiif/3/{door.private_image}/info.json", headers=bearer(door.token))
    assert info.headers["cache-control"].startswith("private")


def test_metrics_and_the_viewer_need_no_token(door: Door) -> None:
    assert request(f"{door.url}/metrics").status == 200
    viewer = request(f"{door.url}/")  # 503 when the viewer is not built
    assert viewer.status == request(f"{door.url}/", headers=bearer(door.token)).status
    assert request(f"{door.url}/api/v2/data/Structure/997.json").json()["total_rows"] == 1


def test_without_auth_nothing_changes_and_no_statement_is_added(door: Door) -> None:
    publish(door.store, PUBLIC_SET)
    plain = Store.open(door.store.root)
    statements: list[str] = []
    event.listen(plain.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with BackgroundServer(create_app(plain)) as server:
        target = f"{server.url}/api/v2/section_image_download/{door.private_image}"
        anyone = request(target)
        count = len(statements)
        reader = request(target, headers=bearer(secrets.token_urlsafe(8)))
        assert anyone.status == reader.status == 200 and anyone.body == reader.body
        assert "vary" not in anyone.headers
        assert anyone.headers["cache-control"].startswith("public")
        assert len(statements) == 2 * count
        listed = rows(Door(plain, server.url, "", "", 0, 0, 0), "model::SectionDataSet", {})
        assert listed["total_rows"] == 5
    assert not any("read_tokens" in text or "public_data_sets" in text for text in statements)
    plain.close()


def test_the_client_sends_the_token_of_its_environment(
    door: Door, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(door.store, PUBLIC_SET)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with Client(door.url) as client, pytest.raises(NotFound):
        client.get_image(door.private_image, downsample=2)
    monkeypatch.setenv(TOKEN_ENV, door.token)
    with Client(door.url) as client:
        pixels = client.get_image(door.private_image, downsample=2)
        assert pixels.ndim == 3 and pixels.shape[2] == 3
        assert client.sub_images([door.private_image])[0]["data_set_id"] == PRIVATE_SET


def test_the_conformance_kit_sends_the_token_of_its_environment(
    door: Door, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"/image_download/{door.private_image}"
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert Server(door.url).get(path, "downsample=3").status == 404
    monkeypatch.setenv(TOKEN_ENV, door.token)
    assert Server(door.url).get(path, "downsample=3").status == 200


def test_serve_auth_with_worker_processes(door: Door) -> None:
    publish(door.store, PUBLIC_SET)
    port = free_port()
    command = [str(Path(sys.executable).with_name("brainmap")), "serve", "--store"]
    command += [str(door.store.root), "--port", str(port), "--workers", "2", "--auth"]
    command += ["--access-log", "off"]
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1
    )
    target = f"http://127.0.0.1:{port}/api/v2/image_download/{door.private_image}"
    try:
        assert first_answer(f"{target}?downsample=2", server).status == 404
        assert server.stdout is not None
        assert server.stdout.readline().startswith("brainmap: serving ")
        assert server.stdout.readline() == (
            "brainmap: read tokens required (--auth): 1 token(s) in the store; without one only"
            " its 1 public data set(s) answer\n"
        )
        for _ in range(4):  # spread over both processes by the kernel
            assert request(f"{target}?downsample=2").status == 404
            assert request(f"{target}?downsample=2", headers=bearer(door.token)).status == 200
    finally:
        server.terminate()
        server.communicate(timeout=30)
