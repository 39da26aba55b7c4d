/// <reference lib="dom" />
/**
 * The Rain dashboard: a hash-routed single page over the monitoring JSON endpoints (live server,
 * `rain dashboard` post-mortem) or over the data inlined in a one-file report.
 *
 * Routes: `#/` sessions · `#/governors` · `#/s/<sid>` summary · `#/s/<sid>/stream` ·
 * `#/s/<sid>/groups[/<name>]` · `#/s/<sid>/graph` · `#/s/<sid>/task[/<id>]`.
 */
import { type Api, HttpApi, ReportApi, type ReportData } from "./api.ts";
import { badge, fmtTime, h, replace, seedColors } from "./dom.ts";
import type { Meta } from "./types.ts";
import { type Ctx, isActive, type View } from "./view.ts";
import { sessionsView } from "./views/sessions.ts";
import { summaryView } from "./views/summary.ts";
import { streamView } from "./views/stream.ts";
import { groupsView } from "./views/groups.ts";
import { graphView } from "./views/graph.ts";
import { taskView } from "./views/task.ts";
import { governorsView } from "./views/governors.ts";

const POLL_MS = 1000;

function reportData(): ReportData | null {
  const el = document.getElementById("rain-report-data");
  return el?.textContent ? JSON.parse(el.textContent) as ReportData : null;
}

async function start(): Promise<void> {
  const report = reportData();
  const api: Api = report ? new ReportApi(report) : new HttpApi("");
  const meta: Meta = await api.meta();
  const app = document.getElementById("app")!;
  const live = meta.mode === "live";
  let paused = false;

  const ctx: Ctx = {
    api,
    meta,
    navigate(hash: string) {
      if (location.hash === hash) route();
      else location.hash = hash;
    },
  };

  const modeLabel = meta.mode === "live"
    ? h("span", { class: "mode mode-live", title: "updates every second" }, "● live")
    : meta.mode === "postmortem"
    ? h(
      "span",
      { class: "mode mode-postmortem", title: meta.source ?? "" },
      "post-mortem (read-only)",
    )
    : h("span", { class: "mode mode-report" }, `report of ${fmtTime(meta.generated)}`);
  const pauseButton = h(
    "button",
    { class: "pause", title: "stop or resume live updates" },
    "Pause",
  );
  const updated = h("span", { class: "updated muted" });
  pauseButton.addEventListener("click", () => {
    paused = !paused;
    pauseButton.textContent = paused ? "Resume" : "Pause";
    if (!paused) schedule(0);
  });
  const navSessions = h("a", { href: "#/", class: "nav" }, "Sessions");
  const navGovernors = h("a", { href: "#/governors", class: "nav" }, "Governors");
  const header = h(
    "header",
    { class: "top" },
    h("a", { href: "#/", class: "brand" }, "Rain"),
    navSessions,
    navGovernors,
    h("span", { class: "spacer" }),
    updated,
    live ? pauseButton : null,
    modeLabel,
    h("span", { class: "version muted" }, `v${meta.version}`),
  );
  const sessionBar = h("div", { class: "session-bar" });
  const main = h("main", null);
  replace(app, header, sessionBar, main);

  let current: { view: View; token: number } | null = null;
  let token = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sessionHead: { sid: number; title: HTMLElement } | null = null;

  function schedule(delay: number): void {
    clearTimeout(timer);
    const mine = current?.token;
    timer = setTimeout(async () => {
      if (!current || current.token !== mine) return;
      let more = false;
      try {
        more = await current.view.update();
        if (sessionHead) more = (await refreshSessionHead()) || more;
      } catch (e) {
        console.error(e);
        more = true;
      }
      updated.textContent = live ? `updated ${new Date().toLocaleTimeString()}` : "";
      if (current?.token !== mine) return;
      if (live && more && !paused) schedule(POLL_MS);
    }, delay);
  }

  async function refreshSessionHead(): Promise<boolean> {
    if (!sessionHead) return false;
    try {
      const s = await api.summary(sessionHead.sid);
      replace(
        sessionHead.title,
        `Session ${s.session}: ${s.name} `,
        badge(s.status),
        h(
          "span",
          { class: "muted" },
          ` ${s.tasks_finished.toLocaleString("en-US")}/${
            s.tasks_total.toLocaleString("en-US")
          } tasks`,
        ),
      );
      return live && isActive(s.status);
    } catch {
      return live;
    }
  }

  function route(): void {
    const hash = location.hash.replace(/^#/, "") || (report ? `/s/${report.summary.session}` : "/");
    const parts = hash.split("/").filter(Boolean);
    current?.view.destroy?.();
    clearTimeout(timer);
    let view: View;
    let tab = "";
    sessionHead = null;
    navSessions.classList.toggle("active", parts.length === 0 || parts[0] === "s");
    navGovernors.classList.toggle("active", parts[0] === "governors");
    if (parts[0] === "s" && parts[1] && /^\d+$/.test(parts[1])) {
      const sid = Number(parts[1]);
      tab = parts[2] ?? "summary";
      switch (tab) {
        case "stream":
          view = streamView(ctx, sid);
          break;
        case "groups":
          view = groupsView(
            ctx,
            sid,
            parts[3] ? decodeURIComponent(parts.slice(3).join("/")) : null,
          );
          break;
        case "graph":
          view = graphView(ctx, sid);
          break;
        case "task":
          view = taskView(ctx, sid, parts[3] && /^\d+$/.test(parts[3]) ? Number(parts[3]) : null);
          break;
        default:
          tab = "summary";
          view = summaryView(ctx, sid);
      }
      const title = h("span", { class: "session-title" }, `Session ${sid}`);
      sessionHead = { sid, title };
      const tabLink = (name: string, label: string) =>
        h("a", {
          href: `#/s/${sid}${name === "summary" ? "" : "/" + name}`,
          class: `tab${tab === name ? " active" : ""}`,
          "data-tab": name,
        }, label);
      replace(
        sessionBar,
        title,
        h(
          "nav",
          { class: "tabs" },
          tabLink("summary", "Summary"),
          tabLink("stream", "Task stream"),
          tabLink("groups", "Task groups"),
          tabLink("graph", "Task graph"),
          tabLink("task", "Inspector"),
        ),
        meta.mode !== "report"
          ? h("a", {
            class: "report-link",
            href: `dashboard/report?session=${sid}`,
            download: `rain-session-${sid}.html`,
          }, "⤓ HTML report")
          : null,
      );
      sessionBar.hidden = false;
    } else if (parts[0] === "governors") {
      view = governorsView(ctx);
      sessionBar.hidden = true;
    } else {
      view = sessionsView(ctx);
      sessionBar.hidden = true;
    }
    current = { view, token: ++token };
    document.body.dataset.view = parts[0] === "s" ? tab : parts[0] ?? "sessions";
    replace(main, view.el);
    if (sessionHead) {
      // Task names get their colours in the order of the session's groups, in every view.
      const mine = current.token;
      api.groups(sessionHead.sid).then((groups) => seedColors(groups.map((g) => g.name)))
        .catch(() => {}).finally(() => current?.token === mine && schedule(0));
    } else {
      schedule(0);
    }
  }

  globalThis.addEventListener("hashchange", route);
  route();
}

start().catch((e) => {
  document.getElementById("app")!.textContent = `The dashboard failed to start: ${e}`;
});
