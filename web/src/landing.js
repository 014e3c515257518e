// What the page says before an image is chosen: where to start, and how to add images to the
// store (with what to do first when it holds none).

export class Landing {
  constructor(element) {
    this.element = element;
  }

  /** Show the first steps; `empty` when the store holds no data set at all. */
  show(empty) {
    this.element.dataset.empty = String(empty);
    this.element.hidden = false;
  }

  hide() {
    this.element.hidden = true;
  }
}
