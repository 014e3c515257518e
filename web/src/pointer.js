// The structure under the pointer on an annotated plate, from the server's image_to_structure
// lookup. Throttled: one request in flight, at most one every INTERVAL ms, always for the last
// pixel the pointer was over; the same pixel is not asked twice in a row. A refusal is shown
// and ends the lookups on that plate.

import { structureAt } from "./api.js";

const INTERVAL = 100;
const pause = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

export class StructureUnderPointer {
  /** `element` shows the name; `pointAt(clientX, clientY)` is the image pixel under a point. */
  constructor(element, surface, pointAt) {
    this.element = element;
    this.pointAt = pointAt;
    this.plate = null;
    surface.addEventListener("pointermove", (event) => this.moved(event));
    surface.addEventListener("pointerleave", () => this.moved(null));
  }

  /** Follow the pointer over `image` (its id) with the label map of `atlas`, or stop (null). */
  follow(image, atlas) {
    const plate = image === null ? null : { image, atlas };
    if (JSON.stringify(plate) === JSON.stringify(this.plate)) return;
    this.plate = plate;
    this.wanted = null;
    this.asked = null;
    this.show("");
  }

  moved(event) {
    if (!this.plate) return;
    const point = event && this.pointAt(event.clientX, event.clientY);
    this.wanted = point ? { ...this.plate, ...point } : null;
    if (!this.wanted) {
      this.asked = null;
      this.show("");
    }
    this.pump();
  }

  /** Ask for the wanted pixel unless a request is in flight; then again for a newer one. */
  async pump() {
    const wanted = this.wanted;
    if (this.busy || !wanted || JSON.stringify(wanted) === JSON.stringify(this.asked)) return;
    this.busy = true;
    this.asked = wanted;
    try {
      const structure = await structureAt(wanted.image, wanted.x, wanted.y, wanted.atlas);
      if (this.wanted && this.plate?.image === wanted.image) this.show(describe(structure));
    } catch (error) {
      if (this.plate?.image === wanted.image) {
        this.plate = null; // the plate cannot be looked up (say, a mirror's picture): say so once
        this.show(error.message);
      }
    }
    await pause(INTERVAL);
    this.busy = false;
    this.pump();
  }

  show(text) {
    this.element.textContent = text;
    this.element.hidden = text === "";
  }
}

/** "Primary somatosensory area (SSp)", or what the background is. */
function describe(structure) {
  if (!structure) return "no structure";
  const name = structure.name ?? `structure ${structure.id}`;
  return structure.acronym ? `${name} (${structure.acronym})` : name;
}
