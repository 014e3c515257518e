// The deep-zoom view: OpenSeadragon over the server's IIIF Image API, with the filters
// appended to every tile URL. Changing filters swaps the tile source and keeps the viewport.
// A scale bar shows where the image's resolution is known.

import OpenSeadragon from "openseadragon";
import { iiifBase } from "./api.js";
import { ScaleBar } from "./scalebar.js";
import { filterQuery } from "./state.js";

/** Image pixels over which the scale is measured (any length works: the view is linear). */
const MEASURE = 1000;

/** A region of the image in full-resolution pixels. */
const asRegion = (rect) => ({ x: rect.x, y: rect.y, w: rect.width, h: rect.height });

export class Viewer {
  /** `onViewport(region)` after every settled pan or zoom; `onError(message)` when the
   * server refuses the tiles (say, a view this image lacks). */
  constructor(element, { onViewport, onError }) {
    this.element = element;
    this.onViewport = onViewport;
    this.onError = onError;
    this.osd = OpenSeadragon({
      element,
      prefixUrl: "static/images/",
      drawer: "canvas",
      showNavigator: true,
      navigatorPosition: "BOTTOM_RIGHT",
      maxZoomPixelRatio: 4,
      visibilityRatio: 0.25,
      preserveViewport: true, // new filters keep the view; a new image goes home in `open`
    });
    this.osd.addHandler("open", () => this.restoreRegion());
    this.osd.addHandler("animation-finish", () => this.reportViewport());
    this.osd.addHandler("resize", () => this.reportViewport());
    this.osd.addHandler("tile-load-failed", (event) => this.explainFailure(event.tile.getUrl()));
    this.osd.world.addHandler("add-item", ({ item }) => this.track(item));
    this.scaleBar = new ScaleBar();
    this.osd.addControl(this.scaleBar.element, {
      anchor: OpenSeadragon.ControlAnchor.BOTTOM_LEFT,
      autoFade: false,
    });
    this.osd.addHandler("update-viewport", () => this.updateScaleBar());
  }

  /** Show an image (a SubImage record) with filters, at `region` if given (else the whole
   * image). */
  async open(image, filters, region) {
    const imageId = image.id;
    this.resolution = image.resolution;
    this.element.setAttribute("aria-busy", "true");
    const infoUrl = `${iiifBase(imageId)}/info.json`;
    try {
      const response = await fetch(infoUrl);
      if (!response.ok) throw new Error(`image ${imageId}: ${(await response.text()).trim()}`);
      this.info = { url: infoUrl, json: await response.json() };
    } catch (error) {
      this.element.setAttribute("aria-busy", "false"); // nothing is coming
      throw error;
    }
    this.pendingRegion = region;
    this.osd.open(this.tileSource(filters));
  }

  /** Redraw the same image and viewport with other filters. */
  setFilters(filters) {
    if (!this.info) return;
    this.osd.addTiledImage({ tileSource: this.tileSource(filters), index: 0, replace: true });
  }

  /** The visible part of the image's coordinate space (may extend past its edges). */
  region() {
    const item = this.osd.world.getItemAt(0);
    return item ? asRegion(item.viewportToImageRectangle(this.osd.viewport.getBounds(true))) : null;
  }

  /** The full-resolution pixel of the image under a point of the page (client coordinates);
   * null while no image is open. */
  imagePointAt(clientX, clientY) {
    const item = this.osd.world.getItemAt(0);
    if (!item) return null;
    const box = this.element.getBoundingClientRect();
    const point = new OpenSeadragon.Point(clientX - box.left, clientY - box.top);
    const { x, y } = item.viewerElementToImageCoordinates(point);
    return { x: Math.floor(x), y: Math.floor(y) };
  }

  /** The full-resolution pixel at the centre of the view; null while no image is open. */
  centre() {
    const r = this.region();
    return r && { x: Math.floor(r.x + r.w / 2), y: Math.floor(r.y + r.h / 2) };
  }

  /** The scale bar for the current zoom: µm per pixel of the view from the image's. */
  updateScaleBar() {
    const item = this.osd.world.getItemAt(0);
    if (!item || !(this.resolution > 0)) {
      this.scaleBar.update(null);
      return;
    }
    const from = item.imageToViewerElementCoordinates(new OpenSeadragon.Point(0, 0));
    const to = item.imageToViewerElementCoordinates(new OpenSeadragon.Point(MEASURE, 0));
    this.scaleBar.update((this.resolution * MEASURE) / (to.x - from.x));
  }

  /** The width of the view in device pixels. */
  deviceWidth() {
    return this.osd.viewport.getContainerSize().x * window.devicePixelRatio;
  }

  /** A IIIF tile source from the cached info.json, its tile URLs carrying the filters. */
  tileSource(filters) {
    const { IIIFTileSource } = OpenSeadragon;
    const info = structuredClone(this.info.json); // configure() edits what it is given
    const options = IIIFTileSource.prototype.configure(info, this.info.url, null);
    const source = new IIIFTileSource(options);
    const query = filterQuery(filters);
    if (query) {
      const iiifUrl = source.getTileUrl;
      source.getTileUrl = (level, x, y) => `${iiifUrl.call(source, level, x, y)}?${query}`;
    }
    this.failureShown = false;
    return source;
  }

  /** Show the region asked for with the image, else the whole image. */
  restoreRegion() {
    const item = this.osd.world.getItemAt(0);
    const r = this.pendingRegion;
    if (item && r) {
      this.osd.viewport.fitBounds(item.imageToViewportRectangle(r.x, r.y, r.w, r.h), true);
    } else {
      this.osd.viewport.goHome(true);
    }
    this.pendingRegion = null;
    this.reportViewport();
  }

  reportViewport() {
    const region = this.region();
    if (region) this.onViewport(region);
  }

  /** aria-busy tells whether every tile of the current view has been drawn. */
  track(item) {
    this.element.setAttribute("aria-busy", "true");
    item.addHandler("fully-loaded-change", ({ fullyLoaded }) => {
      this.element.setAttribute("aria-busy", String(!fullyLoaded));
    });
  }

  /** Ask the server once why a tile failed: its plain-text answer names the problem. */
  async explainFailure(url) {
    if (this.failureShown) return;
    this.failureShown = true;
    this.element.setAttribute("aria-busy", "false");
    const response = await fetch(url).catch(() => null);
    const reason = response && !response.ok ? await response.text().catch(() => "") : "";
    this.onError(reason.trim() || "A tile could not be loaded.");
  }
}
