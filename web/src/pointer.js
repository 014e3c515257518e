// A look-up about the image pixel under the pointer (the structure on an annotated plate, the
// reference point and structure on an aligned section), shown over the view. Throttled: one
// request in flight, at most one every INTERVAL ms, always for the last pixel the pointer was
// over; the same pixel is not asked twice in a row. A refusal is shown and ends the look-ups
// on that image.

const INTERVAL = 100;
const pause = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

export class PointerLookup {
  /** `element` shows the answer; `pointAt(clientX, clientY)` is the image pixel under a point. */
  constructor(element, surface, pointAt) {
    this.element = element;
    this.pointAt = pointAt;
    this.key = null;
    surface.addEventListener("pointermove", (event) => this.moved(event));
    surface.addEventListener("pointerleave", () => this.moved(null));
  }

  /** Follow the pointer with `lookup(x, y)` (a promise of the text to show), named by `key`
   * (following the same key again changes nothing), or stop (key null). */
  follow(key, lookup) {
    if (key === this.key) return;
    this.key = key;
    this.lookup = lookup;
    this.wanted = null;
    this.asked = null;
    this.show("");
  }

  moved(event) {
    if (this.key === null) return;
    const point = event && this.pointAt(event.clientX, event.clientY);
    this.wanted = point ? { key: this.key, x: point.x, y: point.y } : null;
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
      const text = await this.lookup(wanted.x, wanted.y);
      if (this.wanted && this.key === wanted.key) this.show(text);
    } catch (error) {
      if (this.key === wanted.key) {
        this.key = null; // this image cannot be looked up (say, a mirror's picture): say so once
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
export function describeStructure(structure) {
  if (!structure) return "no structure";
  const name = structure.name ?? `structure ${structure.id}`;
  return structure.acronym ? `${name} (${structure.acronym})` : name;
}
