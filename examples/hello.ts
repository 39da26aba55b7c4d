/**
 * Hello world of Rain with the TypeScript client: concatenates two strings on a governor.
 *
 * Start Rain first (`./rain start --simple`), then run
 * `node_modules/.bin/deno run -A examples/hello.ts [HOST[:PORT]]` (default localhost:7210).
 */
import { Client } from "../client_ts/mod.ts";

// Connect to the server
await using client = await Client.connect(Deno.args[0] ?? "localhost:7210");

// Create a new session (closed at the end of the block)
await using session = await client.newSession();

// Create a task (and two data objects)
const task = session.concat([session.blob("Hello "), session.blob("world!")]);

// Mark that the output should be kept after submit
task.output.keep();

// Submit all created tasks to the server
await session.submit();

// Wait for completion of the task and fetch its result as text
console.log((await task.output.fetch()).text()); // Hello world!
