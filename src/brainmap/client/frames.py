"""Optional pandas output for metadata rows (``pip install 'brainmap[pandas]'``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from brainmap.client.extras import import_extra

if TYPE_CHECKING:
    from pandas import DataFrame


def to_dataframe(rows: Sequence[Mapping[str, Any]]) -> DataFrame:
    """`rows` (a list of records) as a `pandas.DataFrame`; MissingExtra (an ImportError) naming
    the extra when pandas is not installed."""
    pandas = import_extra("pandas", "pandas", "dataframe=True needs pandas")
    frame: DataFrame = pandas.DataFrame(rows)
    return frame
