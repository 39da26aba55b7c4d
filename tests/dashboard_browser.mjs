// Drives the Rain dashboard in headless Chromium (Debian's /usr/bin/chromium + npm playwright-core)
// for tests/test_dashboard.py. One scenario per run:
//
//   node tests/dashboard_browser.mjs '<json>'
//
// json: {"scenario": "views" | "live" | "postmortem" | "report", "url": ..., ...}; see each
// scenario below for its fields. "screenshots": DIR saves a PNG of every view there.
// Prints one line per check; exits 0 when every check passed, 1 otherwise.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { launchChromium } from "./browser_launch.mjs";

const args = JSON.parse(process.argv[2]);
const TIMEOUT = 10_000;

const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.setDefaultTimeout(TIMEOUT);
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(e.message));

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? "ok" : "FAILED"}: ${what}`);
  if (!ok) failures++;
}
async function shot(name) {
  if (args.screenshots) {
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(args.screenshots, `${name}.png`), fullPage: true });
  }
}
const text = (selector) => page.locator(selector).first().innerText();
async function waitText(selector, pattern, what) {
  try {
    await page.waitForFunction(
      ([sel, src, flags]) =>
        [...document.querySelectorAll(sel)].some((e) => new RegExp(src, flags).test(e.textContent)),
      [selector, pattern.source, pattern.flags],
      { timeout: TIMEOUT },
    );
    check(true, what);
  } catch {
    const found = await page.locator(selector).allInnerTexts().catch(() => []);
    check(false, `${what} (looked for /${pattern.source}/ in ${selector}: ${JSON.stringify(found).slice(0, 300)})`);
  }
}
async function count(selector) {
  return await page.locator(selector).count();
}
async function tab(name) {
  await page.click(`a.tab[data-tab="${name}"]`);
  await page.waitForFunction((n) => document.body.dataset.view === n, name);
}

/** Coloured (task) pixels of the stream canvas, and where one is (CSS px in the canvas). */
async function canvasBars() {
  return await page.evaluate(() => {
    const canvas = document.querySelector("canvas.stream-canvas");
    if (!canvas || canvas.width === 0) return { coloured: 0 };
    const g = canvas.getContext("2d");
    const { data, width, height } = g.getImageData(0, 0, canvas.width, canvas.height);
    const dpr = canvas.width / canvas.clientWidth;
    let coloured = 0, at = null;
    for (let y = 0; y < height; y += 2) {
      for (let x = Math.floor(160 * dpr); x < width; x += 2) {
        const i = (y * width + x) * 4;
        const r = data[i], gg = data[i + 1], b = data[i + 2];
        if (Math.max(r, gg, b) - Math.min(r, gg, b) > 60) {
          coloured++;
          if (!at) at = { x: x / dpr + 2, y: y / dpr + 2 };
        }
      }
    }
    return { coloured, at };
  });
}

/** `least`: coloured pixels expected (bars are as wide as their tasks' share of the session). */
async function waitForBars(what, least = 50) {
  let bars = { coloured: 0 };
  for (let i = 0; i < 40 && bars.coloured < least; i++) {
    await page.waitForTimeout(150);
    bars = await canvasBars();
  }
  check(bars.coloured >= least, `${what}: task bars are drawn (${bars.coloured} coloured pixels)`);
  return bars;
}

// ---------------------------------------------------------------------------------------------
async function views() {
  const { url, etl, failing, total, names, failed_task } = args;
  await page.goto(url);
  await page.waitForSelector("table.sessions-table tbody tr");
  await waitText("table.sessions-table", /etl pipeline/, "sessions: the ETL session is listed");
  await waitText("table.sessions-table", /failing pipeline[\s\S]*failed|failed[\s\S]*failing pipeline/, "sessions: the failing session is listed as failed");
  check(/live/.test(await text(".mode")), "header says live");
  await shot("sessions");

  await page.click(`tr[data-session="${etl}"]`);
  await waitText(".progress-text", new RegExp(`${total} of ${total} tasks finished`), "summary: progress of the ETL session");
  await waitText(".stat", /^1submits$/i, "summary: 1 submit");
  check((await count("svg.chart path")) > 0, "summary: unfinished-tasks chart drawn");
  await shot("summary");

  await tab("stream");
  const bars = await waitForBars("stream");
  await waitText(".stream-view .toolbar", new RegExp(`${total} tasks`), "stream: every task is in the stream");
  await waitText(".stream-view .toolbar", /[1-9]\d* transfers/, "stream: transfers between governors are shown");
  await waitText(".legend", new RegExp(names[0]), "stream: legend names the task groups");
  await shot("stream");
  const windowBefore = await text(".stream-view .toolbar");
  const box = await page.locator("canvas.stream-canvas").boundingBox();
  await page.mouse.move(box.x + box.width * 0.6, box.y + 40);
  await page.mouse.wheel(0, -600);
  await page.waitForTimeout(200);
  const windowAfter = await text(".stream-view .toolbar");
  const span = (s) => /window ([\d.]+ \S+)/.exec(s)?.[1];
  check(span(windowBefore) !== span(windowAfter), `stream: wheel zooms (${span(windowBefore)} → ${span(windowAfter)})`);
  await page.click("button[title^='show everything']");
  const bars2 = await canvasBars();
  await page.mouse.move(box.x + bars2.at.x, box.y + bars2.at.y);
  await page.locator(".tooltip:not([hidden])").waitFor();
  check(await page.locator(".tooltip:not([hidden])").count() === 1, "stream: hovering a bar shows its task");
  await checkTooltipInside("stream");
  await page.mouse.wheel(0, -300);
  await page.locator(".tooltip").waitFor({ state: "hidden" });
  check(true, "stream: the tooltip is gone after a zoom");
  await page.click("button[title^='show everything']");
  await page.mouse.move(box.x + bars2.at.x, box.y + bars2.at.y);
  await page.locator(".tooltip:not([hidden])").waitFor();
  await page.mouse.click(box.x + bars2.at.x, box.y + bars2.at.y);
  await page.waitForFunction(() => /#\/s\/\d+\/task\/\d+/.test(location.hash));
  await waitText(".task-view h2", /Task \d+\/\d+: /, "stream: clicking a bar opens the inspector");

  await page.goto(`${url}#/s/${etl}/groups`);
  for (const name of names) {
    await page.waitForSelector(`tr[data-group="${name}"]`);
  }
  check((await count("table.groups-table tbody tr")) === names.length, `groups: ${names.length} groups`);
  await page.click(`tr[data-group="${names[names.length - 2]}"]`);
  await waitText(".group-detail h3", new RegExp(`Tasks of ${names[names.length - 2]}`), "groups: a group lists its tasks");
  await shot("groups");

  await tab("graph");
  await page.waitForSelector("svg.graph");
  check((await count("svg.graph .task-node")) === total, `graph: ${total} task nodes`);
  await shot("graph-tasks");
  await page.click("button.toggle:has-text('Groups')");
  await page.waitForSelector("svg.graph .group-node");
  check((await count("svg.graph .group-node")) === names.length, `graph: ${names.length} group nodes`);
  check((await count("svg.graph .edge")) >= names.length - 1, "graph: edges between the groups");
  await shot("graph");

  await page.goto(`${url}#/s/${failing}`);
  await waitText(".session-error", /nonexistent/, "summary of the failing session shows its error");
  await page.click(".session-error a");
  await waitText(".task-error", /nonexistent/, "inspector: the failed task's error");
  await waitText(".spec-json", /load-input/, "inspector: the task's spec");
  await waitText(".facts", /127\.0\.0\.1:\d+/, "inspector: where it ran");
  check(new RegExp(`/task/${failed_task}$`).test(await page.evaluate(() => location.hash)), "inspector: the failed task is the one the session names");
  await shot("inspector");

  await page.click("a.nav:has-text('Governors')");
  await page.waitForSelector(".governor-card svg.chart");
  check((await count(".governor-card")) === 2, "governors: two governors");
  check((await count(".governor-card svg.chart")) === 6, "governors: cpu, memory and network charts");
  await waitText(".governor-card", /CPU %/, "governors: cpu usage");
  await shot("governors");
}

