/**
 * Python task arguments as the inspector shows them: a pickle (`spec.config.args[name]`, base64)
 * of plain values (None, booleans, numbers, strings, bytes, lists, tuples, dicts, sets) is read
 * back as Python would print it; a data object passed as an argument (pickled as a persistent id
 * `(input index, load, content type)`) reads `<input N>`. Anything else (instances, functions:
 * opcodes that would import code) is not decoded: `describeArgument` then says how big it is.
 * Pure (no DOM): unit tested in pickle_test.ts.
 */

/** A decoded value, printed as Python's repr would print it. */
type Value =
  | { kind: "repr"; text: string }
  | { kind: "list"; items: Value[] }
  | { kind: "tuple"; items: Value[] }
  | { kind: "set"; items: Value[]; frozen?: boolean }
  | { kind: "dict"; items: [Value, Value][] }
  | { kind: "mark" };

class NotPlain extends Error {}

const repr = (text: string): Value => ({ kind: "repr", text });

function show(v: Value): string {
  switch (v.kind) {
    case "repr":
      return v.text;
    case "list":
      return `[${v.items.map(show).join(", ")}]`;
    case "tuple":
      return v.items.length === 1 ? `(${show(v.items[0]!)},)` : `(${v.items.map(show).join(", ")})`;
    case "set": {
      const set = v.items.length === 0 ? "set()" : `{${v.items.map(show).join(", ")}}`;
      return v.frozen ? `frozenset(${v.items.length ? set : ""})` : set;
    }
    case "dict":
      return `{${v.items.map(([k, x]) => `${show(k)}: ${show(x)}`).join(", ")}}`;
    case "mark":
      throw new NotPlain("mark");
  }
}

