import assert from "node:assert/strict";
import { describeArgument } from "./pickle.ts";

// Pickles made by CPython 3.11 (`base64.b64encode(pickle.dumps(v, protocol=5))`) and repr(v).
const CASES: [string, string][] = [
  ["gAVOLg==", "None"],
  ["gAWILg==", "True"],
  ["gAVLAy4=", "3"],
  ["gAWVBgAAAAAAAABK+f///y4=", "-7"],
  ["gAWVBAAAAAAAAABNLAEu", "300"],
  ["gAWVBgAAAAAAAABKcBEBAC4=", "70000"],
  ["gAWVDAAAAAAAAACKCQAAAAAAAAAAQC4=", "1180591620717411303424"],
  ["gAWVDAAAAAAAAACKCQAAAAAAAAAAwC4=", "-1180591620717411303424"],
  ["gAWVCgAAAAAAAABHP/gAAAAAAAAu", "1.5"],
  ["gAWVCgAAAAAAAABHQAAAAAAAAAAu", "2.0"],
  ["gAWVDgAAAAAAAACMCmjDqWxsbyAneCeULg==", `"héllo 'x'"`],
  ["gAWVBwAAAAAAAABDA2EAYpQu", "b'a\\x00b'"],
  ["gAWVEQAAAAAAAABdlChLAV2UKEsCjAF4lGVlLg==", "[1, [2, 'x']]"],
  ["gAWVBQAAAAAAAABLAYWULg==", "(1,)"],
  ["gAWVDAAAAAAAAAAoSwFLAksDSwR0lC4=", "(1, 2, 3, 4)"],
  ["gAWVEwAAAAAAAAB9lCiMAWGUSwGMAWKUXZROYXUu", "{'a': 1, 'b': [None]}"],
  ["gAWPlC4=", "set()"],
  ["gAWVBwAAAAAAAACPlChLBZAu", "{5}"],
  ["gAWVBgAAAAAAAAAoSwGRlC4=", "frozenset({1})"],
  ["gAWVCwAAAAAAAABdlCiMAW2UaAFlLg==", "['m', 'm']"],
];

Deno.test("plain pickled arguments read as Python prints them", () => {
  for (const [pickle, expected] of CASES) {
    assert.deepEqual(describeArgument(pickle), { text: expected, decoded: true }, pickle);
  }
});

Deno.test("a data object passed inside an argument reads as its input", () => {
  // {"data": <persistent id (2, True, None)>, "n": 1}
  const text = describeArgument("gAWVGQAAAAAAAAB9lCiMBGRhdGGUSwKIToeUUYwBbpRLAXUu").text;
  assert.equal(text, "{'data': <input 2>, 'n': 1}");
});

Deno.test("what would import code is not decoded: its size is said", () => {
  // collections.OrderedDict(a=1): STACK_GLOBAL + REDUCE, 52 bytes.
  const pickled = "gAWVKQAAAAAAAACMC2NvbGxlY3Rpb25zlIwLT3JkZXJlZERpY3SUk5QpUpSMAWGUSwFzLg==";
  assert.deepEqual(describeArgument(pickled), {
    text: "pickled argument, 52 bytes",
    decoded: false,
  });
  assert.equal(describeArgument("gAVLAy").decoded, false); // truncated
  assert.equal(describeArgument("not base64!").decoded, false);
});
