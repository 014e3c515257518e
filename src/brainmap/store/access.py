"""Read tokens and public data sets (docs/deployment.md, "Read tokens").

Tokens are 32 random bytes (URL-safe text) and only their SHA-256 digest is stored: a fast hash
is enough for a secret of 256 random bits (a slow password hash guards guessable secrets, and
no one can search 2**256 tokens). `TokenCheck` keeps the set of digests for a few seconds, so a
request does not always reach the database; a revocation takes effect within that time in every
process.

`hide_private_data` makes a store's engine hide, for any statement run under `public_only`,
every row belonging to a data set that is not public, as if it did not exist: data sets, their
images, alternate images, alignments, equalizations and atlases.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, event, insert, or_, select
from sqlalchemy.orm import with_loader_criteria
from sqlalchemy.sql import Select
from sqlalchemy.sql.base import Executable

from brainmap.errors import BadParameter, NotFound
from brainmap.store.folder import Store
from brainmap.store.schema import (
    Alignment2d,
    Alignment3d,
    AlternateImage,
    Atlas,
    DataSet,
    Equalization,
    SubImage,
    public_data_sets,
    read_tokens,
)

TOKEN_BYTES = 32
CHECK_SECONDS = 5.0
"""How long a process trusts its copy of the token digests (and so how long a revoked token
may still be accepted)."""
MAX_NAME = 100

_PUBLIC = select(public_data_sets.c.data_set_id)
_IMAGES = SubImage.__table__
_PUBLIC_IMAGES = select(_IMAGES.c.id).where(_IMAGES.c.data_set_id.in_(_PUBLIC))
_VISIBLE = (
    with_loader_criteria(DataSet, DataSet.id.in_(_PUBLIC), include_aliases=True),
    with_loader_criteria(SubImage, SubImage.data_set_id.in_(_PUBLIC), include_aliases=True),
    with_loader_criteria(AlternateImage, AlternateImage.sub_image_id.in_(_PUBLIC_IMAGES)),
    with_loader_criteria(Alignment2d, Alignment2d.section_image_id.in_(_PUBLIC_IMAGES)),
    with_loader_criteria(
        Alignment3d,
        and_(Alignment3d.aligned_type == "DataSet", Alignment3d.aligned_id.in_(_PUBLIC)),
    ),
    with_loader_criteria(Equalization, Equalization.section_data_set_id.in_(_PUBLIC)),
    with_loader_criteria(
        Atlas, or_(Atlas.atlas_data_set_id.is_(None), Atlas.atlas_data_set_id.in_(_PUBLIC))
    ),
)
"""The rows a request without a token sees. An image without a data set, and an Alignment3d
of anything but a data set, belong to no public data set and are hidden too."""

_RESTRICTED: weakref.WeakKeyDictionary[Executable, Executable] = weakref.WeakKeyDictionary()
"""Each statement's restricted form, while the statement lives: the look-ups built once (an
image's record, its alternates) are not restricted again on every request, which would cost
about 0.25 ms a statement (measured) instead of a few microseconds."""
_PUBLIC_ONLY: ContextVar[bool] = ContextVar("brainmap_public_only", default=False)


@dataclass(frozen=True)
class TokenRecord:
    """What `brainmap token list` shows of a token: never the token."""

    name: str
    created: dt.datetime


def token_digest(token: str) -> str:
    """The SHA-256 of `token`, in hex: what the store keeps."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_token(store: Store, name: str) -> str:
    """A new token called `name`, stored as its digest; the token itself is returned once.
    BadParameter for a name that is empty, too long, not printable or already taken."""
    if not name or len(name) > MAX_NAME or not name.isprintable() or name != name.strip():
        raise BadParameter("NAME", f"a token name is 1 to {MAX_NAME} printable characters")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    created = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    with store.session() as session:
        if session.scalar(select(read_tokens.c.name).where(read_tokens.c.name == name)):
            raise BadParameter("NAME", f"a token named {name!r} exists (revoke it first)")
        row = {"name": name, "digest": token_digest(token), "created": created}
        session.execute(insert(read_tokens).values(row))
    return token


