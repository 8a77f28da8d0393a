// The single-range `Range: bytes=…` requests a download answers (RFC 9110 §14), resolved against the file size.
//
// Why not R2's own `get(key, { range: request.headers })`: measured on the local R2 (miniflare), it serves
// the whole object for an unsatisfiable range (`bytes=1000-` of 1,000 bytes, `bytes=-0`) where RFC 9110
// asks for 416, and its `object.range` is then {offset: 0, length: size}, the same as for a valid
// `bytes=0-` (206): the answer cannot be told apart. The download reads R2 with the range resolved here,
// `get(key, { range: { offset, length } })`. `onlyIf` with the request's If-None-Match gives the same
// 304 decisions (weak comparison, `*`), but a HEAD has no get to carry it, so both methods use one check.

export type ByteRange = { offset: number; length: number };

/**
 * null: no usable Range (serve the whole file; multiple ranges and other units are ignored, as RFC 9110
 * allows); "unsatisfiable": a syntactically valid range outside the file (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | null {
  if (!header) return null;
  // The range unit is case-insensitive (RFC 9110 §14.1).
  const match = /^bytes=(\d*)-(\d*)$/i.exec(header.trim());
  if (!match) return null;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === "" && last === "") return null;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    const length = Math.min(suffix, size);
    return { offset: size - length, length };
  }
  const start = Number(first);
  // last-pos < first-pos is an invalid range (ignored); checked on the given value, so that an open
  // range starting at or past the end (`bytes=<size>-`) is unsatisfiable, not ignored.
  if (last !== "" && Number(last) < start) return null;
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return { offset: start, length: end - start + 1 };
}
