import { deepStrictEqual as assertEquals, ok, throws } from "node:assert/strict";
import { join } from "node:path";
import { Journal, JOURNAL_DIR, JournalError } from "./journal.ts";
import { JournalSink } from "./records.ts";

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "rain-journal-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("records survive a reopen; a torn last line is dropped; reset empties the log", () =>
  withDir(async (dir) => {
    const journal = Journal.open(dir);
    journal.append({ k: "client", id: 3 });
    journal.append({ k: "session", id: 7, client: 3, spec: { name: "s" } });
    const body = await journal.saveBody(new Blob([new Uint8Array([1, 2, 3])]).stream());
    journal.append({ k: "submit", s: 7, body: body.name, digest: body.digest });
    await journal.durable();
    journal.close(false);
    // A crash in the middle of a write leaves half a line.
    await Deno.writeTextFile(join(dir, JOURNAL_DIR, "log.jsonl"), '{"k":"unke', { append: true });
    const again = Journal.open(dir);
    assertEquals(again.records.map((r) => r.k), ["client", "session", "submit"]);
    assertEquals(again.nextSessionId, 8);
    assertEquals(again.nextClientId, 4);
    assertEquals([...await Deno.readFile(again.bodyPath(body.name))], [1, 2, 3]);
    // The next body gets a new name.
    const second = await again.saveBody(new Blob([new Uint8Array([4])]).stream());
    ok(second.name !== body.name);
    again.reset();
    again.close(false);
    const empty = Journal.open(dir);
    assertEquals(empty.records, []);
    empty.close(false);
  }));

Deno.test("--fresh discards the records but numbering goes on", () =>
  withDir((dir) => {
    const journal = Journal.open(dir);
    journal.append({ k: "session", id: 41, client: null, spec: {} });
    journal.close(false);
    const fresh = Journal.open(dir, { fresh: true });
    assertEquals(fresh.records, []);
    assertEquals(fresh.nextSessionId, 42);
    fresh.close(false);
    const after = Journal.open(dir);
    assertEquals(after.nextSessionId, 42);
    after.close(false);
  }));

Deno.test("a journal of another format is refused, naming --fresh", () =>
  withDir((dir) => {
    Deno.mkdirSync(join(dir, JOURNAL_DIR));
    Deno.writeTextFileSync(join(dir, JOURNAL_DIR, "FORMAT"), "rain-journal 0\n");
    throws(() => Journal.open(dir), (e: Error) => {
      ok(e instanceof JournalError);
      ok(e.message.includes("'rain-journal 0'") && e.message.includes("--fresh"), e.message);
      return true;
    });
  }));

Deno.test("task finishes are recorded compactly when they can be, and read back alike", () =>
  withDir((dir) => {
    const journal = Journal.open(dir);
    const sink = new JournalSink(journal);
    const simple = {
      governor: "127.0.0.1:4000",
      start_time: "2026-12-01T10:00:00.000Z",
      duration: 0.5,
    };
    sink.push({
      type: "TaskFinished",
      time: 0,
      session: 2,
      task: 10,
      info: simple,
      outputs: [{ id: [2, 11], size: 3 }, { id: [2, 12], size: 0 }],
    });
    const typed = [{ id: [2, 21] as [number, number], size: 4, info: { content_type: "text" } }];
    sink.push({
      type: "TaskFinished",
      time: 0,
      session: 2,
      task: 20,
      info: simple,
      outputs: typed,
    });
    journal.close(false);
    const text = Deno.readTextFileSync(join(dir, JOURNAL_DIR, "log.jsonl"));
    ok(text.startsWith('["D",2,10,'), text);
    const again = Journal.open(dir);
    assertEquals(again.records, [
      {
        k: "done",
        s: 2,
        t: 10,
        info: simple,
        out: [{ id: [2, 11], size: 3 }, { id: [2, 12], size: 0 }],
      },
      { k: "done", s: 2, t: 20, info: simple, out: typed },
    ]);
    again.close(false);
  }));

Deno.test("a body being received when the server died is removed at open, and its name reused", () =>
  withDir(async (dir) => {
    const journal = Journal.open(dir);
    journal.append({ k: "session", id: 1, client: 1, spec: {} });
    const kept = await journal.saveBody(new Blob([new Uint8Array([1])]).stream());
    journal.append({ k: "submit", s: 1, body: kept.name, digest: kept.digest });
    await journal.durable();
    // Saved, but the crash came before its record: never applied, never answered.
    const cut = await journal.saveBody(new Blob([new Uint8Array([2, 2])]).stream());
    journal.close(false);
    const again = Journal.open(dir);
    await Deno.stat(again.bodyPath(kept.name));
    await Deno.stat(again.bodyPath(cut.name)).then(
      () => ok(false, "the unjournaled body is still there"),
      (e) => ok(e instanceof Deno.errors.NotFound),
    );
    const next = await again.saveBody(new Blob([new Uint8Array([3])]).stream());
    assertEquals(next.name, cut.name);
    assertEquals([...await Deno.readFile(again.bodyPath(next.name))], [3]);
    again.close(false);
  }));
