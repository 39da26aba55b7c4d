import { deepStrictEqual, throws } from "node:assert/strict";
import { parse } from "smol-toml";
import { DEFAULT_PY_COMMAND, executorConfigs, rainPythonPath } from "./config.ts";

Deno.test("executor config: the default py executor, and [executors.NAME] tables", () => {
  deepStrictEqual([...executorConfigs().values()], [{
    name: "py",
    command: DEFAULT_PY_COMMAND,
    env: {},
    startTimeout: 30,
  }]);
  const configs = executorConfigs(parse(`
[executors.example1]
command = "/opt/ex --flag 'two words'"
[executors.py]
command = ["/usr/bin/python3", "-m", "rain.executor"]
env = { PYTHONPATH = "/x" }
start_timeout = 5
`));
  deepStrictEqual(configs.get("example1")!.command, ["/opt/ex", "--flag", "two words"]);
  deepStrictEqual(configs.get("py"), {
    name: "py",
    command: ["/usr/bin/python3", "-m", "rain.executor"],
    env: { PYTHONPATH: "/x" },
    startTimeout: 5,
  });
});

Deno.test("executor config: mistakes are named", () => {
  const bad = (toml: string, message: RegExp) =>
    throws(() => executorConfigs(parse(toml), "g.toml"), message);
  bad(`[executors.x]\ncommmand = "a"`, /\[executors\.x\]: unknown key 'commmand'/);
  bad(`[executors.x]\ncommand = 3`, /'command' must be a string or a list/);
  bad(`[executors.x]\ncommand = ""`, /'command' is empty/);
  bad(`[executors.buildin]\ncommand = "a"`, /'buildin' is reserved/);
  bad(`[executors."a b"]\ncommand = "a"`, /executor name/);
  bad(`[executors.x]\ncommand = "a"\nenv = { A = 1 }`, /env\.A must be a string/);
  bad(`[executors.x]\ncommand = "a"\nstart_timeout = 0`, /start_timeout/);
  bad(`executors = 1`, /'executors' must be a table/);
});

Deno.test("executor config: the rain Python package is found next to the program", () => {
  const path = rainPythonPath();
  deepStrictEqual(path !== undefined && path.endsWith("client_py"), true);
});
