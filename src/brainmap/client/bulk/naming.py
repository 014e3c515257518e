"""File names of bulk downloads: the image id and every parameter that changes the pixels, so
downloads with different parameters into one folder never overwrite each other."""

from __future__ import annotations

from dataclasses import dataclass, field

from brainmap.params import ImageRequest

AUTO = "auto"
"""``range="auto"``: each image's own data-set Equalization (see `brainmap.client.ranges`)."""


@dataclass(frozen=True)
class FileNamer:
    """Names the files of one job: ``<id>.jpg`` for the service's default image; otherwise
    ``<id>`` followed by ``_<name>-<value>`` for each parameter of `request` (in the order of
    the URL; lists comma-separated, booleans ``true``/``false``) except those the job `implied`
    itself (an atlas's ``annotation`` and ``atlas``), then ``_range-auto`` with `auto_range`
    (each image's own Equalization): e.g. ``1001_downsample-1_quality-70.jpg``; `ending`
    replaces ``.jpg`` for files that are not the JPEG served (``_reference-25um.png``)."""

    request: ImageRequest
    implied: ImageRequest = field(default_factory=ImageRequest)
    auto_range: bool = False
    ending: str = ".jpg"

    def name(self, image_id: int) -> str:
        """The file name of image `image_id`."""
        implied = set(self.implied.to_pairs())
        parts = [str(image_id)]
        parts += [f"{k}-{v}" for k, v in self.request.to_pairs() if (k, v) not in implied]
        if self.auto_range:
            parts.append(f"range-{AUTO}")
        return "_".join(parts) + self.ending
