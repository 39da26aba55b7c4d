// Checks the task inspector's "Output" section in headless Chromium (Debian's /usr/bin/chromium +
// npm playwright-core) for tests/test_task_output.py:
//
//   node tests/task_output_browser.mjs '{"pages": [URL, ...], "stdout": TEXT, "stderr": TEXT}'
//
// Each page is a task inspector (live dashboard, post-mortem, or a report file). Prints one line
// per check; exits 0 when every check passed, 1 otherwise.
import { launchChromium } from "./browser_launch.mjs";

const args = JSON.parse(process.argv[2]);

const browser = await launchChromium();
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? "ok" : "FAILED"}: ${what}`);
  if (!ok) failures++;
}
try {
  for (const url of args.pages) {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    page.setDefaultTimeout(10_000);
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(url);
    const stdout = page.locator(".task-output-section pre.task-output.stdout");
    const stderr = page.locator(".task-output-section pre.task-output.stderr");
    await stdout.waitFor();
    check((await stdout.textContent()) === args.stdout, `${url}: stdout shown as printed`);
    check((await stderr.textContent()) === args.stderr, `${url}: stderr shown as printed`);
    // A long line wraps inside the page instead of widening it.
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    check(width <= 1000, `${url}: the page stays 1000 px wide (${width})`);
    check(errors.length === 0, `${url}: no page errors ${JSON.stringify(errors)}`);
    await page.close();
  }
} catch (e) {
  check(false, String(e));
} finally {
  await browser.close();
}
process.exit(failures ? 1 : 0);
