// Test helpers for CDR ingestion and the export pipeline: NDJSON posts, gzip decoding, export polling,
// and env wrappers that capture queue sends or inject storage failures.

import { env } from "cloudflare:workers";
import zlib from "node:zlib";
import { ADMIN, ADMIN_TOKEN, call, customer, json } from "./api";

export const NDJSON = "application/x-ndjson";

export type CdrInput = Record<string, unknown>;

export function ndjson(records: readonly CdrInput[]): string {
  return `${records.map((r) => JSON.stringify(r)).join("\n")}\n`;
}

/** POST /api/rest/admin/cdrs with a raw body. */
export async function postCdrs(
  body: string,
  contentType: string | null = NDJSON,
  authorization: string | null = `Bearer ${ADMIN_TOKEN}`,
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (contentType) headers["Content-Type"] = contentType;
  if (authorization) headers.Authorization = authorization;
  return call(`${ADMIN}/cdrs`, { method: "POST", headers, body });
}

export type IngestMeta = { received: number; inserted: number; "already-present": number };

/** Ingests records in requests of at most `chunk` lines; throws on anything but 200. */
export async function ingestCdrs(records: readonly CdrInput[], chunk = 5000): Promise<IngestMeta> {
  const total: IngestMeta = { received: 0, inserted: 0, "already-present": 0 };
  for (let i = 0; i < records.length; i += chunk) {
    const res = await postCdrs(ndjson(records.slice(i, i + chunk)));
    if (res.status !== 200) throw new Error(`ingest: ${res.status} ${await res.text()}`);
    const { meta } = await json<{ meta: IngestMeta }>(res);
    total.received += meta.received;
    total.inserted += meta.inserted;
    total["already-present"] += meta["already-present"];
  }
  return total;
}

/**
 * Decompresses an export file the strict way browsers and Ruby's `Zlib::GzipReader` do: one gzip member,
 * read by `DecompressionStream` (workerd's rejects any byte after the first member's trailer), and checks
 * the trailer's CRC-32 and length against the data. `members` is 1 for every file this accepts.
 */
export async function gunzip(bytes: Uint8Array): Promise<{ data: Uint8Array; members: number; crc: number }> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const data = new Uint8Array(await new Response(stream).arrayBuffer());
  const trailer = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 8);
  const crc = trailer.getUint32(0, true);
  if (crc !== zlib.crc32(data)) throw new Error("gzip trailer CRC-32 does not match the data");
  if (trailer.getUint32(4, true) !== data.length % 2 ** 32) throw new Error("gzip trailer length is wrong");
  return { data, members: 1, crc };
}

export async function gunzipText(bytes: Uint8Array): Promise<string> {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode((await gunzip(bytes)).data);
}

export async function objectBytes(key: string): Promise<Uint8Array> {
  const object = await env.EXPORTS_BUCKET.get(key);
  if (!object) throw new Error(`no object ${key}`);
  return new Uint8Array(await object.arrayBuffer());
}

type ExportAttributes = { status: string; "rows-count": number | null } & Record<string, unknown>;

/** Polls the show route until the export leaves Pending (bounded). */
export async function waitForExport(auth: string, id: string, timeoutMs = 20_000): Promise<ExportAttributes> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await customer(auth, "GET", `/cdr-exports/${id}`);
    if (res.status !== 200) throw new Error(`show ${id}: ${res.status} ${await res.text()}`);
    const { data } = await json<{ data: { attributes: ExportAttributes } }>(res);
    if (data.attributes.status !== "Pending") return data.attributes;
    if (Date.now() > until) throw new Error(`export ${id} still Pending after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** An env whose queue only records what is sent, so tests drive every export slice themselves. */
export function capturingEnv(overrides: Partial<Env> = {}): { env: Env; sent: unknown[] } {
  const sent: unknown[] = [];
  const queue = {
    send: async (body: unknown) => {
      sent.push(body);
    },
    sendBatch: async (messages: Iterable<{ body: unknown }>) => {
      for (const m of messages) sent.push(m.body);
    },
  } as unknown as Queue;
  return { env: { ...env, EXPORTS_QUEUE: queue, ...overrides } as Env, sent };
}

/** An R2 bucket whose multipart `uploadPart` fails (from the `failFrom`-th call on); everything else is real. */
export function bucketFailingUploadPart(failFrom = 1): { bucket: R2Bucket; calls: () => number } {
  const real = env.EXPORTS_BUCKET;
  let calls = 0;
  const wrap = (upload: R2MultipartUpload): R2MultipartUpload =>
    ({
      get key() {
        return upload.key;
      },
      get uploadId() {
        return upload.uploadId;
      },
      uploadPart: async (...args: Parameters<R2MultipartUpload["uploadPart"]>) => {
        calls++;
        if (calls >= failFrom) throw new Error("injected R2 failure: uploadPart");
        return upload.uploadPart(...args);
      },
      abort: () => upload.abort(),
      complete: (parts: R2UploadedPart[]) => upload.complete(parts),
    }) as R2MultipartUpload;
  const bucket = new Proxy(real, {
    get(target, prop) {
      if (prop === "createMultipartUpload") {
        return async (...args: Parameters<R2Bucket["createMultipartUpload"]>) =>
          wrap(await target.createMultipartUpload(...args));
      }
      if (prop === "resumeMultipartUpload") {
        return (...args: Parameters<R2Bucket["resumeMultipartUpload"]>) =>
          wrap(target.resumeMultipartUpload(...args));
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { bucket, calls: () => calls };
}

/** A D1 binding whose statements matching `pattern` fail when run; every other statement is real. */
export function dbFailingOn(pattern: RegExp): D1Database {
  const real = env.DB;
  const failing = (sql: string) => {
    const statement = real.prepare(sql);
    const fail = async () => {
      throw new Error("injected D1 failure");
    };
    const wrap = (s: D1PreparedStatement): D1PreparedStatement =>
      new Proxy(s, {
        get(target, prop) {
          if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
          if (prop === "all" || prop === "raw" || prop === "first" || prop === "run") return fail;
          const value = Reflect.get(target, prop);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    return wrap(statement);
  };
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare")
        return (sql: string) => (pattern.test(sql) ? failing(sql) : target.prepare(sql));
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Epoch microseconds of an RFC 3339 / PostgreSQL-style timestamp, computed without the code under test. */
export function micros(text: string): number {
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d(?::?\d\d)?)$/.exec(text);
  if (!m) throw new Error(`bad test timestamp ${text}`);
  const [, date, time, fraction = "", zone = "Z"] = m;
  const offset =
    zone === "Z" ? "Z" : zone.length === 3 ? `${zone}:00` : zone.replace(/^([+-]\d\d)(\d\d)$/, "$1:$2");
  const ms = Date.parse(`${date}T${time}${offset}`);
  if (Number.isNaN(ms)) throw new Error(`bad test timestamp ${text}`);
  return ms * 1000 + Number(fraction.padEnd(6, "0"));
}

/** Random printable ASCII without `"` (so a CSV line is one row), hard to compress. */
export function randomText(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let text = "";
  for (const b of bytes) {
    const c = 0x23 + (b % 92); // '#'..'~'
    text += String.fromCharCode(c);
  }
  return text;
}
