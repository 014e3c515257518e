"""The async core on a `MockTransport`: the queries it sends, pages, chunks and plans, with no
server (the end-to-end behaviour is in test_bulk.py against the real server)."""

from __future__ import annotations

import asyncio
import inspect
import urllib.parse
from pathlib import Path

import pytest

from brainmap.client import AsyncClient, Client, MockTransport, Request, Response, json_response
from brainmap.client.async_client import IDS_PER_QUERY
from brainmap.errors import BadParameter, NotFound

BASE = "http://example.org"


class Records:
    """Answers RMA queries from `rows`, honouring num_rows/start_row; keeps the URLs sent."""

    def __init__(self, count: int) -> None:
        self.rows = [{"id": 1000 + n} for n in range(count)]
        self.sent: list[str] = []

    def __call__(self, request: Request) -> Response:
        url = urllib.parse.unquote(request.url)
        self.sent.append(url)
        start = _option(url, "start_row", 0)
        size = _option(url, "num_rows", len(self.rows))
        page = self.rows[start : start + size]
        return json_response(
            request,
            {"success": True, "num_rows": len(page), "total_rows": len(self.rows), "msg": page},
        )


def _option(url: str, name: str, default: int) -> int:
    marker = f"[{name}$eq"
    if marker not in url:
        return default
    value = url.split(marker, 1)[1].split("]", 1)[0]
    return default if value == "'all'" else int(value)


def test_section_images_whole_and_paged() -> None:
    records = Records(5)

    async def run() -> tuple[list[object], list[object]]:
        async with AsyncClient(BASE, transport=MockTransport(records)) as client:
            return await client.section_images(7), await client.section_images(7, page_size=2)

    whole, paged = asyncio.run(run())
    assert whole == paged == records.rows
    query = BASE + "/api/v2/data/query.json?q=model::SectionImage,rma::criteria,[data_set_id$eq7]"
    assert records.sent == [
        query + ",rma::options[num_rows$eq'all']",
        query + ",rma::options[num_rows$eq2][start_row$eq0][order$eqid]",
        query + ",rma::options[num_rows$eq2][start_row$eq2][order$eqid]",
        query + ",rma::options[num_rows$eq2][start_row$eq4][order$eqid]",
    ]


def test_sub_images_are_asked_in_chunks() -> None:
    records = Records(0)
    ids = range(IDS_PER_QUERY + 1)
    asyncio.run(AsyncClient(BASE, transport=MockTransport(records)).sub_images(ids))
    assert len(records.sent) == 2
    assert "[id$in0,1,2," in records.sent[0] and f"[id$in{IDS_PER_QUERY}]" in records.sent[1]
    assert (
        "rma::options[only$eqid,x,y,width,height,image_width,image_height,tier_count,data_set_id]"
        in (records.sent[1])
    )


def test_user_mistakes_are_named_before_any_download(tmp_path: Path) -> None:
    record = {"id": 5, "x": 0, "y": 0, "width": 64, "height": 64}
    record |= {"image_width": 64, "image_height": 64, "tier_count": 1}
    with Client(BASE, transport=MockTransport(Records(0))) as client:
        with pytest.raises(NotFound, match="no image with id 6"):
            client.download_images([6], tmp_path, records=[record], quiet=True)
        with pytest.raises(BadParameter, match="service"):
            client.download_images([5], tmp_path, records=[record], service="nope")  # type: ignore[arg-type]  # on purpose
        with pytest.raises(BadParameter, match="manifest"):
            client.download_images([5], "memory://somewhere", records=[record], quiet=True)
    assert list(tmp_path.iterdir()) == []


def test_client_api_shares_the_transport() -> None:
    records = Records(1)
    with Client(BASE, transport=MockTransport(records)) as client:
        assert client.api.section_image_query(7) == records.rows
    assert records.sent == [
        BASE + "/api/v2/data/query.json?q=model::SectionImage,rma::criteria,"
        "[data_set_id$eq7],rma::options[num_rows$eq'all'][count$eqfalse]"
    ]


def test_client_has_each_coroutine_blocking_with_its_signature() -> None:
    coroutines = {
        name: method
        for name, method in vars(AsyncClient).items()
        if inspect.iscoroutinefunction(method) and not name.startswith("_")
    }
    assert set(coroutines) <= set(vars(Client))
    for name, method in coroutines.items():
        blocking = getattr(Client, name)
        assert not inspect.iscoroutinefunction(blocking)
        assert inspect.signature(blocking) == inspect.signature(method)
        assert blocking.__doc__ == method.__doc__
    assert inspect.signature(Client) == inspect.signature(AsyncClient)


def test_blocking_methods_pass_their_arguments_and_return_the_core_result() -> None:
    blocking_records, core_records = Records(5), Records(5)
    with Client(BASE, transport=MockTransport(blocking_records)) as client:
        blocking = client.section_images(7, page_size=2)

    async def run() -> list[object]:
        async with AsyncClient(BASE, transport=MockTransport(core_records)) as core:
            return await core.section_images(7, page_size=2)

    assert blocking == asyncio.run(run()) == core_records.rows
    assert blocking_records.sent == core_records.sent  # page_size reached the core: 3 pages
    assert len(blocking_records.sent) == 3
