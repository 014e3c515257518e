"""The ``brainmap`` command: a module per command group, each thin over the modules that do the
work."""

from __future__ import annotations

import click

from brainmap.cli.access import public, token
from brainmap.cli.demo import demo, demo_store
from brainmap.cli.download import download, query
from brainmap.cli.ingest import ingest
from brainmap.cli.mirror import mirror
from brainmap.cli.records import import_command
from brainmap.cli.reference import reference
from brainmap.cli.serve import serve
from brainmap.cli.store import store


@click.group()
@click.version_option(package_name="brainmap")
def main() -> None:
    """Allen Brain Map image API: a drop-in client and a self-hosted server."""


for command in (
    serve,
    demo,
    demo_store,
    ingest,
    import_command,
    reference,
    mirror,
    download,
    query,
    store,
    token,
    public,
):
    main.add_command(command)