def list_tokens(store: Store) -> list[TokenRecord]:
    """Every token's name and creation time, by name."""
    query = select(read_tokens.c.name, read_tokens.c.created).order_by(read_tokens.c.name)
    with store.session() as session:
        return [TokenRecord(name, created) for name, created in session.execute(query)]


def revoke_token(store: Store, name: str) -> None:
    """Delete the token called `name`; NotFound when there is none."""
    named = read_tokens.c.name == name
    with store.session() as session:
        if session.scalar(select(read_tokens.c.name).where(named)) is None:
            raise NotFound(f"no token named {name!r}")
        session.execute(delete(read_tokens).where(named))


class TokenCheck:
    """Whether a token is one of the store's, from a copy of the digests at most `seconds`
    old (read again when older)."""

    def __init__(
        self,
        store: Store,
        seconds: float = CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._seconds = seconds
        self._clock = clock
        self._digests: frozenset[str] = frozenset()
        self._read_at: float | None = None
        self._lock = threading.Lock()

    @property
    def stale(self) -> bool:
        """Whether the next `valid` reads the database."""
        return self._read_at is None or self._clock() - self._read_at >= self._seconds

    def valid(self, token: str) -> bool:
        """Whether `token` is a current token (reading the digests again when stale)."""
        if self.stale:
            with self._lock:
                if self.stale:
                    with self._store.session() as session:
                        digests = session.scalars(select(read_tokens.c.digest))
                        self._digests = frozenset(digests)
                    self._read_at = self._clock()
        return token_digest(token) in self._digests


def _data_set_ids(store: Store, ids: Sequence[int]) -> set[int]:
    with store.session() as session:
        return set(session.scalars(select(DataSet.id).where(DataSet.id.in_(set(ids)))))


def public_ids(store: Store) -> list[int]:
    """The public data sets' ids, in order."""
    with store.session() as session:
        return list(session.scalars(_PUBLIC.order_by(public_data_sets.c.data_set_id)))


def mark_public(store: Store, ids: Sequence[int]) -> list[int]:
    """Make the data sets `ids` public; the ids newly marked. NotFound names the ids that are no
    data set, and nothing changes then."""
    missing = sorted(set(ids) - _data_set_ids(store, ids))
    if missing:
        raise NotFound(f"no data set with id {', '.join(map(str, missing))}")
    new = sorted(set(ids) - set(public_ids(store)))
    with store.session() as session:
        if new:
            session.execute(insert(public_data_sets), [{"data_set_id": id_} for id_ in new])
    return new


def unmark_public(store: Store, ids: Sequence[int]) -> list[int]:
    """Make the data sets `ids` private again; the ids that were public. NotFound names the ids
    that are neither a data set nor marked public, and nothing changes then."""
    public = set(public_ids(store))
    missing = sorted(set(ids) - public - _data_set_ids(store, ids))
    if missing:
        raise NotFound(f"no data set with id {', '.join(map(str, missing))}")
    removed = sorted(set(ids) & public)
    with store.session() as session:
        if removed:
            marked = public_data_sets.c.data_set_id.in_(removed)
            session.execute(delete(public_data_sets).where(marked))
    return removed


@contextmanager
def public_only() -> Iterator[None]:
    """Within it, a store made `hide_private_data` answers as if only public data existed."""
    reset = _PUBLIC_ONLY.set(True)
    try:
        yield
    finally:
        _PUBLIC_ONLY.reset(reset)


def hide_private_data(store: Store) -> None:
    """Make `store`'s engine apply the public-data rule to every SELECT run under
    `public_only` (ORM or Core, queries, relationship loads and look-ups alike). Idempotent."""
    if not event.contains(store.engine, "before_execute", _restrict):
        event.listen(store.engine, "before_execute", _restrict, retval=True)


def _restrict(
    _connection: Connection, clause: Executable, multiparams: Any, params: Any, _options: Any
) -> tuple[Executable, Any, Any]:
    """The statement to run: with the visibility criteria for a SELECT under `public_only`."""
    if _PUBLIC_ONLY.get() and isinstance(clause, Select):
        restricted = _RESTRICTED.get(clause)
        if restricted is None:
            restricted = _RESTRICTED[clause] = clause.options(*_VISIBLE)
        clause = restricted
    return clause, multiparams, params
