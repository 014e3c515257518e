// The catalogue: products (and reference atlases) -> data sets -> section thumbnails.
// Products are listed when they have data sets; data sets of no product (say, a lab's own
// images ingested without one) are under "Other data sets". Every entry is a button; the chosen
// one in each list carries aria-current.

import { dataSetContext, records, thumbnailUrl } from "./api.js";

const PAGE = 50;
const OTHERS = "other";
/** What a data set's entry shows besides its id. */
const DETAILS = "rma::include,genes,plane_of_section";

/** Replace a list's items with one button per entry; returns the buttons by key. */
function fill(list, entries, onChoose) {
  list.replaceChildren();
  return append(list, entries, onChoose);
}

function append(list, entries, onChoose) {
  const buttons = new Map();
  for (const entry of entries) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.key = entry.key;
    button.append(...entry.content);
    button.addEventListener("click", () => {
      mark(list, entry.key);
      onChoose(entry);
    });
    const item = document.createElement("li");
    item.append(button);
    list.append(item);
    buttons.set(entry.key, button);
  }
  return buttons;
}

/** Mark the entry `key` of a list as the current one (none if absent). */
function mark(list, key) {
  for (const button of list.querySelectorAll("button")) {
    button.setAttribute("aria-current", String(button.dataset.key === String(key)));
  }
}

const text = (value) => document.createTextNode(value);

function dataSetLabel(dataSet) {
  const genes = (dataSet.genes ?? []).map((gene) => gene.acronym).join(", ");
  const plane = dataSet.plane_of_section?.name;
  return [`Data set ${dataSet.id}`, dataSet.name, genes, plane].filter(Boolean).join(" · ");
}

function thumbnail(image, range) {
  const picture = document.createElement("img");
  picture.src = thumbnailUrl(image, range);
  picture.alt = "";
  picture.loading = "lazy";
  const caption = document.createElement("span");
  caption.textContent = `Section ${image.section_number ?? "–"} · image ${image.id}`;
  return [picture, caption];
}

export class Catalog {
  /** `onImage(record)` is called when a section is chosen. */
  constructor(root, onImage) {
    const lists = ["products", "atlases", "data-sets", "sections"];
    this.lists = Object.fromEntries(lists.map((id) => [id, root.querySelector(`#${id}`)]));
    this.more = root.querySelector("#more-data-sets");
    this.onImage = onImage;
    this.more.addEventListener("click", () => this.nextDataSets());
  }

  /** List the products that have data sets, "Other data sets" when some data sets have no
   * product and belong to no atlas, and the reference atlases. Resolves to the number of data
   * sets in the store. */
  async start() {
    const [products, atlases, dataSets] = await Promise.all([
      records("model::Product,rma::options[order$eqid][num_rows$eq'all']"),
      records("model::Atlas,rma::options[order$eqid][num_rows$eq'all']"),
      records("model::DataSet,rma::include,products,"
        + "rma::options[only$eqid,products.id][order$eqid][num_rows$eq'all']"),
    ]);
    const atlasEntries = atlases.map((atlas) => ({
      key: atlas.id,
      name: atlas.name ?? `Atlas ${atlas.id}`,
      content: [text(atlas.name ?? `Atlas ${atlas.id}`)],
      dataSet: atlas.atlas_data_set_id,
    }));
    this.atlasByDataSet = new Map(atlasEntries.map((entry) => [entry.dataSet, entry]));
    const used = new Set(dataSets.flatMap((dataSet) => dataSet.products.map((p) => p.id)));
    this.others = dataSets
      .filter((dataSet) => dataSet.products.length === 0 && !this.atlasByDataSet.has(dataSet.id))
      .map((dataSet) => dataSet.id);
    const productEntries = products.filter((product) => used.has(product.id)).map((product) => ({
      key: product.id,
      content: [text(product.name ?? `Product ${product.id}`)],
    }));
    if (this.others.length) {
      productEntries.push({ key: OTHERS, content: [text("Other data sets")] });
    }
    fill(this.lists.products, productEntries, (entry) => (
      entry.key === OTHERS ? this.openOthers() : this.openProduct(entry.key)));
    fill(this.lists.atlases, atlasEntries, (entry) => this.openAtlas(entry));
    return dataSets.length;
  }

  /** Show the first page of a product's data sets. */
  async openProduct(productId) {
    await this.openDataSets(productId, (start) => records(
      `model::DataSet,rma::criteria,products[id$eq${productId}],${DETAILS},`
      + `rma::options[order$eqid][num_rows$eq${PAGE}][start_row$eq${start}]`,
    ));
  }

  /** Show the first page of the data sets of no product. */
  async openOthers() {
    await this.openDataSets(OTHERS, async (start) => {
      const ids = this.others.slice(start, start + PAGE);
      return ids.length === 0 ? [] : records(
        `model::DataSet,rma::criteria,[id$in${ids.join(",")}],${DETAILS},`
        + "rma::options[order$eqid][num_rows$eq'all']",
      );
    });
  }

  /** Choose the entry `key` of the products list, whose data sets `load(start)` pages. */
  async openDataSets(key, load) {
    mark(this.lists.products, key);
    mark(this.lists.atlases, null);
    this.load = load;
    this.lists["data-sets"].replaceChildren();
    this.lists.sections.replaceChildren();
    this.shown = 0;
    await this.nextDataSets();
  }

  /** An atlas stands for its one data set of plates. */
  async openAtlas(entry) {
    mark(this.lists.products, null);
    mark(this.lists.atlases, entry.key);
    this.more.hidden = true;
    const plates = { key: entry.dataSet, content: [text(`Plates of ${entry.name}`)] };
    fill(this.lists["data-sets"], [plates], (chosen) => this.openDataSet(chosen.key));
    await this.openDataSet(entry.dataSet);
  }

  async nextDataSets() {
    const page = await this.load(this.shown);
    append(this.lists["data-sets"], page.map((dataSet) => ({
      key: dataSet.id,
      content: [text(dataSetLabel(dataSet))],
    })), (entry) => this.openDataSet(entry.key));
    this.shown += page.length;
    this.more.hidden = page.length < PAGE;
  }

  /** Show a data set's sections as thumbnails, in the data set's display range. */
  async openDataSet(dataSetId) {
    mark(this.lists["data-sets"], dataSetId);
    const [images, context] = await Promise.all([
      records(
        `model::SubImage,rma::criteria,[data_set_id$eq${dataSetId}],`
        + "rma::options[order$eqsection_number,id][num_rows$eq'all']",
      ),
      dataSetContext(dataSetId),
    ]);
    const byId = new Map(images.map((image) => [image.id, image]));
    fill(this.lists.sections, images.map((image) => ({
      key: image.id,
      content: thumbnail(image, context.range),
    })), (entry) => this.onImage(byId.get(entry.key)));
  }

  /** Show where an image belongs (its product or atlas, data set and section) without
   * choosing it. */
  async reveal(record) {
    const product = record.data_set?.products?.[0];
    const atlas = this.atlasByDataSet.get(record.data_set_id);
    if (product) {
      await this.openProduct(product.id);
      await this.openDataSet(record.data_set_id);
    } else if (atlas) {
      await this.openAtlas(atlas);
    } else {
      await this.openOthers();
      await this.openDataSet(record.data_set_id);
    }
    this.markImage(record.id);
  }

  markImage(imageId) {
    mark(this.lists.sections, imageId);
  }
}
