// The single-member gzip writer: output of separate writers handed the state (as separate invocations
// are) forms one member that strict readers take to the end.
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { GZIP_HEADER, GzipSegments, SEGMENT_BYTES } from "../../src/file-format/gzip-member";
import { gunzip } from "../helpers/cdrs";

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function inflate(bytes: Uint8Array): Promise<string> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}

/** One whole file from one writer. */
function gzipOf(level: 1 | 3 | 9, ...texts: string[]): Uint8Array {
  const writer = new GzipSegments(level);
  for (const text of texts) writer.write(text);
  writer.finish();
  return concat(writer.take());
}

// Lines with multi-byte characters, some longer than a segment, so lines and characters straddle segments.
const pieces = Array.from({ length: 7 }, (_, i) =>
  `"${i}","Kyiv ☎ 😀","${"x".repeat(i * 90_000)}"\n`.repeat(4),
);
const whole = pieces.join("");

describe("GzipSegments", () => {
  it("writes one member across writers handed the state, read to the end by DecompressionStream", async () => {
    const out: Uint8Array[] = [];
    let state: GzipSegments["state"] | undefined;
    for (const piece of pieces) {
      // A fresh writer per piece, as a new invocation resumes from a checkpoint.
      const writer = new GzipSegments(3, state);
      writer.write(piece);
      writer.flush();
      out.push(...writer.take());
      state = writer.state;
    }
    const last = new GzipSegments(3, state);
    last.finish();
    const file = concat([...out, ...last.take()]);
    expect([...file.subarray(0, 10)]).toEqual([...GZIP_HEADER]);
    expect(await inflate(file)).toBe(whole);
    expect(zlib.gunzipSync(file).toString("utf8")).toBe(whole);
    expect((await gunzip(file)).crc).toBe(zlib.crc32(whole));
    expect(state?.length).toBe(new TextEncoder().encode(whole).length);
  });

  it("cuts segments of SEGMENT_BYTES, each ended on a byte boundary by the sync-flush marker", async () => {
    const writer = new GzipSegments(1);
    writer.write("é".repeat(SEGMENT_BYTES));
    const [header, first, ...rest] = writer.take();
    expect(header).toBe(GZIP_HEADER);
    expect(rest).toEqual([]);
    expect([...(first as Uint8Array).subarray(-4)]).toEqual([0x00, 0x00, 0xff, 0xff]);
    const inflated = zlib.inflateRawSync(first as Uint8Array, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    expect(inflated.length).toBe(SEGMENT_BYTES);
    writer.finish();
    const file = concat([header as Uint8Array, first as Uint8Array, ...writer.take()]);
    expect(await inflate(file)).toBe("é".repeat(SEGMENT_BYTES));
    expect(file.length).toBeLessThan(SEGMENT_BYTES / 100);
  });

  it("takes COPY's bytes with writeBytes, copying them at once so the caller may reuse its buffer", async () => {
    const bytes = new TextEncoder().encode(whole);
    const reused = new Uint8Array(70_001);
    const out: Uint8Array[] = [];
    let state: GzipSegments["state"] | undefined;
    // Chunks of odd sizes through one buffer overwritten after each call, as pg's parser does; a new
    // writer (an invocation resumed from the state) every 40 chunks, mixed with write(text).
    for (let at = 0, n = 0; at < bytes.length; n++) {
      const writer = new GzipSegments(3, state);
      for (let i = 0; i < 40 && at < bytes.length; i++) {
        const chunk = bytes.subarray(at, at + 1 + ((at * 7919) % reused.length));
        reused.set(chunk);
        writer.writeBytes(reused.subarray(0, chunk.length));
        reused.fill(0x21);
        at += chunk.length;
      }
      if (n === 0) writer.write("");
      writer.flush();
      out.push(...writer.take());
      state = writer.state;
    }
    const last = new GzipSegments(3, state);
    last.write("tail ☎\n");
    last.finish();
    const file = concat([...out, ...last.take()]);
    expect(await inflate(file)).toBe(`${whole}tail ☎\n`);
    expect(zlib.gunzipSync(file).toString("utf8")).toBe(`${whole}tail ☎\n`);
  });

  it("cuts writeBytes input into segments of SEGMENT_BYTES", () => {
    const writer = new GzipSegments(1);
    writer.writeBytes(new Uint8Array(SEGMENT_BYTES * 2 + 5).fill(0x61));
    const [, first, second, ...rest] = writer.take();
    expect(rest).toEqual([]);
    for (const segment of [first, second]) {
      const inflated = zlib.inflateRawSync(segment as Uint8Array, {
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
      });
      expect(inflated.length).toBe(SEGMENT_BYTES);
    }
    writer.finish();
    expect(writer.state.length).toBe(SEGMENT_BYTES * 2 + 5);
  });

  it("writes a valid member for no data at all", async () => {
    expect(await inflate(gzipOf(3))).toBe("");
  });

  it("compresses smaller at a higher level, to the same content", async () => {
    const fast = gzipOf(1, whole);
    const small = gzipOf(9, whole);
    expect(small.length).toBeLessThan(fast.length);
    expect(await inflate(fast)).toBe(await inflate(small));
  });

  it("is what the strict reader demands: a second member after the first is refused", async () => {
    const twoMembers = concat([gzipOf(3, "a\n"), gzipOf(3, "b\n")]);
    expect(zlib.gunzipSync(twoMembers).toString()).toBe("a\nb\n");
    await expect(inflate(twoMembers)).rejects.toThrow();
    await expect(gunzip(twoMembers)).rejects.toThrow();
  });
});
