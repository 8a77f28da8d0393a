// HTTP helpers against the bench's wrangler dev: operator API (tenants, CDR ingestion), customer exports.
import { SignJWT } from "jose";
import { generateCdrs } from "../../scripts/cdr-generator.mjs";
import { ADMIN_TOKEN, JWT_SECRET } from "./dev-server.mjs";

export const JSON_API = "application/vnd.api+json";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Api {
  constructor(base) {
    this.base = base;
    this.customerBase = `${base}/api/rest/customer/v1`;
  }

  async admin(method, path, body, type = JSON_API) {
    const res = await fetch(`${this.base}/api/rest/admin${path}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": type },
      body: typeof body === "string" ? body : body && JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  }

  async customer(auth, method, path, body) {
    const res = await fetch(`${this.customerBase}${path}`, {
      method,
      headers: { Authorization: auth, Accept: JSON_API, "Content-Type": JSON_API },
      body: body && JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : null;
  }

  /** A customer contractor with one account and an API access; `auth` is a ready Authorization value. */
  async tenant(name) {
    const customer = await this.admin("POST", "/contractors", {
      data: { type: "contractors", attributes: { name, customer: true } },
    });
    const account = await this.admin("POST", "/accounts", {
      data: {
        type: "accounts",
        attributes: { name: `${name} USD` },
        relationships: { contractor: { data: { type: "contractors", id: customer.data.id } } },
      },
    });
    const access = await this.admin("POST", "/api-accesses", {
      data: {
        type: "api-accesses",
        attributes: { login: `${name}-login`, password: "bench-password" },
        relationships: { customer: { data: { type: "contractors", id: customer.data.id } } },
      },
    });
    const jwt = await new SignJWT({ sub: Number(access.data.id), aud: ["customer-v1"] })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(JWT_SECRET));
    return {
      name,
      customerId: Number(customer.data.id),
      accountId: Number(account.data.id),
      accountUuid: account.data.attributes.uuid,
      auth: `Bearer ${jwt}`,
    };
  }

  /**
   * A customer and its account under given (Yeti's) ids and uuid, as the PostgreSQL source needs them, with an
   * API access; the same shape as tenant().
   */
  async yetiTenant(name, { customerId, accountId, accountUuid }) {
    await this.admin("POST", "/contractors", {
      data: { type: "contractors", id: String(customerId), attributes: { name, customer: true } },
    });
    await this.admin("POST", "/accounts", {
      data: {
        type: "accounts",
        id: String(accountId),
        attributes: { name: `${name} USD`, uuid: accountUuid },
        relationships: { contractor: { data: { type: "contractors", id: String(customerId) } } },
      },
    });
    const access = await this.admin("POST", "/api-accesses", {
      data: {
        type: "api-accesses",
        attributes: { login: `${name}-login`, password: "bench-password" },
        relationships: { customer: { data: { type: "contractors", id: String(customerId) } } },
      },
    });
    const jwt = await new SignJWT({ sub: Number(access.data.id), aud: ["customer-v1"] })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(JWT_SECRET));
    return { name, customerId, accountId, accountUuid, auth: `Bearer ${jwt}` };
  }

  /** The customer API document that orders an export of [fromMs, toMs) of the account, in UTC. */
  static exportBody(accountUuid, fromMs, toMs) {
    return {
      data: {
        type: "cdr-exports",
        attributes: {
          filters: {
            time_start_gteq: new Date(fromMs).toISOString(),
            time_start_lt: new Date(toMs).toISOString(),
          },
          "time-format": "with_timezone",
        },
        relationships: { account: { data: { type: "accounts", id: accountUuid } } },
      },
    };
  }

  /**
   * POST → Completed: creates the export, polls the show route every `pollMs` and calls `onPoll`; returns
   * the export's id, its final attributes, the wall time in ms and each poll (latency, status, rows-written).
   */
  async timedExport(tenant, fromMs, toMs, { pollMs = 20, timeoutMs = 45 * 60_000, onPoll } = {}) {
    const started = performance.now();
    const created = await this.customer(
      tenant.auth,
      "POST",
      "/cdr-exports",
      Api.exportBody(tenant.accountUuid, fromMs, toMs),
    );
    const id = created.data.id;
    // Each show's latency and the status it answered: how responsive the API stays during the export.
    const polls = [];
    for (;;) {
      const asked = performance.now();
      const shown = await this.customer(tenant.auth, "GET", `/cdr-exports/${id}`);
      const attributes = shown.data.attributes;
      polls.push({
        ms: performance.now() - asked,
        status: attributes.status,
        rowsWritten: shown.data.meta?.["rows-written"],
      });
      onPoll?.(shown);
      if (attributes.status === "Completed") {
        return { id, attributes, ms: performance.now() - started, polls };
      }
      if (attributes.status !== "Pending") throw new Error(`export ${id} ended ${attributes.status}`);
      if (performance.now() - started > timeoutMs) throw new Error(`export ${id} timed out`);
      await sleep(pollMs);
    }
  }

  async download(tenant, id) {
    const res = await fetch(`${this.customerBase}/cdr-exports/${id}/download`, {
      headers: { Authorization: tenant.auth },
    });
    if (!res.ok) throw new Error(`download ${id}: ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }
}

/** The generator arguments of the bench's CDRs: `rows` CDRs over one calendar month of one account. */
export function cdrSpec({ rows, seed, tenant, fromMs, toMs }) {
  return {
    count: rows,
    seed,
    accountId: tenant.accountId,
    customerId: tenant.customerId,
    fromMs,
    toMs,
    firstId: 1,
  };
}

/**
 * Loads the CDRs through `POST /api/rest/admin/cdrs` in NDJSON batches of `batch` lines; the next batch
 * is generated while the previous request runs. Returns {rows, ms, requests, bytes}.
 */
export async function loadCdrs(api, spec, { batch = 10_000, onProgress } = {}) {
  const started = performance.now();
  const rows = generateCdrs(spec);
  let inserted = 0;
  let requests = 0;
  let bytes = 0;
  const nextBody = () => {
    const lines = [];
    for (let i = 0; i < batch; i++) {
      const { value, done } = rows.next();
      if (done) break;
      lines.push(JSON.stringify(value));
    }
    return lines.length ? `${lines.join("\n")}\n` : null;
  };
  let body = nextBody();
  let inFlight = null;
  while (body || inFlight) {
    const sending = body
      ? api.admin("POST", "/cdrs", body, "application/x-ndjson").then((r) => r.meta.inserted)
      : null;
    // A failure is raised when this request is awaited; until then it must not count as unhandled.
    sending?.catch(() => {});
    if (body) {
      bytes += Buffer.byteLength(body);
      requests++;
    }
    if (inFlight) {
      inserted += await inFlight;
      onProgress?.(inserted);
    }
    inFlight = sending;
    body = sending ? nextBody() : null;
  }
  return { rows: inserted, ms: performance.now() - started, requests, bytes };
}
