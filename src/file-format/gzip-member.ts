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

/**
 * UTF-8 bytes deflated as one segment. Each segment starts with a fresh 32 KiB window (what lets a later
 * invocation continue the member), so larger segments compress a little better; at 1 MiB that costs
 * < 0.5 % in size. Text is encoded line by line into one reused buffer of this size, so an export makes
 * no large strings (they would sit in V8's large-object space until a full GC).
 */
export const SEGMENT_BYTES = 1 << 20;

/** ID1 ID2, CM = deflate, no flags, MTIME 0 (unknown: the bytes do not depend on when they were made), XFL 0, OS 255. */
export const GZIP_HEADER: Uint8Array = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

/** An empty final block with fixed Huffman codes (BFINAL = 1, BTYPE = 01, end-of-block code). */
const FINAL_BLOCK = [0x03, 0x00];

const utf8 = new TextEncoder();

export class GzipSegments {
  private crc: number;
  private length: number;
  private readonly pending = new Uint8Array(SEGMENT_BYTES);
  private filled = 0;
  private out: Uint8Array[] = [];

  /** Without a state, a new member: its header is the first output. */
  constructor(
    private readonly level: GzipLevel,
    state?: GzipState,
  ) {
    this.crc = state?.crc ?? 0;
    this.length = state?.length ?? 0;
    if (!state) this.out.push(GZIP_HEADER);
  }

  /** The state after everything written so far, once flushed. */
  get state(): GzipState {
    return { crc: this.crc, length: this.length };
  }

  /** Whether compressed output waits to be taken. */
  get ready(): boolean {
    return this.out.length > 0;
  }

  /** Adds text as UTF-8; each full buffer becomes a compressed segment. */
  write(text: string): void {
    let rest = text;
    for (;;) {
      const { read, written } = utf8.encodeInto(rest, this.pending.subarray(this.filled));
      this.filled += written;
      if (read === rest.length) return;
      rest = rest.slice(read);
      this.flush();
    }
  }

  /**
   * Adds bytes that are UTF-8 already (COPY's output), copied into the segment buffer at once: the caller
   * may reuse its buffer as soon as this returns (pg's parser does).
   */
  writeBytes(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(SEGMENT_BYTES - this.filled, bytes.length - at);
      this.pending.set(bytes.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === SEGMENT_BYTES) this.flush();
    }
  }

  /**
   * Deflates what is pending into non-final blocks ended by a sync flush (the empty stored block
   * 00 00 FF FF), so the next segment, from this invocation or a later one, can follow it byte for byte.
   */
  flush(): void {
    if (this.filled === 0) return;
    const bytes = this.pending.subarray(0, this.filled);
    this.crc = zlib.crc32(bytes, this.crc);
    this.length = (this.length + bytes.length) >>> 0;
    this.out.push(
      zlib.deflateRawSync(bytes, { level: this.level, finishFlush: zlib.constants.Z_SYNC_FLUSH }),
    );
    this.filled = 0;
  }

  /** Ends the member: what is pending, the final block and the trailer (CRC-32 and ISIZE, little-endian). */
  finish(): void {
    this.flush();
    const end = new Uint8Array(10);
    end.set(FINAL_BLOCK);
    const view = new DataView(end.buffer);
    view.setUint32(2, this.crc >>> 0, true);
    view.setUint32(6, this.length, true);
    this.out.push(end);
  }

  /** The compressed output so far, in order; each piece is handed out once. */
  take(): Uint8Array[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}
