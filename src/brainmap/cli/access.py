"""``brainmap token`` and ``brainmap public``: who may read a store served with ``serve --auth``
(docs/deployment.md, "Read tokens").

Exit codes: 0 done, 2 a bad value (a token name taken or malformed, a store that cannot be
opened), 5 an id or token name that matches nothing (nothing is changed then).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from brainmap.cli.options import store_options, user_errors
from brainmap.cli.store_steps import EXIT_BAD_VALUE, fail
from brainmap.params import LARGEST_ID

if TYPE_CHECKING:
    from brainmap.store.folder import Store
    from brainmap.store.location import StoreLocation

store_option = store_options("Store folder.")


@contextmanager
def opened(location: StoreLocation) -> Iterator[Store]:
    """The existing store, closed afterwards; one that is not a store exits 2 in one line.
    Refusals inside are a line and their exit code (`user_errors`)."""
    from brainmap.store.folder import NotAStore

    try:
        store = location.open()
    except NotAStore as error:
        fail(str(error), EXIT_BAD_VALUE)
    try:
        with user_errors():
            yield store
    finally:
        store.close()


def auth_summary(store: Store) -> str:
    """What ``serve --auth`` says when it starts: how many tokens and public data sets."""
    from brainmap.store.access import list_tokens, public_ids

    tokens, public = len(list_tokens(store)), len(public_ids(store))
    return (
        f"read tokens required (--auth): {tokens} token(s) in the store; without one only "
        f"its {public} public data set(s) answer"
    )


def lines(shown: list[str], none: str) -> None:
    """`shown` one a line on stdout; `none` on stderr when there are none."""
    for line in shown:
        click.echo(line)
    if not shown:
        click.echo(none, err=True)


@click.group("token")
def token() -> None:
    """Read tokens: with ``serve --auth``, a request carrying one (``Authorization: Bearer
    TOKEN``) reads every data set, any other only the public ones."""


@token.command("add")
@store_option
@click.argument("name")
def token_add(store: StoreLocation, name: str) -> None:
    """Make a token called NAME and print it: it is shown this once (the store keeps only a
    digest of it)."""
    from brainmap.store.access import add_token

    with opened(store) as records:
        secret = add_token(records, name)
    click.echo(f"token {name!r} added; it is shown only now, keep it:", err=True)
    click.echo(secret)


@token.command("list")
@store_option
def token_list(store: StoreLocation) -> None:
    """The tokens' names and when they were made (UTC); never the tokens."""
    from brainmap.store.access import list_tokens

    with opened(store) as records:
        tokens = list_tokens(records)
    lines([f"{item.name}\t{item.created.isoformat()}Z" for item in tokens], "no tokens")


@token.command("revoke")
@store_option
@click.argument("name")
def token_revoke(store: StoreLocation, name: str) -> None:
    """Delete the token NAME: servers refuse it within a few seconds (exit 5 if none)."""
    from brainmap.store.access import CHECK_SECONDS, revoke_token

    with opened(store) as records:
        revoke_token(records, name)
    click.echo(f"token {name!r} revoked (servers refuse it within {CHECK_SECONDS:g} s)")


data_set_ids = click.argument("ids", nargs=-1, required=True, type=click.IntRange(0, LARGEST_ID))


@click.group("public")
def public() -> None:
    """Public data sets: with ``serve --auth``, the only ones a request without a token sees."""


@public.command("add")
@store_option
@data_set_ids
def public_add(store: StoreLocation, ids: tuple[int, ...]) -> None:
    """Make the data sets IDS public (exit 5, nothing changed, if one is no data set)."""
    from brainmap.store.access import mark_public

    with opened(store) as records:
        marked = mark_public(records, ids)
    click.echo(f"{len(marked)} data sets made public ({len(set(ids)) - len(marked)} already were)")


@public.command("remove")
@store_option
@data_set_ids
def public_remove(store: StoreLocation, ids: tuple[int, ...]) -> None:
    """Make the data sets IDS private again (exit 5, nothing changed, if one is neither a data
    set nor public)."""
    from brainmap.store.access import unmark_public

    with opened(store) as records:
        removed = unmark_public(records, ids)
    click.echo(
        f"{len(removed)} data sets made private ({len(set(ids)) - len(removed)} were not public)"
    )


@public.command("list")
@store_option
def public_list(store: StoreLocation) -> None:
    """The public data sets' ids, one a line."""
    from brainmap.store.access import public_ids

    with opened(store) as records:
        found = public_ids(records)
    lines([str(data_set_id) for data_set_id in found], "no public data sets")
