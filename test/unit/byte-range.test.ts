// parseRange: the single `Range: bytes=…` forms of RFC 9110 §14, resolved against the file size.
import { describe, expect, it } from "vitest";
import { parseRange } from "../../src/cdr-exports/byte-range";

const SIZE = 1000;

describe("parseRange", () => {
  it("answers null without a header", () => {
    expect(parseRange(undefined, SIZE)).toBeNull();
    expect(parseRange("", SIZE)).toBeNull();
  });

  it("resolves a closed range first-last", () => {
    expect(parseRange("bytes=0-99", SIZE)).toEqual({ offset: 0, length: 100 });
    expect(parseRange("bytes=10-10", SIZE)).toEqual({ offset: 10, length: 1 });
    expect(parseRange("bytes=0-999", SIZE)).toEqual({ offset: 0, length: SIZE });
  });

  it("clamps a last position past the end to the file", () => {
    expect(parseRange("bytes=990-5000", SIZE)).toEqual({ offset: 990, length: 10 });
    expect(parseRange("bytes=0-99999999999999999999999", SIZE)).toEqual({ offset: 0, length: SIZE });
  });

  it("resolves an open range first- to the end", () => {
    expect(parseRange("bytes=5-", SIZE)).toEqual({ offset: 5, length: 995 });
    expect(parseRange("bytes=999-", SIZE)).toEqual({ offset: 999, length: 1 });
  });

  it("resolves a suffix range -n to the last n bytes, the whole file when n exceeds it", () => {
    expect(parseRange("bytes=-10", SIZE)).toEqual({ offset: 990, length: 10 });
    expect(parseRange("bytes=-1000", SIZE)).toEqual({ offset: 0, length: SIZE });
    expect(parseRange("bytes=-5000", SIZE)).toEqual({ offset: 0, length: SIZE });
  });

  it("answers unsatisfiable for a first position at or past the size, open or closed", () => {
    expect(parseRange(`bytes=${SIZE}-`, SIZE)).toBe("unsatisfiable");
    expect(parseRange(`bytes=${SIZE}-${SIZE + 10}`, SIZE)).toBe("unsatisfiable");
    expect(parseRange("bytes=5000-", SIZE)).toBe("unsatisfiable");
    expect(parseRange("bytes=99999999999999999999-", SIZE)).toBe("unsatisfiable");
  });

  it("answers unsatisfiable for a zero suffix and for any range of an empty file", () => {
    expect(parseRange("bytes=-0", SIZE)).toBe("unsatisfiable");
    expect(parseRange("bytes=-10", 0)).toBe("unsatisfiable");
    expect(parseRange("bytes=0-", 0)).toBe("unsatisfiable");
  });

  it("ignores a last position before the first (invalid, not unsatisfiable)", () => {
    expect(parseRange("bytes=10-5", SIZE)).toBeNull();
    expect(parseRange("bytes=5000-10", SIZE)).toBeNull();
  });

  it("ignores multiple ranges, other units and malformed values", () => {
    for (const header of [
      "bytes=0-1,5-6",
      "items=0-5",
      "bytes=-",
      "bytes=a-b",
      "bytes=1.5-2",
      "bytes=+1-2",
      "bytes 0-5",
      "bytes=0-5 junk",
      "bytes==0-5",
    ]) {
      expect(parseRange(header, SIZE), header).toBeNull();
    }
  });

  it("takes the unit case-insensitively and tolerates surrounding whitespace", () => {
    expect(parseRange("Bytes=0-9", SIZE)).toEqual({ offset: 0, length: 10 });
    expect(parseRange("BYTES=-1", SIZE)).toEqual({ offset: 999, length: 1 });
    expect(parseRange("  bytes=0-9 ", SIZE)).toEqual({ offset: 0, length: 10 });
  });
});
