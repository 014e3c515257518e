"""The pixel file format: one pyramidal tiled BigTIFF per image and per alternate.

`writer` writes them (`PyramidKind`, `write_pyramid`); `tiers` has the level arithmetic;
`reader` is the interface the pixel pipeline reads through (`PyramidReader`); `local` reads
local files (`Pyramid`, `open_pyramid`) and `remote` objects at an fsspec URL (`RemotePyramid`,
`open_remote`), both through `pages` (`PagedPyramid`): tiles decoded with `tiles` (`TileReader`)
where the layout allows, libvips otherwise.
"""
