// Debian's Chromium as the chart test and the README's pictures start it: where it is, and its
// flags in a closed network (no sandbox as root, no background connections).
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
