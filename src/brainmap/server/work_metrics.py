"""Prometheus metrics of the work behind the responses: renders, cache lookups, object-store
reads and database statements, counted as `brainmap.events` reports them.

Counters and histograms, never a collector reading state at scrape time, so that with
``PROMETHEUS_MULTIPROC_DIR`` set they too sum over the server's processes. The caches and the
object-store readers are the process's, so every app of a process counts all of its events
(a server process has one app)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from brainmap import events

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
"""Seconds: from a cached tile (about a millisecond) to a large download render."""
STATEMENT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1, 10)
"""Seconds: from a lookup by primary key (a tenth of a millisecond) to a slow query."""
STATEMENT_KINDS = frozenset({"select", "insert", "update", "delete"})
"""A statement's first keyword, its label; any other is "other"."""
_STARTED = "brainmap_statement_started"
"""Where a connection keeps the start of the statement it is executing."""


class WorkMetrics:
    """The counters and histograms fed by `brainmap.events`, in `registry`; listening as soon
    as made, for as long as it lives."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.renders = Histogram(
            "brainmap_render_duration_seconds",
            "Time to produce an image body (decode, draw, encode), by media type",
            ("media_type",),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.hits = Counter(
            "brainmap_cache_hits",
            "Lookups that found what they asked for, by cache",
            ("cache",),
            registry=registry,
        )
        self.misses = Counter(
            "brainmap_cache_misses",
            "Lookups that did not find what they asked for, by cache",
            ("cache",),
            registry=registry,
        )
        self.object_requests = Counter(
            "brainmap_object_store_requests",
            "Requests made to the object store, by what they read",
            ("kind",),
            registry=registry,
        )
        self.object_bytes = Counter(
            "brainmap_object_store_read_bytes",
            "Bytes read from the object store, by what they were",
            ("kind",),
            registry=registry,
        )
        self.object_latency = Histogram(
            "brainmap_object_store_read_duration_seconds",
            "Time of one read call to the object store (for tiles, up to 8 requests in flight)",
            ("kind",),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.statements = Histogram(
            "brainmap_db_statement_duration_seconds",
            "Time the database took to execute a statement (rows fetched afterwards not "
            "included), by its first keyword",
            ("kind",),
            buckets=STATEMENT_BUCKETS,
            registry=registry,
        )
        events.listen(self)

    def heard(self, event: events.Event) -> None:
        """Count one event."""
        match event:
            case events.Rendered(media_type, seconds):
                self.renders.labels(media_type).observe(seconds)
            case events.CacheLookups(cache, hits, misses):
                if hits:
                    self.hits.labels(cache).inc(hits)
                if misses:
                    self.misses.labels(cache).inc(misses)
            case events.ObjectRead(kind, requests, size, seconds):
                self.object_requests.labels(kind).inc(requests)
                self.object_bytes.labels(kind).inc(size)
                self.object_latency.labels(kind).observe(seconds)
            case events.Statement(kind, seconds):
                self.statements.labels(kind).observe(seconds)


def time_statements(engine: Engine) -> None:
    """Report every statement `engine` executes to `brainmap.events` from now on (once, however
    many apps serve it)."""
    if not event.contains(engine, "before_cursor_execute", _before):
        event.listen(engine, "before_cursor_execute", _before)
        event.listen(engine, "after_cursor_execute", _after)


def _before(connection: Connection, *_: Any) -> None:
    connection.info[_STARTED] = time.perf_counter()


def _after(connection: Connection, _cursor: Any, statement: str, *_: Any) -> None:
    started = connection.info.pop(_STARTED, None)
    if started is not None:  # None: listening began while the statement ran
        keyword = statement.lstrip().split(None, 1)[0].lower() if statement.strip() else ""
        kind = keyword if keyword in STATEMENT_KINDS else "other"
        events.tell(events.Statement(kind, time.perf_counter() - started))
