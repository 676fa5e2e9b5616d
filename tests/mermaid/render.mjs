// Renders Mermaid blocks with the pinned `mermaid` package in headless Chromium, as GitHub does.
//
//   node render.mjs <pages.json> <out-dir>
//
// pages.json: [{"name": "...", "blocks": ["xychart-beta ...", ...]}, ...]. For each page it
// writes <out-dir>/<name>.png (every chart of the page, one under the other, in GitHub's light
// theme) and <name>.dark.png (dark theme), and prints one JSON report on stdout:
//   [{"name", "charts", "errors": [...], "collisions": [...]}]
// An error is a block Mermaid cannot parse or render; a collision is two axis labels of one chart
// that overlap on screen. The exit code is 0 when the report could be made, whatever it says:
// the Python test decides.

import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { ARGS, CHROMIUM } from "./chromium.mjs";

const require = createRequire(import.meta.url);
const MERMAID = require.resolve("mermaid/dist/mermaid.min.js");
// GitHub's Markdown column is about 830 px wide on a desktop; charts scale down to fit it.
const PAGE_WIDTH = 880;

const [pagesFile, outDir] = process.argv.slice(2);
const pages = JSON.parse(readFileSync(pagesFile, "utf8"));
mkdirSync(outDir, { recursive: true });

const browser = await chromium.launchPersistentContext("", {
  executablePath: CHROMIUM,
  args: ARGS,
  headless: true,
  viewport: { width: PAGE_WIDTH, height: 800 },
});
const tab = await browser.newPage();
const report = [];
try {
  await tab.setContent(
    `<!doctype html><html><body style="margin:16px;width:${PAGE_WIDTH - 32}px">` +
      `<main id="charts"></main></body></html>`,
  );
  await tab.addScriptTag({ path: MERMAID }); // once: it is 3 MB of script
  for (const page of pages) {
    const result = { name: page.name, charts: page.blocks.length, errors: [], collisions: [] };
    for (const theme of ["default", "dark"]) {
      const found = await renderPage(page, theme, outDir);
      result.errors.push(...found.errors.map((text) => `${theme} theme: ${text}`));
      result.collisions.push(...found.collisions.map((text) => `${theme} theme: ${text}`));
    }
    report.push(result);
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(report) + "\n");

async function renderPage(page, theme, dir) {
  const found = await tab.evaluate(
    async ({ blocks, theme }) => {
      const { mermaid } = window;
      mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme });
      document.body.style.background = theme === "dark" ? "#0d1117" : "#ffffff";
      const errors = [];
      const collisions = [];
      const main = document.getElementById("charts");
      main.replaceChildren();
      for (const [index, code] of blocks.entries()) {
        const holder = document.createElement("div");
        holder.style.margin = "0 0 24px 0";
        main.appendChild(holder);
        try {
          await mermaid.parse(code);
          const { svg } = await mermaid.render(`chart${index}`, code);
          holder.innerHTML = svg;
          const shown = holder.querySelector("svg");
          shown.style.maxWidth = "100%"; // as GitHub shows it: scaled into the column
          if (holder.textContent.includes("Syntax error")) {
            errors.push(`block ${index + 1}: Mermaid drew its syntax-error picture`);
          }
          collisions.push(...findCollisions(shown, index));
        } catch (error) {
          holder.textContent = `block ${index + 1}: ${error}`;
          errors.push(`block ${index + 1}: ${String(error.message || error).slice(0, 500)}`);
        }
      }
      return { errors, collisions };

      function findCollisions(svg, index) {
        const out = [];
        for (const axis of ["bottom-axis", "left-axis"]) {
          const labels = [...svg.querySelectorAll(`g.${axis} g.label text`)]
            .filter((text) => text.textContent.replace(/[\s\u2800]/g, "") !== "")
            .map((text) => ({ text: text.textContent, box: text.getBoundingClientRect() }));
          for (let i = 0; i < labels.length; i++) {
            for (let j = i + 1; j < labels.length; j++) {
              const a = labels[i].box;
              const b = labels[j].box;
              const apart =
                a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
              if (!apart) {
                out.push(`block ${index + 1}: ${axis} labels "${labels[i].text}" and "${labels[j].text}" overlap`);
              }
            }
          }
        }
        return out;
      }
    },
    { blocks: page.blocks, theme },
  );
  const suffix = theme === "dark" ? ".dark" : "";
  await tab.screenshot({ path: join(dir, `${page.name}${suffix}.png`), fullPage: true });
  return found;
}
