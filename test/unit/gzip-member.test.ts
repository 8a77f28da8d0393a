// The single-member gzip writer: segments written by separate writers (as separate invocations do) form
// one member that strict readers take to the end.
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { GZIP_HEADER, GzipSegments } from "../../src/exports/gzip-member";
import { gunzip } from "../helpers/cdrs";

const utf8 = new TextEncoder();

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

const pieces = Array.from({ length: 7 }, (_, i) => `"${i}","Kyiv ☎","${"x".repeat(i * 5000)}"\n`.repeat(40));

describe("GzipSegments", () => {
  it("writes one member across writers handed the state, read to the end by DecompressionStream", async () => {
    const out: Uint8Array[] = [GZIP_HEADER];
    let state: GzipSegments["state"] | undefined;
    for (const piece of pieces) {
      // A fresh writer per segment, as a new invocation resumes from a checkpoint.
      const writer = new GzipSegments(3, state);
      out.push(writer.segment(utf8.encode(piece)));
      state = writer.state;
    }
    out.push(new GzipSegments(3, state).finish());
    const file = concat(out);
    expect(await inflate(file)).toBe(pieces.join(""));
    expect(zlib.gunzipSync(file).toString("utf8")).toBe(pieces.join(""));
    const { crc } = await gunzip(file);
    expect(crc).toBe(zlib.crc32(pieces.join("")));
    expect(state?.length).toBe(utf8.encode(pieces.join("")).length);
  });

  it("ends every segment on a byte boundary with the sync-flush marker", () => {
    const bytes = new GzipSegments(1).segment(utf8.encode(pieces[3] as string));
    expect([...bytes.subarray(-4)]).toEqual([0x00, 0x00, 0xff, 0xff]);
  });

  it("writes a valid member for no data at all", async () => {
    const writer = new GzipSegments(6);
    expect(await inflate(concat([GZIP_HEADER, writer.finish()]))).toBe("");
  });

  it("compresses smaller at a higher level, to the same content", async () => {
    const text = utf8.encode(pieces.join(""));
    const sized = [1, 9].map((level) => {
      const writer = new GzipSegments(level as 1 | 9);
      return concat([GZIP_HEADER, writer.segment(text), writer.finish()]);
    });
    const [fast, small] = sized as [Uint8Array, Uint8Array];
    expect(small.length).toBeLessThan(fast.length);
    expect(await inflate(fast)).toBe(await inflate(small));
  });

  it("is what the strict reader demands: a second member after the first is refused", async () => {
    const member = (text: string) => {
      const writer = new GzipSegments(3);
      return concat([GZIP_HEADER, writer.segment(utf8.encode(text)), writer.finish()]);
    };
    await expect(inflate(concat([member("a\n"), member("b\n")]))).rejects.toThrow();
    await expect(gunzip(concat([member("a\n"), member("b\n")]))).rejects.toThrow();
  });
});
