// The display controls: a form whose fields map one to one onto the filter parameters.
// `read` turns the form into filters (strings, as the API spells them), `show` does the reverse.
// A field that holds an invalid value says so and keeps what was applied before, so every
// other change still applies, and so does the field once it is corrected.

import { structuresOf } from "./api.js";
import { defaultRange, scaleOf } from "./depth.js";

const CHANNELS = ["red", "green", "blue"];
const RANGE_FIELDS = CHANNELS.flatMap((c) => [`${c}_lower`, `${c}_upper`]);
const WHOLE = /^[0-9]+$/;

/** "red upper, green lower" for the fields named red_upper and green_lower. */
const spoken = (fields) => fields.map((field) => field.name.replace("_", " ")).join(", ");

/** Mark a field invalid (with a message for assistive technology) or valid. */
function flag(field, message) {
  field.setCustomValidity(message);
  field.setAttribute("aria-invalid", String(Boolean(message)));
}

export class Controls {
  /** `onChange(filters)` is called whenever the form holds a new, valid set of filters. */
  constructor(form, onChange) {
    this.form = form;
    this.onChange = onChange;
    this.annotationFields = form.querySelector("#annotation-controls");
    this.structureError = form.querySelector("#structure-error");
    this.structureList = form.querySelector("#structure-list");
    this.rangeDefault = form.querySelector("#range-default");
    this.rangeLegend = form.querySelector("#range-legend");
    this.rangeError = form.querySelector("#range-error");
    this.context = { range: null, atlases: [] };
    this.scale = scaleOf(null);
    this.startRange = null;
    this.applied = {};
    this.structures = [];
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.apply();
    });
    form.addEventListener("change", async (event) => {
      if (event.target.name === "atlas") await this.loadStructures();
      this.apply();
    });
    this.rangeDefault.addEventListener("click", () => this.showRange(this.startRange));
    form.querySelector("#range-clear").addEventListener("click", () => this.showRange(null));
  }

  /** Adapt to the image shown (a SubImage record) and its data set: the scale of its range
   * (from its bit depth), its default range and its atlases. */
  async setContext(context, image) {
    this.context = context;
    this.scale = scaleOf(image.bits_per_component);
    this.startRange = defaultRange(context.range, image.bits_per_component);
    for (const name of RANGE_FIELDS) this.form[name].max = String(this.scale);
    this.rangeLegend.textContent = `Range (0 to ${this.scale}, per channel)`;
    this.rangeDefault.disabled = !this.startRange;
    const atlases = context.atlases.map((atlas) => new Option(atlas.name, atlas.id));
    this.form.atlas.replaceChildren(...atlases);
    this.annotationFields.disabled = context.atlases.length === 0;
    await this.loadStructures();
  }

  /** The filters an image starts with: its default range, if it has one. */
  defaults() {
    return this.startRange ? { range: this.startRange } : {};
  }

  /** Fill the form from filters (say, a link's); returns those of them that are valid, now
   * the ones applied (an invalid range or structure says so and is left out). */
  show(filters) {
    const { form } = this;
    this.showRange(filters.range, false);
    form.colormap.value = filters.colormap ?? "";
    form.view.value = filters.view ?? "";
    form.annotation.checked = filters.annotation === "true";
    if (filters.atlas) form.atlas.value = filters.atlas;
    const acronyms = new Map(this.structures.map((s) => [String(s.id), s.acronym]));
    form.structure.value = (filters.structure ?? "")
      .split(",")
      .filter(Boolean)
      .map((id) => acronyms.get(id) ?? id)
      .join(", ");
    this.enableAnnotationFields();
    this.applied = {};
    this.applied = this.read();
    return this.applied;
  }

  /** The filters the form holds; an invalid field contributes what was applied before. */
  read() {
    const { form } = this;
    const annotated = !this.annotationFields.disabled && form.annotation.checked;
    const range = this.readRange() ?? this.applied.range;
    const structure = annotated ? this.readStructures() ?? this.applied.structure : "";
    const filters = { range, colormap: form.colormap.value, view: form.view.value };
    if (annotated) {
      Object.assign(filters, { annotation: "true", atlas: form.atlas.value, structure });
    }
    return Object.fromEntries(Object.entries(filters).filter(([, value]) => value));
  }

  apply() {
    this.enableAnnotationFields();
    this.applied = this.read();
    this.onChange(this.applied);
  }

  showRange(range, apply = true) {
    const values = range ? range.split(",") : [];
    RANGE_FIELDS.forEach((name, index) => {
      this.form[name].value = values[index] ?? "";
      flag(this.form[name], "");
    });
    if (apply) this.apply();
  }

  /** Six whole numbers on the image's scale, each upper above its lower, or none: a string
   * ("" for none), or null with the problem shown when the fields hold something else. */
  readRange() {
    const fields = RANGE_FIELDS.map((name) => this.form[name]);
    const problem = this.rangeProblem(fields);
    for (const field of fields) flag(field, problem?.fields.includes(field) ? problem.message : "");
    this.rangeError.textContent = problem ? `Range not applied: ${problem.message}.` : "";
    if (problem) return null;
    return fields.every((field) => field.value === "") ? "" : fields.map((f) => f.value).join(",");
  }

  /** What is wrong with the range fields, if anything: {fields, message}. */
  rangeProblem(fields) {
    if (fields.every((field) => field.value === "" && !field.validity.badInput)) return null;
    const wrong = fields.filter((f) => !WHOLE.test(f.value) || Number(f.value) > this.scale);
    if (wrong.length) {
      const what = wrong.length > 1 ? "whole numbers" : "a whole number";
      const message = `${spoken(wrong)} must be ${what} from 0 to ${this.scale}`;
      return { fields: wrong, message: `${message} (fill all six fields, or none)` };
    }
    for (let index = 0; index < fields.length; index += 2) {
      const [lower, upper] = fields.slice(index, index + 2);
      if (Number(upper.value) <= Number(lower.value)) {
        const channel = CHANNELS[index / 2];
        const message = `${channel} upper must be above ${channel} lower`;
        return { fields: [lower, upper], message };
      }
    }
    return null;
  }

  /** Structure ids from acronyms or ids: a comma-separated string, or null if one is unknown. */
  readStructures() {
    const field = this.form.structure;
    const byAcronym = new Map(this.structures.map((s) => [String(s.acronym).toLowerCase(), s.id]));
    const tokens = field.value.split(/[\s,]+/).filter(Boolean);
    const ids = tokens.map((token) => (
      /^\d+$/.test(token) ? Number(token) : byAcronym.get(token.toLowerCase())));
    const unknown = tokens.filter((_, index) => ids[index] === undefined);
    const message = unknown.length ? `unknown structure: ${unknown.join(", ")}` : "";
    flag(field, message);
    this.structureError.textContent = message;
    return message ? null : ids.join(",");
  }

  /** Atlas and structures only mean something with the annotation shown. */
  enableAnnotationFields() {
    const off = !this.form.annotation.checked;
    this.form.atlas.disabled = off;
    this.form.structure.disabled = off;
  }

  /** Load the structures of the chosen atlas's graph into the suggestions. */
  async loadStructures() {
    const atlas = this.context.atlases.find((a) => String(a.id) === this.form.atlas.value);
    this.structures = atlas?.structure_graph_id ? await structuresOf(atlas.structure_graph_id) : [];
    this.structureList.replaceChildren(
      ...this.structures.map((s) => new Option(s.name ?? "", s.acronym ?? String(s.id))),
    );
  }
}
