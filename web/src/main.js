// The page: the catalogue chooses an image, the controls choose its filters, the viewer shows
// it; the URL hash holds image, filters and viewport, so a reload or a shared link restores it.

import { alignmentOf, dataSetContext, downloadUrl, imageRecord, structureAt } from "./api.js";
import { Catalog } from "./catalog.js";
import { Controls } from "./controls.js";
import { copyText, visibleGeometry } from "./download.js";
import { Landing } from "./landing.js";
import { PointerLookup, describeStructure } from "./pointer.js";
import { SyncPanel, referenceText } from "./reference.js";
import { filterQuery, readState, writeState } from "./state.js";
import { Status } from "./status.js";
import { Viewer } from "./viewer.js";

const $ = (selector) => document.querySelector(selector);
const status = new Status($("#status"));
const report = (error) => status.fail(error.message);

let state = { image: null, filters: {}, region: null };
let shown = null; // the SubImage record in the viewer

function save() {
  const hash = writeState(state);
  if (hash !== location.hash) history.replaceState(null, "", hash);
}

const viewer = new Viewer($("#viewer"), {
  onViewport(region) {
    state.region = region;
    save();
  },
  onError: (message) => status.fail(message),
});

const landing = new Landing($("#landing"));
const pointAt = (x, y) => viewer.imagePointAt(x, y);
const structurePointer = new PointerLookup($("#pointer-structure"), $("#viewer"), pointAt);
const referencePointer = new PointerLookup($("#pointer-reference"), $("#viewer"), pointAt);

/** Name the structure under the pointer where the image is an annotated plate. */
function followPointer(record, filters) {
  const annotated = record.annotated && controls.context.atlases.length > 0;
  const atlas = filters.atlas ?? controls.form.atlas.value;
  const lookup = (x, y) => structureAt(record.id, x, y, atlas).then(describeStructure);
  structurePointer.follow(annotated ? `${record.id}:${atlas}` : null, lookup);
}

/** Open the image a sync service answered, centred on its point, showing as much tissue as
 * the view shows now (by the two images' resolutions). */
async function openSynced(sync, filters) {
  const target = await imageRecord(sync.section_image_id);
  if (!target) throw new Error(`There is no image ${sync.section_image_id}.`);
  const here = viewer.region();
  const known = shown?.resolution > 0 && target.resolution > 0;
  const scale = known ? shown.resolution / target.resolution : 1;
  const [w, h] = [here.w * scale, here.h * scale];
  const region = { x: sync.x - w / 2, y: sync.y - h / 2, w, h };
  location.hash = writeState({ image: target.id, filters, region }); // restore() opens it
}

const sync = new SyncPanel($("#sync-controls"), {
  centre: () => viewer.centre(),
  go: (found, filters) => openSynced(found, filters).catch(report),
  report,
});

/** On an aligned section: the reference point and structure under the pointer, the cross at
 * the view's centre and the way to a plate or another data set; elsewhere none of them. */
async function followReference(record) {
  referencePointer.follow(null);
  $("#view-centre").hidden = true;
  const alignment = await alignmentOf(record.id);
  if (shown !== record) return; // another image was opened meanwhile
  const lookup = (x, y) => referenceText(record.id, alignment.referenceSpace, x, y);
  referencePointer.follow(alignment ? `${record.id}` : null, lookup);
  $("#view-centre").hidden = !alignment;
  await sync.show(record, alignment);
}

const controls = new Controls($("#controls"), (filters) => {
  if (shown) followPointer(shown, filters);
  if (filterQuery(filters) === filterQuery(state.filters)) return;
  status.say("");
  state.filters = filters;
  viewer.setFilters(filters);
  save();
});

// Sections of the same data set keep the filters; another data set starts from its defaults.
const catalog = new Catalog($("#catalog"), (record) => {
  const keep = shown?.data_set_id === record.data_set_id;
  show(record, keep ? state.filters : null, null).catch(report);
});

/** Open an image: `filters` null means the data set's defaults, `region` null the whole image. */
async function show(record, filters, region) {
  await controls.setContext(await dataSetContext(record.data_set_id), record);
  const chosen = controls.show(filters ?? controls.defaults());
  shown = record;
  state = { image: record.id, filters: chosen, region: null }; // the viewer reports the region
  catalog.markImage(record.id);
  landing.hide();
  followPointer(record, chosen);
  followReference(record).catch(report);
  await viewer.open(record, chosen, region);
  save();
  const section = record.section_number ?? "–";
  status.say(`Image ${record.id}: section ${section} of data set ${record.data_set_id}`);
}

/** Show what the hash names, if anything; an image without filters gets its defaults. */
async function restore() {
  const wanted = readState(location.hash);
  if (wanted.image === null) {
    if (wanted.imageText !== null) status.fail(`"${wanted.imageText}" is not an image id.`);
    return;
  }
  const record = await imageRecord(wanted.image);
  if (!record) {
    status.fail(`There is no image ${wanted.image}.`);
    return;
  }
  await catalog.reveal(record);
  const hasFilters = Object.keys(wanted.filters).length > 0;
  await show(record, hasFilters ? wanted.filters : null, wanted.region);
}

/** Put the Download Service URL of the current view in the field and on the clipboard. */
async function giveDownloadUrl() {
  const region = viewer.region();
  const geometry = shown && region && visibleGeometry(shown, region, viewer.deviceWidth());
  if (!geometry) {
    status.fail("No image is in view.");
    return;
  }
  const url = downloadUrl(shown.id, geometry, filterQuery(state.filters));
  const field = $("#download-url");
  field.value = url;
  field.select();
  const copied = await copyText(url);
  status.say(copied
    ? "Copied the Image Download Service URL."
    : "The Image Download Service URL is in the field below.");
}

$("#download-button").addEventListener("click", () => giveDownloadUrl().catch(report));
window.addEventListener("hashchange", () => restore().catch(report));
catalog.start()
  .then((dataSets) => {
    landing.show(dataSets === 0);
    return restore();
  })
  .catch(report);