async function live() {
  // The test holds the first wave of tasks (`running` of them run) until the page shows them,
  // which the page tells by creating the file `handshake`; then they and the rest finish.
  const { url, session, running, total, handshake } = args;
  await page.goto(`${url}#/s/${session}/stream`);
  await page.evaluate(() => (window.__noReload = true));
  await waitText(".stream-view .toolbar", new RegExp(`(^|[^\\d,])${running} tasks, ${running} running`),
    "live: the stream shows the first wave running");
  const lanes = await page.locator("canvas.stream-canvas").getAttribute("data-lanes");
  check(Number(lanes) === running, `live: one lane per cpu (${lanes})`);
  writeFileSync(handshake, "seen\n");
  // ... and follows the session to its end, without a reload.
  await waitText(".stream-view .toolbar", new RegExp(`(^|[^\\d,])${total} tasks`), "live: the stream grew to every task");
  await tab("summary");
  await waitText(".progress-text", new RegExp(`^${total} of ${total} tasks finished`), `live: the summary reaches ${total} of ${total}`);
  check(await page.evaluate(() => window.__noReload === true), "live: the page was not reloaded");
  await waitText(".session-bar", /closed|finished/, "live: the session's status follows");
  await tab("stream");
  await waitText(".stream-view .toolbar", new RegExp(`${total} tasks`), "live: the stream holds every task");
  if (args.screenshots) await page.screenshot({ path: join(args.screenshots, "live.png") });
}

