"""``brainmap serve --auth``: read tokens at the door (docs/deployment.md, "Read tokens").

A request carrying a current token (``Authorization: Bearer <token>``) reads the whole store.
Any other request, without a token or with a wrong, revoked or malformed one, is answered as if
only the public data sets existed: every route looks records up through the store, which hides
the rest (`brainmap.store.access.hide_private_data`), so a private image is the same 404 as an
image that does not exist, and an RMA answer lacks its rows, in its counts too.

Every answer varies by ``Authorization``, and one to a request that carried the header is
``Cache-Control: private``, so a shared cache never hands one reader's answer to another.
"""

from __future__ import annotations

import anyio
from sqlalchemy.exc import DatabaseError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brainmap.server.state import database_failure
from brainmap.store.access import TokenCheck, hide_private_data, public_only
from brainmap.store.folder import Store, StoreUnavailable

AUTHORIZATION = b"authorization"


def require_tokens(app: Starlette, store: Store) -> None:
    """Turn read tokens on for `app`, which serves `store`."""
    hide_private_data(store)
    app.add_middleware(ReadTokens, check=TokenCheck(store))


def bearer_token(value: bytes | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, None for anything
    else."""
    if value is None:
        return None
    scheme, _, token = value.decode("latin-1").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class ReadTokens:
    """ASGI middleware: a current token reads everything, anything else only public data."""

    def __init__(self, app: ASGIApp, check: TokenCheck) -> None:
        self.app = app
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(AUTHORIZATION)
        send = vary_by_authorization(send, personal=header is not None)
        token = bearer_token(header)
        try:
            current = token is not None and await self._valid(token)
        except (DatabaseError, StoreUnavailable) as error:  # the 503 every route gives
            await (await database_failure(Request(scope), error))(scope, receive, send)
            return
        if current:
            await self.app(scope, receive, send)
            return
        with public_only():
            await self.app(scope, receive, send)

    async def _valid(self, token: str) -> bool:
        """Whether `token` is current; the database is read off the event loop."""
        if self.check.stale:
            return await anyio.to_thread.run_sync(self.check.valid, token)
        return self.check.valid(token)


def vary_by_authorization(send: Send, personal: bool) -> Send:
    """`send` adding ``Vary: Authorization`` to the answer and, when `personal` (the request
    carried credentials), turning its ``Cache-Control: public`` into ``private``."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = []
            for name, value in message.get("headers", []):
                if name == b"vary":
                    value = _varied(value)
                elif personal and name == b"cache-control":
                    value = _private(value)
                headers.append((name, value))
            if not any(name == b"vary" for name, _ in headers):
                headers.append((b"vary", b"Authorization"))
            message = {**message, "headers": headers}
        await send(message)

    return sending


def _varied(value: bytes) -> bytes:
    """A ``Vary`` value that includes ``Authorization``."""
    names = {name.strip().lower() for name in value.split(b",")}
    return value if b"authorization" in names or b"*" in names else value + b", Authorization"


def _private(value: bytes) -> bytes:
    """A ``Cache-Control`` value with ``public`` replaced by ``private``."""
    directives = [item.strip() for item in value.split(b",") if item.strip()]
    kept = [b"private" if item.lower() == b"public" else item for item in directives]
    return b", ".join(kept)
