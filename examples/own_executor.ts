/**
 * Tasks of your own executor with the TypeScript client: the example executor written with the
 * TypeScript executor library (executor/example.ts) registered as "example1".
 *
 * Start Rain with the executor registered (from the repository root; the governor starts the
 * command given in its config, with absolute paths):
 *
 *     printf '[executors.example1]\ncommand = ["%s", "run", "-A", "%s"]\n' \
 *         "$PWD/node_modules/.bin/deno" "$PWD/executor/example.ts" > /tmp/rain-executors.toml
 *     ./rain start --simple --governor-config /tmp/rain-executors.toml
 *
 * then run `node_modules/.bin/deno run -A examples/own_executor.ts [HOST[:PORT]]`.
 */
import {
  Client,
  type DataLike,
  Output,
  type Session,
  type Task,
  TaskError,
} from "../client_ts/mod.ts";

/** A typed helper per task type: `example1/hello` takes one blob and returns one. */
function hello(session: Session, input: DataLike): Task {
  return session.task({ taskType: "example1/hello", inputs: [input], outputs: 1 });
}

await using client = await Client.connect(Deno.args[0] ?? "localhost:7210");
{
  await using session = await client.newSession({ name: "own executor" });
  const greeting = hello(session, session.blob("world")).keepOutputs();
  // Tasks chain: the output of one hello is the input of the next.
  const twice = hello(session, hello(session, session.blob("again"))).keepOutputs();
  const stats = session.task({
    taskType: "example1/stats",
    inputs: [session.blob([2, 4, 9], { encode: "json" })],
    outputs: [new Output("stats", { contentType: "json" })],
  }).keepOutputs();
  await session.submit();
  console.log((await greeting.output.fetch()).text()); // Hello world!
  console.log((await twice.output.fetch()).text()); // Hello Hello again!!
  console.log(JSON.stringify((await stats.output.fetch()).json()));
  await stats.update();
  console.log("info.user:", JSON.stringify(stats.info?.user), "debug:", stats.info?.debug);
}
{
  // A failing task fails its session with the executor's message.
  await using session = await client.newSession();
  session.task({ taskType: "example1/fail", inputs: [session.blob("no luck today")] });
  await session.submit();
  try {
    await session.waitAll();
  } catch (e) {
    if (!(e instanceof TaskError)) throw e;
    // The first paragraph: which task failed where, and the executor's message.
    const [summary = ""] = e.message.split("\n\n", 1);
    console.log("failed as expected:", summary.replaceAll("\n", " "));
  }
}
