// The viewer's state in the URL hash, e.g.
//   #image=1001&range=0,900,0,1000,0,4095&colormap=jet&region=120,80,640,480
// Filters carry the Image Download Service's own parameter names and values, so the same
// query string is appended to IIIF tile URLs and to the Download Service URL.

/** Filter parameters, in the order they are written. */
const FILTERS = ["range", "colormap", "view", "annotation", "atlas", "structure"];

/** A query string from [name, value] pairs, commas left readable. */
export function toQuery(pairs) {
  return pairs
    .filter(([, value]) => value !== undefined && value !== null && value !== "")
    .map(([name, value]) => `${name}=${encodeURIComponent(value).replaceAll("%2C", ",")}`)
    .join("&");
}

/** The filters as a query string (empty when there are none). */
export function filterQuery(filters) {
  return toQuery(FILTERS.map((name) => [name, filters[name]]));
}

/** {image, imageText, filters, region} from a hash; absent or malformed parts are null or
 * left out (`imageText` keeps what the hash says the image is, for a message). */
export function readState(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const filters = {};
  for (const name of FILTERS) {
    const value = params.get(name);
    if (value) filters[name] = value;
  }
  const imageText = params.get("image");
  const image = /^[0-9]{1,15}$/.test(imageText ?? "") ? Number(imageText) : null;
  const region = (params.get("region") ?? "").split(",").map(Number);
  const validRegion = region.length === 4 && region.every(Number.isFinite)
    && region[2] > 0 && region[3] > 0;
  return {
    image,
    imageText,
    filters,
    region: validRegion ? { x: region[0], y: region[1], w: region[2], h: region[3] } : null,
  };
}

/** The hash for a state: image first, then filters, then the viewport. */
export function writeState({ image, filters, region }) {
  const where = region && [region.x, region.y, region.w, region.h].map(Math.round).join(",");
  const query = toQuery([["image", image]]);
  const parts = [query, filterQuery(filters), toQuery([["region", where]])];
  return `#${parts.filter(Boolean).join("&")}`;
}