async function postmortem() {
  const { url, etl, total } = args;
  await page.goto(url);
  await waitText(".mode", /post-mortem/, "post-mortem: the header says so");
  await waitText("table.sessions-table", /etl pipeline/, "post-mortem: sessions listed");
  check(!/\bopen\b/.test(await text("table.sessions-table")), "post-mortem: no session is open");
  await shot("postmortem");
  await page.goto(`${url}#/s/${etl}`);
  await waitText(".progress-text", new RegExp(`${total} of ${total}`), "post-mortem: summary");
  await tab("stream");
  await waitForBars("post-mortem stream");
  await tab("groups");
  await page.waitForSelector("table.groups-table tbody tr");
  await tab("graph");
  await page.waitForSelector("svg.graph .node");
  await page.click("a.nav:has-text('Governors')");
  await page.waitForSelector(".governor-card svg.chart");
  await waitText(".governor-card", /stopped/, "post-mortem: governors are stopped");
  const cards = await page.locator(".governor-card .card-head").allInnerTexts();
  check(cards.length === 2 && cards.every((c) => /stopped/.test(c) && !/\blost\b/.test(c)),
    `post-mortem: a clean rain stop shows every governor stopped, none lost (${JSON.stringify(cards)})`);
}

async function report() {
  const { file, session, total, names } = args;
  const requests = [];
  await page.route("**/*", (route) => {
    const u = route.request().url();
    if (u.startsWith("file:") || u.startsWith("data:")) return route.continue();
    requests.push(u);
    return route.abort();
  });
  await page.goto(`file://${file}`);
  await waitText(".mode", /report/, "report: the header says report");
  await waitText(".progress-text", new RegExp(`${total} of ${total}`), "report: summary");
  await shot("report");
  await tab("stream");
  await waitForBars("report stream");
  await tab("groups");
  for (const name of names) await page.waitForSelector(`tr[data-group="${name}"]`);
  check(true, "report: every group");
  await tab("graph");
  await page.waitForSelector("svg.graph .node");
  check(true, "report: the graph");
  await tab("task");
  await page.fill("input.task-id-input", String(args.task));
  await page.click("form.toolbar button");
  await waitText(".task-view h2", new RegExp(`Task ${session}/${args.task}`), "report: task details");
  await page.click("a.nav:has-text('Governors')");
  await page.waitForSelector(".governor-card svg.chart");
  check(true, "report: governors with charts");
  check(requests.length === 0, `report: nothing fetched from the network (${requests.join(", ")})`);
}

/** The tooltip is whole inside the window (not clipped by the short canvas it describes). */
async function checkTooltipInside(what) {
  const box = await page.evaluate(() => {
    const t = document.querySelector(".tooltip:not([hidden])");
    const r = t.getBoundingClientRect();
    const canvas = document.querySelector("canvas.stream-canvas").getBoundingClientRect();
    return {
      left: r.left, top: r.top, right: r.right, bottom: r.bottom, height: r.height,
      position: getComputedStyle(t).position, vw: document.documentElement.clientWidth,
      vh: document.documentElement.clientHeight, canvasBottom: canvas.bottom,
    };
  });
  check(box.height > 20 && box.left >= 0 && box.top >= 0 && box.right <= box.vw && box.bottom <= box.vh,
    `${what}: the tooltip is inside the window (${JSON.stringify(box)})`);
  // An absolutely placed tooltip is clipped by the canvas' box (overflow hidden); a fixed one not.
  check(box.position === "fixed" || box.bottom <= box.canvasBottom,
    `${what}: the tooltip is not clipped by the canvas (${box.position})`);
}

/** The page is no wider than the window (no horizontal scroll of the whole page). */
async function checkNoWidening(what) {
  const w = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    window: document.documentElement.clientWidth,
    header: document.querySelector("header.top")?.getBoundingClientRect().width ?? 0,
  }));
  check(w.page <= w.window && w.header >= w.window - 1,
    `${what}: the page stays within the window and its header (${JSON.stringify(w)})`);
}

