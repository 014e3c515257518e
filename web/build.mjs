// Build the viewer into the Python package: one bundled ES module, the page, its stylesheet
// and OpenSeadragon's button images, all under src/brainmap/web/static/ (gitignored).
import { cp, mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const out = here("../src/brainmap/web/static/");

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: [here("src/main.js")],
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: true,
  legalComments: "linked",
  outfile: `${out}viewer.js`,
  logLevel: "warning",
});
await cp(here("src/index.html"), `${out}index.html`);
await cp(here("src/viewer.css"), `${out}viewer.css`);
await cp(here("node_modules/openseadragon/build/openseadragon/images/"), `${out}images/`, {
  recursive: true,
});
console.log("viewer built into src/brainmap/web/static/");
