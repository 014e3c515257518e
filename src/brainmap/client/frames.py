"""Optional pandas output for metadata rows (``pip install 'brainmap[pandas]'``)."""

from __future__ import annotations

from typing import Any


def to_dataframe(rows: Any) -> Any:
    """`rows` (a list of records) as a `pandas.DataFrame`; ImportError naming the extra when
    pandas is not installed."""
    try:
        import pandas
    except ImportError:
        raise ImportError("dataframe=True needs pandas: pip install 'brainmap[pandas]'") from None
    return pandas.DataFrame(rows)
