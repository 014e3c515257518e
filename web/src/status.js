// One line of status under the title, read out by screen readers (role="status").

export class Status {
  constructor(element) {
    this.element = element;
  }

  say(message) {
    this.element.classList.remove("error");
    this.element.textContent = message;
  }

  fail(message) {
    this.element.classList.add("error");
    this.element.textContent = message;
  }
}
