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

/** The `msg` of one of the server's JSON services at `path` with query `pairs`; a refusal
 * throws the server's plain-text reason. */
async function service(path, pairs) {
  const response = await fetch(absolute(`api/v2/${path}.json?${toQuery(pairs)}`));
  if (!response.ok) throw new Error((await response.text()).trim());
  const envelope = await response.json();
  if (!envelope.success) throw new Error(envelope.msg);
  return envelope.msg;
}

/** The Structure record at full-resolution pixel (x, y) of an image's label map for `atlas`
 * (brainmap's image_to_structure extension); null on the background or outside the image.
 * A refusal throws the server's message. */
export async function structureAt(imageId, x, y, atlas) {
  const pairs = [["x", x], ["y", y], ["atlas", atlas]];
  return (await service(`image_to_structure/${imageId}`, pairs))[0] ?? null;
}

/** Where a SectionImage lies in the reference space: its data set's reference space id when
 * the image has an Alignment2d and its data set an Alignment3d, else null. */
export const alignmentOf = cached(async (imageId) => {
  const found = await records(
    `model::SectionImage,rma::criteria,[id$eq${imageId}],`
    + "rma::include,alignment2d,data_set(alignment3d)",
  );
  const image = found[0];
  const aligned = image?.alignment2d && image.data_set?.alignment3d;
  return aligned ? { referenceSpace: image.data_set.reference_space_id } : null;
});

/** The section data sets registered to a reference space (with an Alignment3d), by id. */
export const alignedDataSets = cached((spaceId) => records(
  `model::SectionDataSet,rma::criteria,[reference_space_id$eq${spaceId}],alignment3d,`
  + "rma::include,genes,plane_of_section,rma::options[order$eqid][num_rows$eq'all']",
));

/** Every atlas, by id. */
export const allAtlases = cached(() => records(
  "model::Atlas,rma::options[order$eqid][num_rows$eq'all']",
));

/** The reference point {x: p, y: i, z: r} (µm) of full-resolution pixel (x, y) of an image. */
export async function imageToReference(imageId, x, y) {
  const msg = await service(`image_to_reference/${imageId}`, [["x", x], ["y", y]]);
  return msg.image_to_reference;
}

/** The Structure record at a reference point (µm) of a reference space; null where none. */
export async function structureAtReference(spaceId, { x, y, z }) {
  const msg = await service(`reference_to_structure/${spaceId}`, [["x", x], ["y", y], ["z", z]]);
  return msg[0] ?? null;
}

/** The annotated plate of an atlas nearest pixel (x, y) of an image: {section_image_id, x, y}. */
export async function imageToAtlas(imageId, x, y, atlasId) {
  const pairs = [["x", x], ["y", y], ["atlas_id", atlasId]];
  return (await service(`image_to_atlas/${imageId}`, pairs)).image_sync;
}

/** The image of a data set nearest pixel (x, y) of an image, through the reference space:
 * {section_image_id, x, y}. */
export async function imageToImage(imageId, x, y, dataSetId) {
  const pairs = [["x", x], ["y", y], ["section_data_set_ids", dataSetId]];
  return (await service(`image_to_image/${imageId}`, pairs))[0].image_sync;
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
