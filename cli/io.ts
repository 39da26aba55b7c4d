/** Where the command line writes: injectable so that tests can capture it. */

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = new TextEncoder().encode(text);
  try {
    let off = 0;
    while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
  } catch {
    // closed pipe (`rain --help | head -1`): nothing left to tell
  }
}

export const stdIo: Io = {
  out: (text) => writeAll(Deno.stdout, text),
  err: (text) => writeAll(Deno.stderr, text),
};

/** An `Io` that keeps everything written (for tests). */
export function captureIo(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
  };
  return io;
}
