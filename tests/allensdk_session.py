"""Run by an interpreter that has allensdk installed (not brainmap): every seed method of
allensdk's ImageDownloadApi against the server named on the command line.

Prints one JSON document with each method's result and the downloaded files' sizes and SHA-256,
so the brainmap test suite can compare them with brainmap's own client.
Usage: python allensdk_session.py BASE_URL OUT_DIR PLAN_JSON
"""

import hashlib
import json
import os
import sys

from allensdk.api.queries.image_download_api import ImageDownloadApi


def digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def main():
    base, out_dir, plan = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    api = ImageDownloadApi(base_uri=base)
    results = {
        "get_section_data_sets_by_product": api.get_section_data_sets_by_product(plan["products"]),
        "get_section_image_ranges": api.get_section_image_ranges(plan["ranges_of"]),
        "section_image_query": api.section_image_query(plan["data_set"]),
        "atlas_image_query": api.atlas_image_query(plan["atlas"]),
    }
    files = {}
    for name, (method, image_id, kwargs) in plan["downloads"].items():
        path = os.path.join(out_dir, name)
        getattr(api, method)(image_id, path, **kwargs)
        files[name] = {"bytes": os.path.getsize(path), "sha256": digest(path)}
    results["files"] = files
    json.dump(results, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
