// A scale bar for the deep-zoom view: a round length (1, 2 or 5 times a power of ten, in µm)
// drawn at most LONGEST pixels long, redrawn with every change of the viewport so that it is
// true at every zoom.

const LONGEST = 120;

/** The longest length of the form {1, 2, 5} x 10^k that is at most `micrometres`. */
export function roundLength(micrometres) {
  const power = 10 ** Math.floor(Math.log10(micrometres));
  return [5, 2, 1].map((step) => step * power).find((length) => length <= micrometres) ?? power;
}

/** "500 µm", "2 mm", "0.5 µm". */
export function lengthLabel(micrometres) {
  const [value, unit] = micrometres >= 1000 ? [micrometres / 1000, "mm"] : [micrometres, "µm"];
  return `${Number(value.toPrecision(3))} ${unit}`;
}

export class ScaleBar {
  constructor() {
    this.element = document.createElement("div");
    this.element.className = "scale-bar";
    this.bar = document.createElement("div");
    this.bar.className = "scale-bar-line";
    this.label = document.createElement("span");
    this.element.append(this.label, this.bar);
    this.element.hidden = true;
  }

  /** Show a bar for `micrometresPerPixel` (µm per CSS pixel of the view); hidden when it is
   * not a positive number (the image's resolution is unknown). */
  update(micrometresPerPixel) {
    this.element.hidden = !(micrometresPerPixel > 0 && Number.isFinite(micrometresPerPixel));
    if (this.element.hidden) return;
    const length = roundLength(LONGEST * micrometresPerPixel);
    this.bar.style.width = `${length / micrometresPerPixel}px`;
    this.label.textContent = lengthLabel(length);
  }
}
