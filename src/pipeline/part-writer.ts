// Fixed-size R2 multipart writer: one part buffer in memory; every part but the last is exactly `partSize`.
import type { UploadedPart } from "../db/schema";

export const MIN_PART_SIZE = 5 * 1024 * 1024;

export type PartWriterState = { uploadId: string | null; parts: UploadedPart[] };

export type PartHooks = {
  /**
   * Runs before each part is sent; the export renews its lease here, so a writer that lost its lease
   * (stalled past it, or cancelled) stops before it can overwrite a part of an upload someone else owns.
   */
  beforePart?: () => Promise<void>;
  /** Runs after each part is stored (tests use it to stop a slice mid-way). */
  afterPart?: (partNumber: number) => Promise<void>;
};

export type ObjectOptions = { httpMetadata: R2HTTPMetadata; customMetadata?: Record<string, string> };

export class PartWriter {
  private readonly buffer: Uint8Array;
  private filled = 0;
  private upload: R2MultipartUpload | null = null;
  readonly parts: UploadedPart[];
  uploadId: string | null;

  constructor(
    private readonly bucket: R2Bucket,
    private readonly key: string,
    private readonly partSize: number,
    private readonly options: ObjectOptions,
    state: PartWriterState,
    private readonly hooks: PartHooks = {},
  ) {
    if (partSize < MIN_PART_SIZE)
      throw new Error(`part size ${partSize} is below R2's minimum ${MIN_PART_SIZE}`);
    this.buffer = new Uint8Array(partSize);
    this.uploadId = state.uploadId;
    this.parts = [...state.parts];
    if (state.uploadId) this.upload = bucket.resumeMultipartUpload(key, state.uploadId);
  }

  /** Bytes of the full parts stored so far plus what waits in the buffer. */
  get size(): number {
    return this.parts.length * this.partSize + this.filled;
  }

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(this.partSize - this.filled, chunk.length - offset);
      this.buffer.set(chunk.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.partSize) await this.flushPart();
    }
  }

  private async flushPart(): Promise<void> {
    await this.hooks.beforePart?.();
    if (!this.upload) {
      this.upload = await this.bucket.createMultipartUpload(this.key, this.options);
      this.uploadId = this.upload.uploadId;
    }
    const partNumber = this.parts.length + 1;
    // R2 has read the buffer once uploadPart resolves, so the same buffer is reused for the next part.
    const part = await this.upload.uploadPart(partNumber, this.buffer.subarray(0, this.filled));
    this.parts.push({ partNumber, etag: part.etag });
    this.filled = 0;
    await this.hooks.afterPart?.(partNumber);
  }

  /** The bytes that do not fill a part yet: saved beside the upload at a checkpoint. */
  tail(): Uint8Array {
    return this.buffer.subarray(0, this.filled);
  }

  /** Stores the object: a single put when it never filled a part, else the last part and complete. */
  async finish(): Promise<number> {
    const size = this.size;
    if (!this.upload) {
      await this.bucket.put(this.key, this.tail(), this.options);
      return size;
    }
    if (this.filled > 0) {
      await this.hooks.beforePart?.();
      const partNumber = this.parts.length + 1;
      const part = await this.upload.uploadPart(partNumber, this.tail());
      this.parts.push({ partNumber, etag: part.etag });
      this.filled = 0;
    }
    await this.upload.complete(this.parts);
    return size;
  }
}

/** Aborts an open multipart upload; one already gone is not an error. */
export async function abortUpload(bucket: R2Bucket, key: string, uploadId: string | null): Promise<void> {
  if (!uploadId) return;
  try {
    await bucket.resumeMultipartUpload(key, uploadId).abort();
  } catch {
    // The upload was completed or aborted before; nothing is left to clean.
  }
}
