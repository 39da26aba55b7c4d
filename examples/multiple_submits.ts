/**
 * Multiple submits with the TypeScript client: a graph built and submitted in steps, later steps
 * using kept objects of earlier ones; then an iterative pipeline whose next step depends on
 * results fetched from the previous one.
 *
 * Start Rain first (`./rain start --simple`), then run
 * `node_modules/.bin/deno run -A examples/multiple_submits.ts [HOST[:PORT]]`.
 */
import { Client, type DataObject } from "../client_ts/mod.ts";

await using client = await Client.connect(Deno.args[0] ?? "localhost:7210");

{
  // Rain 0.4's user guide example: objects of earlier submits may be used when kept.
  await using session = await client.newSession();
  const a = session.blob("Hello world");
  const t1 = session.sleep(a, 0.1);
  t1.output.keep();
  await session.submit(); // First submit

  session.sleep(t1.output, 0.1);
  await session.submit(); // Second submit
  await session.waitAll(); // Wait until everything is finished

  const t3 = session.sleep(t1.output, 0.1).keepOutputs();
  await session.submit(); // Third submit
  await session.waitAll(); // Wait again
  console.log("third submit:", (await t3.output.fetch()).text());
}

{
  // Growing a result step by step: what to submit next is decided from what was fetched.
  await using session = await client.newSession();
  let text: DataObject = session.blob("rain").keep();
  await session.submit();
  let rounds = 0;
  while ((await text.fetch()).size < 20) {
    const longer = session.concat([text, session.blob(" and rain")]).output.keep();
    await session.submit();
    await text.unkeep(); // the previous round is not needed any more
    text = longer;
    rounds++;
  }
  console.log(`after ${rounds} more submits: ${(await text.fetch()).text()}`);
}