async function lanes() {
  const { url, session, cpus } = args;
  await page.goto(`${url}#/s/${session}/stream`);
  await waitForBars("tiny tasks");
  const drawn = await page.locator("canvas.stream-canvas").getAttribute("data-lanes");
  check(Number(drawn) === cpus, `lanes: ${drawn} cpu rows drawn for ${cpus} cpus`);
  await waitText(".stream-view .toolbar", /600 tasks/, "lanes: every task is in the stream");
}

async function ended() {
  const { url, session, cancelled } = args;
  await page.goto(`${url}#/s/${session}`);
  await waitText(".stat", new RegExp(`^${cancelled}cancelled$`, "i"), "ended: the summary counts the cancelled tasks");
  await waitText(".stat", /^0running$/i, "ended: nothing running in the summary");
  check(!(await page.locator(".stat").allInnerTexts()).some((t) => /waiting/i.test(t)), "ended: no task is waiting");
  await tab("groups");
  await page.waitForSelector("table.groups-table tbody tr");
  const heads = await page.locator("table.groups-table th").allInnerTexts();
  check(heads.includes("Cancelled") && !heads.includes("Running"), `ended: groups count cancelled tasks (${heads.join("|")})`);
  const col = heads.indexOf("Cancelled");
  const cells = await page.locator(`table.groups-table tbody td:nth-child(${col + 1})`).allInnerTexts();
  const sum = cells.reduce((n, c) => n + Number(c.replace(/,/g, "")), 0);
  check(sum === cancelled, `ended: the groups' cancelled tasks add up to the summary's (${cells.join(", ")})`);
  await page.click('tr[data-group="use-input"]');
  await waitText(".group-detail", /cancelled|no task/i, "ended: a never-run group");
  await tab("stream");
  // Its few short tasks ran at the start of a session that ended much later: thin bars.
  await waitForBars("ended stream", 1);
  const bar = await text(".stream-view .toolbar");
  check(!/running/.test(bar), `ended: the stream shows nothing running (${bar})`);
  await tab("graph");
  await page.waitForSelector("svg.graph .node");
  await page.click("button.toggle:has-text('Tasks')");
  await page.waitForSelector("svg.graph .task-node");
  check((await count("svg.graph .task-node.state-cancelled")) === cancelled, "ended: the graph marks the cancelled tasks");
  check((await count("svg.graph .task-node.state-waiting, svg.graph .task-node.state-running")) === 0, "ended: no task waits or runs in the graph");
}

