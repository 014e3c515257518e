"""The scale of the demo store the tests build: sections a few hundred pixels wide."""

SCALE = 0.06
