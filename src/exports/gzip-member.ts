// One gzip member written in pieces that may come from different invocations (RFC 1952 over RFC 1951).
import zlib from "node:zlib";

/**
 * What a later invocation needs to continue the member: the CRC-32 and the length (mod 2^32, as the
 * trailer's ISIZE) of every uncompressed byte so far. The compressed bytes themselves need no state:
 * each segment ends on a byte boundary and starts with a fresh window.
 */
export type GzipState = { crc: number; length: number };

export const GZIP_LEVELS = [1, 2, 3, 4, 5, 6, 7, 8, 9] as const;
export type GzipLevel = (typeof GZIP_LEVELS)[number];

/** ID1 ID2, CM = deflate, no flags, MTIME 0 (unknown: the bytes do not depend on when they were made), XFL 0, OS 255. */
export const GZIP_HEADER: Uint8Array = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

/** An empty final block with fixed Huffman codes (BFINAL = 1, BTYPE = 01, end-of-block code). */
const FINAL_BLOCK = [0x03, 0x00];

export class GzipSegments {
  private crc: number;
  private length: number;

  constructor(
    private readonly level: GzipLevel,
    state: GzipState = { crc: 0, length: 0 },
  ) {
    this.crc = state.crc;
    this.length = state.length;
  }

  get state(): GzipState {
    return { crc: this.crc, length: this.length };
  }

  /**
   * Deflates one segment into non-final blocks ended by a sync flush (the empty stored block 00 00 FF FF),
   * so the next segment, from this invocation or a later one, can follow it byte for byte.
   */
  segment(bytes: Uint8Array): Uint8Array {
    this.crc = zlib.crc32(bytes, this.crc);
    this.length = (this.length + bytes.length) >>> 0;
    return zlib.deflateRawSync(bytes, { level: this.level, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  }

  /** The final block and the trailer: CRC-32 and ISIZE, little-endian. */
  finish(): Uint8Array {
    const end = new Uint8Array(10);
    end.set(FINAL_BLOCK);
    const view = new DataView(end.buffer);
    view.setUint32(2, this.crc >>> 0, true);
    view.setUint32(6, this.length, true);
    return end;
  }
}
