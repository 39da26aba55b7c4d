// Headless Chromium (Debian's /usr/bin/chromium or $RAIN_TEST_CHROMIUM, driven by npm
// playwright-core) for the browser tests, with the flags that keep it off the network.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { chromium } = createRequire(join(root, "package.json"))("playwright-core");

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.RAIN_TEST_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
      "--disable-dev-shm-usage",
    ],
  });
}
