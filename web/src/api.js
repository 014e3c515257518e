// The server's two APIs as the page uses them: RMA queries for records, and the URLs of
// IIIF images and of the Image Download Service. URLs are relative to the page, so the
// viewer works wherever the server is mounted.

import { toQuery } from "./state.js";

/** An absolute URL for a path relative to the page. */
const absolute = (path) => new URL(path, document.baseURI).href;

/** The records of an RMA query; a refused query throws the server's message. */
export async function records(query) {
  const response = await fetch(absolute(`api/v2/data/query.json?q=${encodeURIComponent(query)}`));
  if (!response.ok) throw new Error(`query failed (HTTP ${response.status}): ${query}`);
  const envelope = await response.json();
  if (!envelope.success) throw new Error(envelope.msg);
  return envelope.msg;
}

/** Memoise an async loader by key; a failure is not kept, so it is retried next time. */
const cached = (load) => {
  const memo = new Map();
  return (key) => {
    if (!memo.has(key)) {
      const loading = load(key);
      loading.catch(() => memo.delete(key));
      memo.set(key, loading);
    }
    return memo.get(key);
  };
};

/** One image record with its data set and the data set's products; null if unknown. */
export async function imageRecord(id) {
  const found = await records(
    `model::SubImage,rma::criteria,[id$eq${id}],rma::include,data_set(products)`,
  );
  return found[0] ?? null;
}

/** What the controls need of a data set: its Equalization as a range string, its atlases. */
export const dataSetContext = cached(async (dataSetId) => {
  const [equalizations, atlases] = await Promise.all([
    records(`model::Equalization,rma::criteria,[section_data_set_id$eq${dataSetId}]`),
    records(`model::Atlas,rma::criteria,[atlas_data_set_id$eq${dataSetId}],`
      + "rma::options[order$eqid]"),
  ]);
  const equalization = equalizations[0];
  const range = equalization && ["red", "green", "blue"]
    .flatMap((channel) => [equalization[`${channel}_lower`], equalization[`${channel}_upper`]])
    .join(",");
  return { range: range || null, atlases };
});

/** The structures of one structure graph, in graph order: id, acronym and name. */
export const structuresOf = cached((graphId) => records(
  `model::Structure,rma::criteria,[graph_id$eq${graphId}],`
  + "rma::options[only$eqid,acronym,name][order$eqgraph_order][num_rows$eq'all']",
));

/** The Structure record at full-resolution pixel (x, y) of an image's label map for `atlas`
 * (brainmap's image_to_structure extension); null on the background or outside the image.
 * A refusal throws the server's message. */
export async function structureAt(imageId, x, y, atlas) {
  const query = toQuery([["x", x], ["y", y], ["atlas", atlas]]);
  const response = await fetch(absolute(`api/v2/image_to_structure/${imageId}.json?${query}`));
  if (!response.ok) throw new Error((await response.text()).trim());
  return (await response.json()).msg[0] ?? null;
}

/** The IIIF Image API base URL of an image (append /info.json or a region/size/...). */
export const iiifBase = (imageId) => absolute(`iiif/3/${imageId}`);

/** An Image Download Service URL: geometry pairs first, then the filter query. */
export function downloadUrl(imageId, geometry, filterQueryString) {
  const query = [toQuery(Object.entries(geometry)), filterQueryString].filter(Boolean).join("&");
  return absolute(`api/v2/image_download/${imageId}${query ? `?${query}` : ""}`);
}

const THUMBNAIL_SIDE = 200;

/** A thumbnail: the whole section from the Download Service at the coarsest downsample that
 * still gives about THUMBNAIL_SIDE pixels, in the data set's display range. */
export function thumbnailUrl(image, range) {
  const ratio = Math.max(image.width, image.height) / THUMBNAIL_SIDE;
  const downsample = Math.max(0, Math.min(Math.floor(Math.log2(ratio)), image.tier_count - 1));
  return downloadUrl(image.id, { downsample, quality: 80 }, toQuery([["range", range]]));
}
