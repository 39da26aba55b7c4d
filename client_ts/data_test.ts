/**
 * Data against a real cluster: constants (text, JSON, bytes, files, directories), fetching into
 * memory and as streams (big data), content types, directories through the built-in tasks,
 * Load/LoadDir/Store.
 */
import assert from "node:assert/strict";
import { type Client, RainError } from "./mod.ts";
import { TestCluster, withTempDir } from "./test_util.ts";

async function tree(root: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  const names: string[] = [];
  for await (const e of Deno.readDir(`${root}/${prefix}`)) names.push(e.name);
  for (const name of names.sort()) {
    const rel = prefix + name;
    const info = await Deno.lstat(`${root}/${rel}`);
    if (info.isSymlink) {
      out.push(`${rel} -> ${await Deno.readLink(`${root}/${rel}`)}`);
    } else if (info.isDirectory) {
      out.push(`${rel}/`, ...await tree(root, rel + "/"));
    } else out.push(`${rel}: ${await Deno.readTextFile(`${root}/${rel}`)}`);
  }
  return out;
}

async function makeTree(root: string): Promise<void> {
  await Deno.mkdir(`${root}/sub/deeper`, { recursive: true });
  await Deno.mkdir(`${root}/empty`);
  await Deno.writeTextFile(`${root}/a.txt`, "A");
  await Deno.writeTextFile(`${root}/sub/b.txt`, "B");
  await Deno.writeTextFile(
    `${root}/sub/deeper/${"long-name-".repeat(12)}.txt`,
    "L",
  );
  await Deno.symlink("a.txt", `${root}/link`);
}

