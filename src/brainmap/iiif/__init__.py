"""IIIF Image API 3.0 (compliance level 2) over brainmap's pyramids.

`syntax` reads the four path segments, `plan` resolves them against an image's size and the
server's limits (which pixels, which pyramid level, what output), `info` builds the image
information document and `pixels` draws a plan. None of them know about HTTP or SQL; the routes
are in `brainmap.server.routes.iiif`.
"""
