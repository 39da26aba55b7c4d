/**
 * Shell-like splitting of a command string (`--runprefix "valgrind --tool=callgrind"`).
 * `client_ts/shlex.ts` is the same file (the JSR package imports nothing outside its folder);
 * `client_ts/copies_test.ts` fails when the two differ.
 */

/**
 * Splits `text` into words like a POSIX shell would, without expansions: whitespace separates,
 * `'…'` is literal, `"…"` honours `\"`, `\\`, `\$` and `` \` ``, and a backslash outside quotes
 * escapes the next character. Throws an `Error` on an unterminated quote or trailing backslash.
 */
export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error("unterminated ' quote");
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated " quote');
        const d = text[i];
        if (d === '"') {
          i++;
          break;
        }
        const next = text[i + 1];
        if (d === "\\" && next !== undefined && '"\\$`'.includes(next)) {
          word += next;
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
    } else if (c === "\\") {
      if (i + 1 >= text.length) throw new Error("trailing backslash");
      if (text[i + 1] !== "\n") word += text[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
