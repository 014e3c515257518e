"""Which plane a data set's sections are warped onto: the PlaneOfSection's name when it names
one, else the reference plane nearest the sections (their normal, from the Alignment3d)."""

from __future__ import annotations

import pytest

from brainmap.client.alignments import plane_of
from brainmap.reference.construct import tilted_data_set


@pytest.mark.parametrize(
    ("name", "plane"),
    [
        ("coronal", "coronal"),
        ("Coronal (Rostral to Caudal)", "coronal"),
        ("sagittal", "sagittal"),
        ("horizontal", "horizontal"),
    ],
)
def test_a_name_naming_a_plane_wins(name: str, plane: str) -> None:
    other = tilted_data_set("sagittal" if plane != "sagittal" else "coronal", 25.0)
    assert plane_of(name, other) == plane


@pytest.mark.parametrize("plane", ["coronal", "sagittal", "horizontal"])
@pytest.mark.parametrize("name", ["n/a", "variable", "Medial to Lateral", None])
def test_other_names_take_the_plane_nearest_the_sections(plane: str, name: str | None) -> None:
    tilted = tilted_data_set(plane, 25.0, (4.0, -6.0, 5.0), (6000.0, 4000.0, 5000.0))
    assert plane_of(name, tilted) == plane
