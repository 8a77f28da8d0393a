// Helpers of the PostgreSQL tests: Yeti's contractors and accounts in D1 under Yeti's ids, exports of the
// cases through the customer and operator APIs, and the comparison with the file psql printed.
import { env } from "cloudflare:workers";
import { expect, inject } from "vitest";
import {
  ACCOUNT,
  BIG_ACCOUNT,
  CUSTOMER_ID,
  OTHER_ACCOUNT,
  OTHER_CUSTOMER_ID,
  SIBLING_ACCOUNT,
  type YetiAccount,
} from "../../scripts/pg/fixture.mjs";
import {
  ADMIN,
  ADMIN_TOKEN,
  admin,
  CUSTOMER,
  call,
  createApiAccess,
  customer,
  json,
  token,
} from "../helpers/api";
import { gunzip } from "../helpers/cdrs";
import { CASES, type CaseName, type PgCase } from "./cases";

export const postgres = inject("postgres");

/** A describe title that carries the reason when the PostgreSQL tests are skipped. */
export function titled(title: string): string {
  return postgres.available ? title : `${title} (skipped: ${postgres.reason})`;
}

export function expected(name: CaseName) {
  if (!postgres.available) throw new Error(postgres.reason);
  return postgres.expected[name];
}

/** POST, where 409 (the record exists, from another test file or run) is as good as 201. */
async function ensure(path: string, document: unknown): Promise<void> {
  const res = await admin("POST", path, document);
  if (res.status !== 201 && res.status !== 409)
    throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
}

async function ensureCustomer(id: number, accounts: YetiAccount[]): Promise<void> {
  await ensure("/contractors", {
    data: {
      type: "contractors",
      id: String(id),
      attributes: { name: `Yeti customer ${id}`, customer: true },
    },
  });
  for (const account of accounts) {
    await ensure("/accounts", {
      data: {
        type: "accounts",
        id: String(account.id),
        attributes: { name: `Yeti account ${account.id}`, uuid: account.uuid },
        relationships: { contractor: { data: { type: "contractors", id: String(id) } } },
      },
    });
  }
}

/** Yeti's customer with its accounts under Yeti's ids and uuids, and a token of a new API access of it. */
export async function yetiCustomer(): Promise<{ auth: string }> {
  await ensureCustomer(CUSTOMER_ID, [ACCOUNT, SIBLING_ACCOUNT, BIG_ACCOUNT]);
  await ensureCustomer(OTHER_CUSTOMER_ID, [OTHER_ACCOUNT]);
  const access = await createApiAccess(String(CUSTOMER_ID));
  return { auth: `Bearer ${await token({ sub: Number(access.id), aud: ["customer-v1"] })}` };
}

type Attributes = { status: string; "rows-count": number | null; uuid?: string } & Record<string, unknown>;

async function poll(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Attributes> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(url, { headers });
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    const { data } = await json<{ data: { attributes: Attributes } }>(res);
    if (data.attributes.status !== "Pending") return data.attributes;
    if (Date.now() > until) throw new Error(`${url} still Pending after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export type Exported = { status: string; rows: number | null; file: Uint8Array; uuid: string };

/** The case's export through its API, as a client does it: create, poll until it ends, download. */
export async function exportCase(
  name: CaseName,
  auth: string,
  extra: Partial<PgCase> = {},
  timeoutMs = 30_000,
): Promise<Exported> {
  const c = { ...CASES[name], ...extra } as PgCase;
  const attributes: Record<string, unknown> = { filters: c.filters };
  if (c.timeFormat) attributes["time-format"] = c.timeFormat;
  if (c.timeZoneName) attributes["time-zone-name"] = c.timeZoneName;
  if (c.order.via === "customer") {
    const res = await customer(auth, "POST", "/cdr-exports", {
      data: {
        type: "cdr-exports",
        attributes,
        relationships: { account: { data: { type: "accounts", id: c.order.account.uuid } } },
      },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const { data } = await json<{ data: { id: string } }>(res);
    const done = await poll(`${CUSTOMER}/cdr-exports/${data.id}`, { Authorization: auth }, timeoutMs);
    const download = await customer(auth, "GET", `/cdr-exports/${data.id}/download`);
    const file = download.status === 200 ? new Uint8Array(await download.arrayBuffer()) : new Uint8Array();
    return { status: done.status, rows: done["rows-count"], file, uuid: data.id };
  }
  const res = await admin("POST", "/cdr-exports", {
    data: { type: "cdr-exports", attributes: { ...attributes, fields: c.order.fields } },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const { data } = await json<{ data: { id: string; attributes: { uuid: string } } }>(res);
  const headers = { Authorization: `Bearer ${ADMIN_TOKEN}` };
  const done = await poll(`${ADMIN}/cdr-exports/${data.id}`, headers, timeoutMs);
  const download = await call(`${ADMIN}/cdr-exports/${data.id}/download`, { headers });
  const file = download.status === 200 ? new Uint8Array(await download.arrayBuffer()) : new Uint8Array();
  return { status: done.status, rows: done["rows-count"], file, uuid: data.attributes.uuid };
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The file is one gzip member (strict reader, trailer checked) whose content is, byte for byte, what psql
 * printed for the case; returns the decompressed bytes.
 */
export async function expectPsqlFile(file: Uint8Array, name: CaseName): Promise<Uint8Array> {
  const want = expected(name);
  const { data } = await gunzip(file);
  if (want.text !== null) expect(new TextDecoder().decode(data)).toBe(want.text);
  expect(data.length).toBe(want.bytes);
  expect(await sha256(data)).toBe(want.sha256);
  return data;
}

/** An env for a run of the Worker's code with other vars (the D1 comparison, misconfigurations). */
export function envWith(vars: Partial<Env>): Env {
  return { ...env, ...vars } as Env;
}