function pyString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const c of s) {
    if (c === "\\") out += "\\\\";
    else if (c === quote) out += "\\" + c;
    else if (c === "\n") out += "\\n";
    else if (c === "\t") out += "\\t";
    else if (c === "\r") out += "\\r";
    else if (c < " ") out += `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
    else out += c;
  }
  return out + quote;
}

function pyBytes(b: Uint8Array): string {
  let out = "b'";
  for (const x of b) {
    if (x === 0x5c) out += "\\\\";
    else if (x === 0x27) out += "\\'";
    else if (x === 0x0a) out += "\\n";
    else if (x >= 0x20 && x < 0x7f) out += String.fromCharCode(x);
    else out += `\\x${x.toString(16).padStart(2, "0")}`;
  }
  return out + "'";
}

function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const s = String(x);
  return /[.e]/.test(s) ? s : s + ".0";
}

/** A little-endian two's complement integer (LONG1 / LONG4). */
function longOf(bytes: Uint8Array): string {
  if (bytes.length === 0) return "0";
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) n -= 1n << BigInt(8 * bytes.length);
  return n.toString();
}

/** The value of a pickle of plain values; throws NotPlain for anything else. */
export function unpickle(data: Uint8Array): string {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const text = new TextDecoder();
  const stack: Value[] = [];
  const memo: Value[] = [];
  let at = 0;
  const need = (n: number) => {
    if (at + n > data.length) throw new NotPlain("truncated");
    const from = at;
    at += n;
    return from;
  };
  const u8 = () => data[need(1)]!;
  const u32 = () => view.getUint32(need(4), true);
  const bytes = (n: number) => data.subarray(need(n), at);
  const pop = () => {
    const v = stack.pop();
    if (v === undefined || v.kind === "mark") throw new NotPlain("stack");
    return v;
  };
  const popMark = () => {
    const items: Value[] = [];
    for (;;) {
      const v = stack.pop();
      if (v === undefined) throw new NotPlain("no mark");
      if (v.kind === "mark") return items.reverse();
      items.push(v);
    }
  };
  const top = () => {
    const v = stack.at(-1);
    if (v === undefined) throw new NotPlain("stack");
    return v;
  };
  const u64 = () => {
    const n = view.getBigUint64(need(8), true);
    if (n > BigInt(data.length)) throw new NotPlain("size");
    return Number(n);
  };
  for (;;) {
    const op = String.fromCharCode(u8());
    switch (op) {
      case "\x80": // PROTO
        u8();
        break;
      case "\x95": // FRAME
        need(8);
        break;
      case ".": // STOP
        return show(pop());
      case "N":
        stack.push(repr("None"));
        break;
      case "\x88":
        stack.push(repr("True"));
        break;
      case "\x89":
        stack.push(repr("False"));
        break;
      case "J": // BININT
        stack.push(repr(String(view.getInt32(need(4), true))));
        break;
      case "K": // BININT1
        stack.push(repr(String(u8())));
        break;
      case "M": // BININT2
        stack.push(repr(String(view.getUint16(need(2), true))));
        break;
      case "\x8a": // LONG1
        stack.push(repr(longOf(bytes(u8()))));
        break;
      case "\x8b": // LONG4
        stack.push(repr(longOf(bytes(u32()))));
        break;
      case "G": // BINFLOAT (big-endian)
        stack.push(repr(pyFloat(view.getFloat64(need(8), false))));
        break;
      case "\x8c": // SHORT_BINUNICODE
        stack.push(repr(pyString(text.decode(bytes(u8())))));
        break;
      case "X": // BINUNICODE
        stack.push(repr(pyString(text.decode(bytes(u32())))));
        break;
      case "\x8d": // BINUNICODE8
        stack.push(repr(pyString(text.decode(bytes(u64())))));
        break;
      case "C": // SHORT_BINBYTES
        stack.push(repr(pyBytes(bytes(u8()))));
        break;
      case "B": // BINBYTES
        stack.push(repr(pyBytes(bytes(u32()))));
        break;
      case "\x8e": // BINBYTES8
        stack.push(repr(pyBytes(bytes(u64()))));
        break;
      case "]":
        stack.push({ kind: "list", items: [] });
        break;
      case ")":
        stack.push({ kind: "tuple", items: [] });
        break;
      case "}":
        stack.push({ kind: "dict", items: [] });
        break;
      case "\x8f": // EMPTY_SET
        stack.push({ kind: "set", items: [] });
        break;
      case "(":
        stack.push({ kind: "mark" });
        break;
      case "\x85":
      case "\x86":
      case "\x87": { // TUPLE1..3
        const n = op.charCodeAt(0) - 0x84;
        const items: Value[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop());
        stack.push({ kind: "tuple", items });
        break;
      }
      case "t": // TUPLE
        stack.push({ kind: "tuple", items: popMark() });
        break;
      case "l": // LIST
        stack.push({ kind: "list", items: popMark() });
        break;
      case "\x91": // FROZENSET
        stack.push({ kind: "set", items: popMark(), frozen: true });
        break;
      case "a": { // APPEND
        const item = pop();
        const list = top();
        if (list.kind !== "list") throw new NotPlain("append");
        list.items.push(item);
        break;
      }
      case "e": // APPENDS
      case "\x90": { // ADDITEMS
        const items = popMark();
        const into = top();
        if (into.kind !== "list" && into.kind !== "set") throw new NotPlain("appends");
        into.items.push(...items);
        break;
      }
      case "s": { // SETITEM
        const value = pop(), key = pop();
        const dict = top();
        if (dict.kind !== "dict") throw new NotPlain("setitem");
        dict.items.push([key, value]);
        break;
      }
      case "u": { // SETITEMS
        const items = popMark();
        const dict = top();
        if (dict.kind !== "dict" || items.length % 2) throw new NotPlain("setitems");
        for (let i = 0; i < items.length; i += 2) dict.items.push([items[i]!, items[i + 1]!]);
        break;
      }
      case "\x94": // MEMOIZE
        memo.push(top());
        break;
      case "q": // BINPUT
        memo[u8()] = top();
        break;
      case "r": // LONG_BINPUT
        memo[u32()] = top();
        break;
      case "h": // BINGET
      case "j": { // LONG_BINGET
        const v = memo[op === "h" ? u8() : u32()];
        if (v === undefined) throw new NotPlain("memo");
        stack.push(v);
        break;
      }
      case "Q": { // BINPERSID: a data object passed as an argument
        const id = pop();
        const index = id.kind === "tuple" ? id.items[0] : undefined;
        stack.push(repr(index?.kind === "repr" ? `<input ${index.text}>` : "<input>"));
        break;
      }
      default:
        throw new NotPlain(`opcode 0x${op.charCodeAt(0).toString(16)}`);
    }
  }
}

/** A base64 pickled argument: its value when plain, else "pickled argument, N bytes". */
export function describeArgument(base64: unknown): { text: string; decoded: boolean } {
  if (typeof base64 !== "string") return { text: JSON.stringify(base64), decoded: false };
  let data: Uint8Array;
  try {
    data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  } catch {
    return { text: `not base64 (${base64.length} characters)`, decoded: false };
  }
  try {
    return { text: unpickle(data), decoded: true };
  } catch {
    const n = data.length;
    return {
      text: `pickled argument, ${n.toLocaleString("en-US")} byte${n === 1 ? "" : "s"}`,
      decoded: false,
    };
  }
}
