"""The read token a client sends to a server run with ``serve --auth`` (docs/client.md, "Read
tokens"): the one in ``BRAINMAP_TOKEN``, if set."""

from __future__ import annotations

import os

TOKEN_ENV = "BRAINMAP_TOKEN"
"""A read token for a server run with ``serve --auth``, sent with every request when set."""


def token_headers() -> dict[str, str]:
    """``Authorization: Bearer <token>`` when `TOKEN_ENV` holds a token, else nothing."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    return {"Authorization": f"Bearer {token}"} if token else {}
