// Helpers of the download, signed-URL, delete, operator-export, callback and retention tests: Completed
// exports made through the API, raw row reads and R2 checks.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { createBody, customer, json, type Tenant } from "./api";
import { type CdrInput, ingestCdrs, objectBytes, randomText, waitForExport } from "./cdrs";

/** `n` CDRs of the tenant's first account on 2019-01-01 (the default range of createBody), distinct text. */
export function dayCdrs(t: Tenant, n: number, extra: (i: number) => CdrInput = () => ({})): CdrInput[] {
  return Array.from({ length: n }, (_, i) => ({
    uuid: crypto.randomUUID(),
    customer_id: Number(t.customer.id),
    customer_acc_id: t.accountId,
    time_start: `2019-01-01T10:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}Z`,
    success: i % 2 === 0,
    duration: i,
    src_name_in: randomText(40),
    orig_call_id: `call-${i}`,
    ...extra(i),
  }));
}

export type CompletedExport = { id: string; key: string; bytes: Uint8Array; links: Record<string, string> };

/** Creates a customer export (of the CDRs already ingested), waits for Completed, returns its file's bytes. */
export async function completedExport(t: Tenant): Promise<CompletedExport> {
  const res = await customer(t.auth, "POST", "/cdr-exports", createBody(t.accountUuid));
  expect(res.status, await res.clone().text()).toBe(201);
  const { data } = await json<{ data: { id: string } }>(res);
  const done = await waitForExport(t.auth, data.id);
  expect(done.status).toBe("Completed");
  const shown = await json<{ data: { links: Record<string, string> } }>(
    await customer(t.auth, "GET", `/cdr-exports/${data.id}`),
  );
  const key = `exports/${data.id}.csv.gz`;
  return { id: data.id, key, bytes: await objectBytes(key), links: shown.data.links };
}

/** A tenant with `n` CDRs ingested on its first account. */
export async function withCdrs(t: Tenant, n = 60): Promise<Tenant> {
  const meta = await ingestCdrs(dayCdrs(t, n));
  expect(meta.inserted).toBe(n);
  return t;
}

export async function bodyBytes(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

/** The raw cdr_exports row (snake_case columns) by uuid. */
export async function exportRow(uuid: string): Promise<Record<string, unknown>> {
  const row = await env.DB.prepare("SELECT * FROM cdr_exports WHERE uuid = ?").bind(uuid).first();
  if (!row) throw new Error(`no export ${uuid}`);
  return row;
}

/** True while the multipart upload can still take parts (R2 refuses parts of an aborted one). */
export async function uploadOpen(key: string, uploadId: string): Promise<boolean> {
  try {
    await env.EXPORTS_BUCKET.resumeMultipartUpload(key, uploadId).uploadPart(99, new Uint8Array(10));
    return true;
  } catch {
    return false;
  }
}

/** Every R2 key under `exports/<uuid>` (the file and checkpoint tails). */
export async function keysOf(uuid: string): Promise<string[]> {
  return (await env.EXPORTS_BUCKET.list({ prefix: `exports/${uuid}` })).objects.map((o) => o.key);
}

export { randomText };
