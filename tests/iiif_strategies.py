"""Hypothesis strategies for IIIF region and size path segments, shared by the IIIF tests."""

from __future__ import annotations

from hypothesis import strategies as st


def _percent(high: int) -> st.SearchStrategy[str]:
    """Percentages 0..high/100 with up to two decimals, written as IIIF writes them."""
    return st.integers(0, high).map(lambda v: f"{v / 100:g}")


def regions(largest: int, largest_percent: int) -> st.SearchStrategy[str]:
    """Every region form: full, square, x,y,w,h (each up to `largest`) and pct:x,y,w,h."""
    return st.one_of(
        st.sampled_from(["full", "square"]),
        st.tuples(*[st.integers(0, largest)] * 4).map(lambda v: ",".join(map(str, v))),
        st.tuples(*[_percent(largest_percent)] * 4).map(lambda v: "pct:" + ",".join(v)),
    )


def sizes(smallest: int, largest: int, largest_percent: int) -> st.SearchStrategy[str]:
    """Every size form but max (w, / ,h / pct:n / w,h / !w,h), with or without ^."""
    lengths = st.integers(smallest, largest)
    pairs = st.tuples(lengths, lengths)
    return st.tuples(
        st.sampled_from(["", "^"]),
        st.one_of(
            lengths.map(lambda v: f"{v},"),
            lengths.map(lambda v: f",{v}"),
            st.integers(smallest, largest_percent).map(lambda v: f"pct:{v / 100:g}"),
            pairs.map(lambda v: f"{v[0]},{v[1]}"),
            pairs.map(lambda v: f"!{v[0]},{v[1]}"),
        ),
    ).map("".join)