async function inspector() {
  const { url, session, task, etl, error_start } = args;
  await page.goto(`${url}#/s/${session}/task/${task}`);
  await waitText(".task-error", new RegExp(error_start), "inspector: the long error is shown");
  await checkNoWidening("inspector with a 3,000-character error line");
  const err = await page.evaluate(() => {
    const e = document.querySelector(".task-error");
    return { scroll: e.scrollWidth, client: e.clientWidth };
  });
  check(err.scroll <= err.client + 1, `inspector: the error wraps inside its box (${JSON.stringify(err)})`);
  const argsText = await text(".args-table");
  check(/count\s+3/.test(argsText), `inspector: an int argument decoded (${argsText})`);
  check(/label\s+'sample-a'/.test(argsText), "inspector: a string argument decoded");
  check(/data\s+<input 1>/.test(argsText), "inspector: a data object argument names its input");
  check(/options\s+\{'depth': \[1, 2\.5\], 'fast': True\}/.test(argsText), "inspector: a dict argument decoded");
  const spec = await text(".spec-json");
  check(!/gAV/.test(spec), "inspector: no base64 pickle in the spec");
  await waitText("h3", /^Inputs \(1\)$/, "inspector: the pickled function is not an input");
  await waitText(".facts", /function\s*analyse \(pickled/, "inspector: the function is named");
  await shot("inspector");
  // One id format everywhere: session/task.
  await page.goto(`${url}#/s/${etl}/groups/generate`);
  await page.waitForSelector(".group-detail tbody tr a");
  const first = await page.locator(".group-detail tbody tr a").first().innerText();
  await page.locator(".group-detail tbody tr a").first().click();
  await waitText(".task-view h2", new RegExp(`Task ${first}:`), "inspector: the task of the group list");
  const consumers = await page.locator("h3:has-text('Outputs') + table a").allInnerTexts();
  check(consumers.length > 0 && consumers.every((c) => new RegExp(`^${etl}/\\d+$`).test(c)),
    `inspector: consumers read session/task (${consumers.join(", ")})`);
}

async function graph() {
  const { url, wide, tasks, etl, etl_tasks } = args;
  await page.goto(`${url}#/s/${wide}/graph`);
  await page.waitForSelector("svg.graph .node");
  check((await count("svg.graph .group-node")) === 2 && (await count("svg.graph .task-node")) === 0,
    `graph: a ${tasks}-task graph with a layer of ${tasks - 1} opens grouped`);
  await page.click("button.toggle:has-text('Tasks')");
  await page.waitForSelector("svg.graph .task-node");
  check((await count("svg.graph .task-node")) === tasks, "graph: its tasks on demand");
  await page.goto(`${url}#/s/${etl}/graph`);
  await page.waitForSelector("svg.graph .node");
  check((await count("svg.graph .task-node")) === etl_tasks, `graph: the ${etl_tasks}-task ETL graph opens task by task`);
  const width = await page.evaluate(() => {
    const n = document.querySelector("svg.graph .task-node rect");
    return n.getBoundingClientRect().width;
  });
  check(width >= 80, `graph: its boxes are readable (${width.toFixed(0)} px wide)`);
}

async function narrow() {
  const { url, etl, python, python_task } = args;
  await page.setViewportSize({ width: 800, height: 800 });
  await page.goto(url);
  await page.waitForSelector("table.sessions-table tbody tr");
  await checkNoWidening("sessions at 800 px");
  await page.goto(`${url}#/s/${etl}`);
  await page.waitForSelector(".progress-text");
  await checkNoWidening("summary at 800 px");
  await page.goto(`${url}#/s/${etl}/groups`);
  await page.waitForSelector("table.groups-table tbody tr");
  await checkNoWidening("task groups at 800 px");
  await page.goto(`${url}#/s/${python}/task/${python_task}`);
  await page.waitForSelector(".task-error");
  await checkNoWidening("inspector at 800 px");
  await page.click("a.nav:has-text('Governors')");
  await page.waitForSelector(".governor-card");
  await checkNoWidening("governors at 800 px");
}

// A session that lost a governor (issue 12): governor state, re-run counts, each task's attempts.
async function recovery() {
  const { url, session, victim, drained, rerun_task, retried_task } = args;
  await page.goto(`${url}#/governors`);
  await waitText(`.governor-card[data-governor="${victim}"] .badge`, /^lost$/, "recovery: the killed governor is lost");
  await waitText(`.governor-card[data-governor="${victim}"] .recovery-note`, /lost .*connection (closed|error)/, "recovery: why and when it was lost");
  await waitText(`.governor-card[data-governor="${drained}"] .badge`, /^stopped$/, "recovery: the drained governor stopped in order");
  await waitText(`.governor-card[data-governor="${drained}"] .recovery-note`, /draining since .* · stopped .*the governor stopped/, "recovery: it was drained first");
  await shot("recovery-governors");
  await page.goto(url);
  await waitText(`tr[data-session="${session}"] td.reruns`, /^[1-9]/, "recovery: the session list counts re-runs");
  await page.goto(`${url}#/s/${session}`);
  await waitText(".stat.rerun", /^2re-runs$/i, "recovery: the summary counts the re-runs");
  await waitText(".stat.rerun", /^1retries$/i, "recovery: and the retry");
  await shot("recovery-summary");
  await page.goto(`${url}#/s/${session}/task/${rerun_task}`);
  await waitText(".attempts-table tr[data-attempt='1']", new RegExp(`${victim}[\\s\\S]*finished, but its output`), "recovery: inspector lists the run whose output was lost");
  await waitText(".attempts-table tr[data-attempt='2']", /finished the task/, "recovery: and the run that finished it");
  await page.goto(`${url}#/s/${session}/task/${retried_task}`);
  await waitText(".attempts-table tr[data-attempt='1']", /retry 1 of 1/, "recovery: inspector lists the failed attempt that was retried");
  check((await count(".attempts-table tbody tr")) === 3, "recovery: the retried task ran three times (failed, finished, re-run)");
  await shot("recovery-task");
}

const scenarios = { views, live, postmortem, report, lanes, ended, inspector, graph, narrow, recovery };
try {
  await scenarios[args.scenario]();
} catch (e) {
  check(false, `${args.scenario}: ${e.message.split("\n")[0]}`);
} finally {
  check(pageErrors.length === 0, `no script errors in the page ${JSON.stringify(pageErrors)}`);
  await browser.close();
}
process.exit(failures ? 1 : 0);