Deno.test("data against a real cluster", async (t) => {
  await using cluster = await TestCluster.start({ governors: [2] });
  const client: Client = await cluster.client();

  await t.step(
    "text, JSON and bytes constants; text/json/load/bytes of fetched data",
    async () => {
      await using session = await client.newSession();
      const text = session.blob("žluťoučký kůň").keep();
      const json = session.blob({ a: [1, 2, 3] }, { encode: "json" }).keep();
      const jsonText = session.blob("[1, 2]", { contentType: "json" }).keep();
      const bytes = session.blob(new Uint8Array([0, 1, 255]), { label: "raw" })
        .keep();
      const mime = session.blob(new Uint8Array([137, 80]), {
        contentType: "mime/image/png",
      }).keep();
      assert.equal(json.contentType, "json");
      assert.equal(bytes.label, "raw");
      await session.submit();
      const t = await text.fetch();
      assert.equal(t.text(), "žluťoučký kůň");
      assert.equal(t.contentType, "text");
      assert.equal(t.load(), "žluťoučký kůň");
      assert.deepEqual((await json.fetch()).json(), { a: [1, 2, 3] });
      assert.deepEqual((await json.fetch()).load(), { a: [1, 2, 3] });
      assert.deepEqual((await jsonText.fetch()).load(), [1, 2]);
      const b = await bytes.fetch();
      assert.deepEqual([...b.bytes()], [0, 1, 255]);
      assert.equal(b.contentType, undefined);
      assert.throws(() => b.load(), /no content type/);
      const m = await mime.fetch();
      assert.equal(m.contentType, "mime/image/png");
      assert.throws(() => m.load(), /cannot be decoded/);
      assert.throws(
        () => session.blob(1, { encode: "json", contentType: "text" }),
        /contradicts/,
      );
    },
  );

  await t.step(
    "a sleep passes on the content type; concat of text",
    async () => {
      await using session = await client.newSession();
      const slept = session.sleep(session.blob({ x: 1 }, { encode: "json" }), 0)
        .output.keep();
      assert.equal(slept.contentType, "json");
      await session.submit();
      assert.deepEqual((await slept.fetch()).json(), { x: 1 });
    },
  );

  await t.step(
    "big data: a file constant streamed up, fetched as a stream to disk",
    async () => {
      await withTempDir(async (dir) => {
        const size = 24 * 1024 * 1024 + 7;
        const data = new Uint8Array(size);
        for (let i = 0; i < size; i += 4096) data[i] = (i / 4096) % 251;
        await Deno.writeFile(`${dir}/big.bin`, data);
        await using session = await client.newSession();
        const big = await session.blobFromFile(`${dir}/big.bin`, {
          label: "big",
        });
        const joined = session.concat([big, session.blob("!")]).output.keep();
        await session.submit();
        await using stream = await joined.fetchStream();
        assert.equal(stream.size, size + 1);
        await stream.writeTo(`${dir}/out.bin`);
        const back = await Deno.readFile(`${dir}/out.bin`);
        assert.equal(back.length, size + 1);
        assert.deepEqual(back.subarray(0, size), data);
        assert.equal(back[size], "!".charCodeAt(0));
        // The whole object also fits in memory here.
        assert.equal((await joined.fetch()).bytes().length, size + 1);
        // A stream can be read chunk by chunk, or dropped unread.
        let total = 0;
        const chunked = await joined.fetchStream();
        for await (const chunk of chunked.readable) total += chunk.length;
        assert.equal(total, size + 1);
        const dropped = await joined.fetchStream();
        await dropped[Symbol.asyncDispose]();
      });
    },
  );

  await t.step(
    "directories: constant, make/slice, fetched as tar, written out",
    async () => {
      await withTempDir(async (dir) => {
        await makeTree(`${dir}/src`);
        await using session = await client.newSession();
        const d = await session.directory(`${dir}/src`);
        assert.equal(d.dataType, "dir");
        assert.equal(d.label, "const_dir");
        const made = session.makeDirectory([
          ["myfile.txt", session.blob("12345")],
          ["adir", d],
          ["a/deep/path/x", session.blob("67890")],
        ]).output.keep();
        const file = session.sliceDirectory(made, "a/deep/path/x").output
          .keep();
        const sub = session.sliceDirectory(made, "adir/sub/").output.keep();
        d.keep();
        await session.submit();
        assert.equal((await file.fetch()).text(), "67890");
        const back = await d.fetch();
        assert.equal(back.dataType, "dir");
        assert.throws(() => back.text(), /directory/);
        await back.writeTo(`${dir}/back`);
        assert.deepEqual(await tree(`${dir}/back`), await tree(`${dir}/src`));
        const entries = await (await sub.fetch()).entries();
        assert.deepEqual(
          entries.map((e) => `${e.type} ${e.name}`).sort(),
          [
            "directory deeper",
            "file b.txt",
            `file deeper/${"long-name-".repeat(12)}.txt`,
          ],
        );
        await using stream = await made.fetchStream();
        await stream.writeTo(`${dir}/made`);
        assert.deepEqual(
          (await tree(`${dir}/made`)).filter((l) => !l.startsWith("adir/") || l === "adir/"),
          [
            "a/",
            "a/deep/",
            "a/deep/path/",
            "a/deep/path/x: 67890",
            "adir/",
            "myfile.txt: 12345",
          ],
        );
        assert.deepEqual(
          await tree(`${dir}/made/adir`),
          await tree(`${dir}/src`),
        );
        // The extracted copy is the user's: writable.
        await Deno.writeTextFile(`${dir}/made/myfile.txt`, "changed");
      });
    },
  );

  await t.step(
    "load, loadDir and store on the governor's file system",
    async () => {
      await withTempDir(async (dir) => {
        await makeTree(`${dir}/in`);
        await using session = await client.newSession();
        const file = session.load(`${dir}/in/a.txt`, { contentType: "text" })
          .output.keep();
        const tree1 = session.loadDir(`${dir}/in`).output.keep();
        session.store(
          session.concat([file, session.blob("+")]),
          `${dir}/out.txt`,
        );
        session.store(session.sliceDirectory(tree1, "sub/"), `${dir}/outdir`);
        await session.submit();
        await session.waitAll();
        assert.equal(await Deno.readTextFile(`${dir}/out.txt`), "A+");
        assert.deepEqual(
          await tree(`${dir}/outdir`),
          await tree(`${dir}/in/sub`),
        );
        assert.equal((await file.fetch()).text(), "A");
      });
    },
  );

  await t.step("directory() of something else is a RainError", async () => {
    await using session = await client.newSession();
    await assert.rejects(session.directory("/nonexistent-rain-dir"), RainError);
    await assert.rejects(
      session.blobFromFile("/nonexistent-rain-file"),
      RainError,
    );
  });
});
