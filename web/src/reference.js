// Registration in the viewer. On an aligned section (a SectionImage with an Alignment2d whose
// data set has an Alignment3d): the reference point and the structure under the pointer, from
// the server's image_to_reference and reference_to_structure; and, from the point at the
// centre of the view (marked by a cross), the nearest plate of an atlas (image_to_atlas) or the
// same point in another data set registered to the same reference space (image_to_image).

import {
  alignedDataSets,
  allAtlases,
  imageToAtlas,
  imageToImage,
  imageToReference,
  structureAtReference,
} from "./api.js";
import { describeStructure } from "./pointer.js";

const AXES = ["p", "i", "r"];

/** "p 4492, i 4215, r 7566 µm: Caudoputamen (CP)" for pixel (x, y) of an aligned image. */
export async function referenceText(imageId, spaceId, x, y) {
  const point = await imageToReference(imageId, x, y);
  const structure = await structureAtReference(spaceId, point);
  const where = [point.x, point.y, point.z].map((value, k) => `${AXES[k]} ${Math.round(value)}`);
  return `${where.join(", ")} µm: ${describeStructure(structure)}`;
}

/** "Data set 12 · Gad1 · coronal" */
function dataSetName(dataSet) {
  const genes = (dataSet.genes ?? []).map((gene) => gene.acronym);
  const parts = [`Data set ${dataSet.id}`, ...genes, dataSet.plane_of_section?.name];
  return parts.filter(Boolean).join(" · ");
}

export class SyncPanel {
  /** `fieldset` holds the choices and buttons; `centre()` is the full-resolution pixel at the
   * centre of the view; `go(sync, filters)` opens `sync.section_image_id` at (sync.x, sync.y)
   * with filters; `report(error)` says what went wrong. */
  constructor(fieldset, { centre, go, report }) {
    this.fieldset = fieldset;
    this.centre = centre;
    this.go = go;
    this.image = null;
    this.atlas = fieldset.querySelector("[name=sync_atlas]");
    this.dataSet = fieldset.querySelector("[name=sync_data_set]");
    this.plateButton = fieldset.querySelector("#open-plate");
    this.samePointButton = fieldset.querySelector("#open-same-point");
    fieldset.addEventListener("change", (event) => event.stopPropagation()); // not a filter
    this.plateButton.addEventListener("click", () => this.openPlate().catch(report));
    this.samePointButton.addEventListener("click", () => this.openSamePoint().catch(report));
  }

  /** Offer the atlases and the other data sets of the image's reference space for an aligned
   * image (`alignment` from `alignmentOf`); hide for any other (`alignment` null). */
  async show(record, alignment) {
    this.image = alignment ? record : null;
    this.fieldset.hidden = !alignment;
    this.fieldset.disabled = true;
    if (!alignment) return;
    const [atlases, dataSets] = await Promise.all([
      allAtlases(),
      alignedDataSets(alignment.referenceSpace),
    ]);
    if (this.image !== record) return; // another image was opened meanwhile
    const others = dataSets.filter((dataSet) => dataSet.id !== record.data_set_id);
    this.atlas.replaceChildren(...atlases.map((atlas) => new Option(atlas.name, atlas.id)));
    this.dataSet.replaceChildren(...others.map((d) => new Option(dataSetName(d), d.id)));
    this.fieldset.disabled = false;
    this.plateButton.disabled = atlases.length === 0;
    this.samePointButton.disabled = others.length === 0;
  }

  async openPlate() {
    const { x, y } = this.centre();
    const atlas = this.atlas.value;
    this.go(await imageToAtlas(this.image.id, x, y, atlas), { annotation: "true", atlas });
  }

  async openSamePoint() {
    const { x, y } = this.centre();
    this.go(await imageToImage(this.image.id, x, y, this.dataSet.value), {});
  }
}
