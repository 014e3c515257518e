// The display controls: a form whose fields map one to one onto the filter parameters.
// `read` turns the form into filters (strings, as the API spells them), `show` does the reverse.

import { structuresOf } from "./api.js";

const RANGE_FIELDS = ["red", "green", "blue"].flatMap((c) => [`${c}_lower`, `${c}_upper`]);

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
    this.context = { range: null, atlases: [] };
    this.structures = [];
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.apply();
    });
    form.addEventListener("change", async (event) => {
      if (event.target.name === "atlas") await this.loadStructures();
      this.apply();
    });
    this.rangeDefault.addEventListener("click", () => this.showRange(this.context.range));
    form.querySelector("#range-clear").addEventListener("click", () => this.showRange(null));
  }

  /** Adapt to the data set of the image shown: its default range and its atlases. */
  async setContext(context) {
    this.context = context;
    this.rangeDefault.disabled = !context.range;
    const atlases = context.atlases.map((atlas) => new Option(atlas.name, atlas.id));
    this.form.atlas.replaceChildren(...atlases);
    this.annotationFields.disabled = context.atlases.length === 0;
    await this.loadStructures();
  }

  /** The filters a data set starts with: its display range, if it has one. */
  defaults() {
    return this.context.range ? { range: this.context.range } : {};
  }

  /** Fill the form from filters. */
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
  }

  /** The filters the form holds, or null while a field is invalid. */
  read() {
    const { form } = this;
    const annotated = !this.annotationFields.disabled && form.annotation.checked;
    const range = this.readRange();
    const structure = annotated ? this.readStructures() : "";
    if (range === null || structure === null) return null;
    const filters = { range, colormap: form.colormap.value, view: form.view.value };
    if (annotated) {
      Object.assign(filters, { annotation: "true", atlas: form.atlas.value, structure });
    }
    return Object.fromEntries(Object.entries(filters).filter(([, value]) => value));
  }

  apply() {
    this.enableAnnotationFields();
    const filters = this.read();
    if (filters) this.onChange(filters);
  }

  showRange(range, apply = true) {
    const values = range ? range.split(",") : [];
    RANGE_FIELDS.forEach((name, index) => {
      this.form[name].value = values[index] ?? "";
      flag(this.form[name], "");
    });
    if (apply) this.apply();
  }

  /** Six whole numbers, all or none: a string, "" for none, or null when incomplete. */
  readRange() {
    const fields = RANGE_FIELDS.map((name) => this.form[name]);
    fields.forEach((field) => flag(field, ""));
    if (fields.every((field) => field.value === "" && !field.validity.badInput)) return "";
    const wrong = fields.filter((field) => field.value === "" || !field.validity.valid);
    wrong.forEach((field) => flag(field, "a whole number from 0 to 4095, in all six fields"));
    return wrong.length ? null : fields.map((field) => field.value).join(",");
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
