"""`Api`: base URLs, query execution and file retrieval, with allensdk's ``Api`` surface.

A blocking shell over a `Transport`: URLs come from `brainmap.client.urls`, and each request runs
on brainmap's I/O thread (`brainmap.client._http.loop`). Differences from allensdk (on purpose):

* a JSON answer with ``"success": false`` raises `QueryFailed` (URL and server message) instead of
  handing back the error string as data;
* HTTP errors raise `ApiError` (URL, status, server message) instead of urllib/requests errors,
  and network failures after the retries raise `ApiError` with ``status=None``;
* every call has connect and read timeouts and bounded retries (see `AiohttpTransport`);
* file downloads are atomic: no partial file is left, an existing file is replaced only on success.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import urllib.parse
import warnings
import zipfile
from collections.abc import Callable
from typing import Any

from brainmap.client import urls
from brainmap.client._http import loop
from brainmap.client._http.transport import Transport
from brainmap.client.frames import to_dataframe
from brainmap.errors import QueryFailed

log = logging.getLogger(__name__)


class Api:
    """Endpoints of an Allen-compatible server and the calls every query class uses.

    ``Api('http://localhost:8080')`` points every endpoint at another server. `transport`
    defaults to a process-wide shared `AiohttpTransport`.
    """

    default_api_url = urls.DEFAULT_API_URL
    download_url = urls.DOWNLOAD_URL

    def __init__(
        self, api_base_url_string: str | None = None, *, transport: Transport | None = None
    ) -> None:
        self._transport = transport
        self.set_api_urls(api_base_url_string or Api.default_api_url)
        self.default_working_directory = os.getcwd()

    @property
    def transport(self) -> Transport:
        """The transport every request goes through (the shared one, opened on first use,
        unless one was given)."""
        if self._transport is None:
            from brainmap.client._http.aiohttp_transport import default_transport

            self._transport = default_transport()
        return self._transport

    def set_api_urls(self, api_base_url_string: str) -> None:
        """Derive every endpoint attribute from the server's base URL (its root, with or without
        ``/api/v2`` and trailing slashes; ``api_url`` keeps the root)."""
        base = urls.server_root(api_base_url_string)
        v2 = urls.api_v2(base)
        self.api_url = base
        self.well_known_file_endpoint = v2 + "/well_known_file_download"
        self.grid_data_endpoint = base + "/grid_data"
        self.svg_endpoint = v2 + "/svg"
        self.svg_download_endpoint = v2 + "/svg_download"
        self.structure_graph_endpoint = v2 + "/structure_graph_download"
        self.tree_search_endpoint = v2 + "/tree_search"
        self.annotated_section_data_sets_endpoint = v2 + "/annotated_section_data_sets"
        self.compound_annotated_section_data_sets_endpoint = (
            v2 + "/compound_annotated_section_data_sets"
        )
        self.image_to_atlas_endpoint = v2 + "/image_to_atlas"
        self.image_to_image_endpoint = v2 + "/image_to_image"
        self.image_to_image_2d_endpoint = v2 + "/image_to_image_2d"
        self.reference_to_image_endpoint = v2 + "/reference_to_image"
        self.image_to_reference_endpoint = v2 + "/image_to_reference"
        self.structure_to_image_endpoint = v2 + "/structure_to_image"
        self.section_image_download_endpoint = urls.image_endpoint(base, "section")
        self.atlas_image_download_endpoint = urls.image_endpoint(base, "atlas")
        self.projection_image_download_endpoint = urls.image_endpoint(base, "projection")
        self.image_download_endpoint = urls.image_endpoint(base, "image")
        self.informatics_archive_endpoint = Api.download_url + "/informatics-archive"
        self.rma_endpoint = urls.rma_endpoint(base)

    def set_default_working_directory(self, working_directory: str) -> None:
        """Remember a folder, as allensdk's `Api` does (its query classes that save files read
        ``default_working_directory``; brainmap's own downloads go where ``file_path`` says)."""
        self.default_working_directory = working_directory

    def read_data(self, parsed_json: Any) -> Any:
        """The ``msg`` member of a response envelope."""
        return parsed_json["msg"]

    def json_msg_query(self, url: str, dataframe: bool = False) -> Any:
        """Fetch a complete query URL and return its ``msg``.

        ``dataframe=True`` (deprecated, as in allensdk) wraps the rows in a pandas DataFrame;
        pandas is then required.
        """
        data = self.do_query(lambda *args, **kwargs: url, self.read_data)
        if dataframe is True:
            warnings.warn("dataframe argument is deprecated", DeprecationWarning, stacklevel=2)
            data = to_dataframe(data)
        return data

    def do_query(
        self,
        url_builder_fn: Callable[..., str],
        json_traversal_fn: Callable[[Any], Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Build a URL with `url_builder_fn(*args, **kwargs)`, fetch it (POST if ``post=True``
        is among the kwargs) and return `json_traversal_fn(parsed)`.

        Raises QueryFailed when the server answers ``"success": false``.
        """
        url = url_builder_fn(*args, **kwargs)
        parsed = self.retrieve_parsed_json_over_http(url, kwargs.get("post", False))
        if isinstance(parsed, dict) and parsed.get("success") is False:
            raise QueryFailed(url, 200, str(parsed.get("msg", "")))
        return json_traversal_fn(parsed)

    def do_rma_query(
        self,
        rma_builder_fn: Callable[..., str],
        json_traversal_fn: Callable[[Any], Any],
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Deprecated alias of `do_query`."""
        return self.do_query(rma_builder_fn, json_traversal_fn, *args, **kwargs)

    def load_api_schema(self) -> Any:
        """The server's model schema (``/api/v2/data/enumerate.json``), parsed."""
        return self.retrieve_parsed_json_over_http(self.rma_endpoint + "/enumerate.json")

    def construct_well_known_file_download_url(self, well_known_file_id: int | str) -> str:
        """Download URL of a WellKnownFile."""
        return self.well_known_file_endpoint + "/" + str(well_known_file_id)

    def cleanup_truncated_file(self, file_path: str) -> None:
        """Remove `file_path` if it exists."""
        with contextlib.suppress(FileNotFoundError):
            os.remove(file_path)

    def retrieve_file_over_http(self, url: str, file_path: str, zipped: bool = False) -> None:
        """Save the body of `url` at `file_path`, atomically.

        With ``zipped=True`` the body is a zip archive, extracted into the folder of
        `file_path`. The URL is sent as built (only characters illegal in a URL are quoted).
        """
        log.info("Downloading URL: %s", url)
        if zipped:
            body = loop.run(self.transport.get(urls.sendable_url(url))).body
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                archive.extractall(os.path.dirname(file_path) or ".")
        else:
            loop.run(self.transport.download(urls.sendable_url(url), file_path))

    def retrieve_parsed_json_over_http(self, url: str, post: bool = False) -> Any:
        """GET the wire-quoted `url` and parse it as JSON.

        ``post=True`` sends the query parameters as a JSON object in a POST to the URL's path
        instead (never retried).
        """
        log.info("Downloading URL: %s", url)
        if not post:
            return loop.run(self.transport.get(urls.wire_url(url))).json()
        parts = urllib.parse.urlsplit(url)
        target = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        payload = dict(urllib.parse.parse_qsl(parts.query))
        return loop.run(self.transport.post(target, payload)).json()

    def retrieve_xml_over_http(self, url: str) -> bytes:
        """The raw body of `url` (an XML document)."""
        log.info("Downloading URL: %s", url)
        return loop.run(self.transport.get(urls.sendable_url(url))).body
