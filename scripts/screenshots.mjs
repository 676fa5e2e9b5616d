// Draws the pages scripts/screenshots.py built: their Mermaid charts with the pinned `mermaid`,
// in Debian's Chromium through the pinned `playwright-core` (both from tests/mermaid, as
// tests/mermaid/render.mjs uses them), then a PNG of the top of each page.
//
//   node scripts/screenshots.mjs <pages.json> <out-dir>
//
// pages.json: [{"name": "index", "html": "/tmp/.../index.html"}, ...] -> <out-dir>/<name>.png.
// A chart Mermaid cannot draw fails the script: a picture with a syntax-error box is no picture.

import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ARGS, CHROMIUM } from "../tests/mermaid/chromium.mjs";

const require = createRequire(new URL("../tests/mermaid/package.json", import.meta.url));
const { chromium } = require("playwright-core");
const MERMAID = require.resolve("mermaid/dist/mermaid.min.js");
const WIDTH = 1012; // github.com's README box
const MAX_HEIGHT = 1500; // the top of a long page says enough, and keeps the PNG small

const [pagesFile, outDir] = process.argv.slice(2);
const pages = JSON.parse(readFileSync(pagesFile, "utf8"));
mkdirSync(outDir, { recursive: true });

const browser = await chromium.launchPersistentContext("", {
  executablePath: CHROMIUM,
  args: ARGS,
  headless: true,
  viewport: { width: WIDTH, height: MAX_HEIGHT },
});
try {
  const tab = await browser.newPage();
  for (const page of pages) {
    await tab.goto(pathToFileURL(page.html).href);
    await tab.addScriptTag({ path: MERMAID });
    const errors = await tab.evaluate(async () => {
      const { mermaid } = window;
      mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "default" });
      const failed = [];
      await mermaid.run({
        querySelector: "pre.mermaid",
        postRenderCallback: () => {},
      }).catch((error) => failed.push(String(error.message || error)));
      for (const chart of document.querySelectorAll("pre.mermaid svg")) {
        chart.style.maxWidth = "100%"; // as GitHub shows it: scaled into the column
      }
      if (document.body.textContent.includes("Syntax error")) failed.push("a syntax-error box");
      return failed;
    });
    if (errors.length) {
      throw new Error(`${page.name}: ${errors.join("; ")}`);
    }
    const height = await tab.evaluate(() => document.body.scrollHeight);
    await tab.screenshot({
      path: join(outDir, `${page.name}.png`),
      clip: { x: 0, y: 0, width: WIDTH, height: Math.min(height, MAX_HEIGHT) },
    });
  }
} finally {
  await browser.close();
}
