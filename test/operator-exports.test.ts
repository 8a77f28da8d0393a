// Operator API /api/rest/admin/cdr-exports: any columns, the full filter set, callback URLs; list, show,
// download (byte-compared with the independent expected CSV) and delete.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { dataOf, errorsOf, type Resource } from "./helpers/admin";
import { ADMIN, admin, call, type Tenant, tenant } from "./helpers/api";
import { type CdrInput, gunzip, ingestCdrs, objectBytes } from "./helpers/cdrs";
import { expectedCsv, type Kind } from "./helpers/expected-csv";
import { bodyBytes, exportRow, keysOf } from "./helpers/exports";

const RANGE = { time_start_gteq: "2024-05-01 00:00:00", time_start_lt: "2024-05-02 00:00:00" };

/**
 * The operator's columns, their kinds, and the header line Yeti writes for them, by hand (`ID`, `UUID`
 * as Yeti aliases them). */
const FIELDS: [string, Kind][] = [
  ["id", "int"],
  ["uuid", "text"],
  ["customer_id", "int"],
  ["customer_acc_id", "int"],
  ["vendor_id", "int"],
  ["vendor_acc_id", "int"],
  ["is_last_cdr", "bool"],
  ["time_start", "time"],
  ["duration", "int"],
  ["src_prefix_out", "text"],
  ["customer_price", "text"],
  ["orig_call_id", "text"],
];
const FIELDS_HEADER =
  "ID,UUID,Customer,Customer Acc,Vendor,Vendor Acc,Is Last Cdr,Time Start,Duration,Src Prefix Out," +
  "Customer Price,Orig Call\n";

let a: Tenant;
let b: Tenant;
let records: CdrInput[];
const ids = new Map<string, number>();

function cdrsOf(t: Tenant): CdrInput[] {
  return Array.from({ length: 18 }, (_, i) => ({
    uuid: crypto.randomUUID(),
    customer_id: Number(t.customer.id),
    customer_acc_id: i % 4 === 0 ? t.otherAccountId : t.accountId,
    vendor_id: 1 + (i % 3),
    vendor_acc_id: 100 + (i % 3),
    is_last_cdr: i % 5 === 0 ? null : i % 2 === 0,
    time_start: `2024-05-01T${String(i).padStart(2, "0")}:15:30.${String(1000 * i + 7).padStart(6, "0")}Z`,
    duration: i * 7,
    src_prefix_out: i % 3 === 0 ? null : `pfx "${i}", out`,
    customer_price: i % 2 ? "0.0100" : "12.50",
    orig_call_id: `op-call-${i}`,
  }));
}

beforeAll(async () => {
  a = await tenant();
  b = await tenant();
  records = [...cdrsOf(a), ...cdrsOf(b)];
  // Outside the range: never in a file.
  records.push({
    ...cdrsOf(a)[2],
    uuid: crypto.randomUUID(),
    time_start: "2024-05-02T00:00:00Z",
  } as CdrInput);
  expect((await ingestCdrs(records)).inserted).toBe(records.length);
  const rows = await env.DB.prepare(
    "SELECT uuid, id FROM cdrs WHERE uuid IN (SELECT value FROM json_each(?))",
  )
    .bind(JSON.stringify(records.map((r) => r.uuid)))
    .all<{ uuid: string; id: number }>();
  for (const r of rows.results) ids.set(r.uuid, r.id);
});

function createDoc(attributes: Record<string, unknown>) {
  return { data: { type: "cdr-exports", attributes: { filters: { ...RANGE }, ...attributes } } };
}

async function create(attributes: Record<string, unknown>): Promise<Resource> {
  return dataOf(await admin("POST", "/cdr-exports", createDoc(attributes)), 201);
}

/** Polls the operator show route until the export leaves Pending. */
async function waitDone(id: string, timeoutMs = 15_000): Promise<Resource> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const data = await dataOf(await admin("GET", `/cdr-exports/${id}`));
    if (data.attributes.status !== "Pending") return data;
    if (Date.now() > until) throw new Error(`operator export ${id} still Pending`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function completed(attributes: Record<string, unknown>): Promise<Resource> {
  const created = await create(attributes);
  const done = await waitDone(created.id);
  expect(done.attributes.status).toBe("Completed");
  return done;
}

async function downloadText(id: string): Promise<string> {
  const res = await admin("GET", `/cdr-exports/${id}/download`);
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toBe("application/gzip");
  const { data } = await gunzip(await bodyBytes(res));
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(data);
}

function inRange(r: CdrInput): boolean {
  return (r.time_start as string).startsWith("2024-05-01");
}

describe("operator export: columns and filters", () => {
  it("writes the chosen fields for customer_id_eq + vendor_id_in + is_last_cdr_eq, byte-exact", async () => {
    const done = await completed({
      fields: FIELDS.map(([name]) => name),
      filters: {
        ...RANGE,
        customer_id_eq: Number(a.customer.id),
        vendor_id_in: [1, 2],
        is_last_cdr_eq: true,
      },
    });
    const wanted = records.filter(
      (r) =>
        inRange(r) &&
        r.customer_id === Number(a.customer.id) &&
        [1, 2].includes(r.vendor_id as number) &&
        r.is_last_cdr === true,
    );
    expect(wanted.length).toBeGreaterThan(2);
    expect(done.attributes["rows-count"]).toBe(wanted.length);
    const text = await downloadText(done.id);
    expect(text).toBe(expectedCsv(wanted, ids, "with_timezone", null, FIELDS, FIELDS_HEADER));
    // A hand-written spot check of one line's shape.
    // The 7th CDR (i = 6): vendor 1, vendor account 100, last CDR, on the first account.
    expect(text).toContain(
      `,"${Number(a.customer.id)}","${a.accountId}","1","100","t","2024-05-01 06:15:30.006007+00","42",`,
    );
  });

  it("takes lists as comma-separated strings, other operator filters, a time format and a zone", async () => {
    const fields: [string, Kind][] = [
      ["time_start", "time"],
      ["customer_acc_id", "int"],
      ["vendor_acc_id", "int"],
      ["src_prefix_out", "text"],
    ];
    const done = await completed({
      fields: fields.map(([name]) => name),
      filters: {
        ...RANGE,
        customer_acc_id_in: `${a.accountId},${b.accountId}`,
        vendor_acc_id_eq: "101",
        duration_gteq: 10,
      },
      "time-format": "round_to_seconds",
      "time-zone-name": "Asia/Kolkata",
    });
    expect(done.attributes.filters).toEqual({
      ...{ time_start_gteq: "2024-05-01T00:00:00.000Z", time_start_lt: "2024-05-02T00:00:00.000Z" },
      customer_acc_id_in: [a.accountId, b.accountId],
      vendor_acc_id_eq: 101,
      duration_gteq: 10,
    });
    const wanted = records.filter(
      (r) =>
        inRange(r) &&
        [a.accountId, b.accountId].includes(r.customer_acc_id as number) &&
        r.vendor_acc_id === 101 &&
        (r.duration as number) >= 10,
    );
    const text = await downloadText(done.id);
    const header = "Time Start,Customer Acc,Vendor Acc,Src Prefix Out\n";
    expect(text).toBe(expectedCsv(wanted, ids, "round_to_seconds", "Asia/Kolkata", fields, header));
    expect(text).toContain('"2024-05-01 12:45:30",');
  });

  it("defaults fields to the customer columns", async () => {
    const done = await completed({ filters: { ...RANGE, customer_id_eq: Number(b.customer.id) } });
    expect(done.attributes.fields).toEqual(expect.arrayContaining(["time_start", "orig_call_id"]));
    expect((done.attributes.fields as string[]).length).toBe(29);
    const wanted = records.filter((r) => inRange(r) && r.customer_id === Number(b.customer.id));
    expect(await downloadText(done.id)).toBe(expectedCsv(wanted, ids, "with_timezone", null));
  });

  it("refuses unknown fields with 422 `fields - x, y not allowed`, and nothing is stored", async () => {
    const before = await count();
    const errors = await errorsOf(
      await admin("POST", "/cdr-exports", createDoc({ fields: ["time_start", "x", "y"] })),
      422,
    );
    expect(errors).toEqual([
      {
        status: "422",
        title: "x, y not allowed",
        detail: "fields - x, y not allowed",
        source: { pointer: "/data/attributes/fields" },
      },
    ]);
    expect(await count()).toBe(before);
  });

  it("refuses names of Object's prototype as fields (toString, constructor, __proto__)", async () => {
    const errors = await errorsOf(
      await admin("POST", "/cdr-exports", createDoc({ fields: ["toString", "constructor", "__proto__"] })),
      422,
    );
    expect(errors.map((e) => e.detail)).toEqual(["fields - toString, constructor, __proto__ not allowed"]);
  });

  it("refuses fields that are not a non-empty list of strings", async () => {
    for (const fields of [[], "time_start", [1], {}]) {
      const errors = await errorsOf(await admin("POST", "/cdr-exports", createDoc({ fields })), 422);
      expect(errors.map((e) => e.detail)).toEqual(["fields - must be a non-empty list of column names"]);
    }
  });

  it("refuses an unknown filter and a bad list value with Yeti's filter messages", async () => {
    const errors = await errorsOf(
      await admin(
        "POST",
        "/cdr-exports",
        createDoc({ filters: { ...RANGE, bogus_eq: 1, vendor_id_in: ["x"] } }),
      ),
      422,
    );
    expect(errors.map((e) => e.detail)).toEqual([
      "filters - bogus_eq not allowed",
      "filters - vendor_id_in is invalid",
    ]);
  });
});

async function count(): Promise<number> {
  const res = await admin("GET", "/cdr-exports?page[size]=1");
  return ((await res.json()) as { meta: { "total-count": number } }).meta["total-count"];
}

describe("operator export: callback-url", () => {
  const bad = [
    ["http://hooks.example.com/cdr", "must be an https URL"],
    ["https://127.0.0.1/", "must not point to a private or reserved address"],
    ["https://10.1.2.3/", "must not point to a private or reserved address"],
    ["https://[::1]/", "must not point to a private or reserved address"],
    ["https://169.254.169.254/latest/meta-data/", "must not point to a private or reserved address"],
    ["https://localhost/", "must not point to a local or internal host"],
    ["https://foo.internal/", "must not point to a local or internal host"],
    ["https://user:pw@example.com/", "must not carry credentials"],
    ["not a url", "is not a valid URL"],
  ] as const;

  for (const [url, message] of bad) {
    it(`refuses ${url} with 422 at /data/attributes/callback-url`, async () => {
      const errors = await errorsOf(
        await admin("POST", "/cdr-exports", createDoc({ "callback-url": url })),
        422,
      );
      expect(errors).toEqual([
        {
          status: "422",
          title: message,
          detail: `callback-url - ${message}`,
          source: { pointer: "/data/attributes/callback-url" },
        },
      ]);
    });
  }

  it("refuses a callback-url that is not a string", async () => {
    const errors = await errorsOf(
      await admin("POST", "/cdr-exports", createDoc({ "callback-url": 42 })),
      422,
    );
    expect(errors.map((e) => e.detail)).toEqual(["callback-url - is not a valid URL"]);
  });

  it("accepts a public https URL and shows it", async () => {
    const url = "https://hooks.example.invalid/cdr-exports?token=abc";
    const created = await create({ "callback-url": url, filters: { ...RANGE, customer_id_eq: -1 } });
    expect(created.attributes["callback-url"]).toBe(url);
    const shown = await dataOf(await admin("GET", `/cdr-exports/${created.id}`));
    expect(shown.attributes["callback-url"]).toBe(url);
    // Deleted at once, so the background consumer neither runs it nor calls back.
    expect((await admin("DELETE", `/cdr-exports/${created.id}`)).status).toBe(204);
  });
});

describe("operator export: list, show, delete", () => {
  let done: Resource;
  beforeAll(async () => {
    done = await completed({
      fields: ["uuid", "time_start"],
      filters: { ...RANGE, customer_id_eq: Number(a.customer.id) },
    });
  });

  it("shows it with uuid, fields, filters, status, rows-count and links.download", async () => {
    expect(done.type).toBe("cdr-exports");
    expect(done.id).toMatch(/^\d+$/);
    expect(done.links.self).toBe(`${ADMIN}/cdr-exports/${done.id}`);
    expect(done.attributes).toMatchObject({
      fields: ["uuid", "time_start"],
      status: "Completed",
      "rows-count": 18,
      "callback-url": null,
      "time-format": "with_timezone",
      "time-zone-name": null,
    });
    const link = (done.links as Record<string, string>).download ?? "";
    const res = await call(link);
    expect(res.status).toBe(200);
    expect(await bodyBytes(res)).toEqual(await objectBytes(`exports/${done.attributes.uuid}.csv.gz`));
  });

  it("lists it, newest first, with paging meta", async () => {
    const res = await admin("GET", "/cdr-exports?page[size]=1000");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: Resource[]; meta: { "total-count": number } };
    const listed = body.data.find((d) => d.id === done.id);
    expect(listed?.attributes.uuid).toBe(done.attributes.uuid);
    expect(body.meta["total-count"]).toBe(body.data.length);
    const numeric = body.data.map((d) => Number(d.id));
    expect(numeric).toEqual([...numeric].sort((x, y) => y - x));
  });

  it("answers 404 for an unknown or non-numeric id, and 401 without the operator token", async () => {
    expect((await admin("GET", "/cdr-exports/999999999")).status).toBe(404);
    expect((await admin("GET", "/cdr-exports/abc")).status).toBe(404);
    expect((await admin("DELETE", "/cdr-exports/999999999")).status).toBe(404);
    expect((await call(`${ADMIN}/cdr-exports/${done.id}`)).status).toBe(401);
    expect((await call(`${ADMIN}/cdr-exports/${done.id}/download`)).status).toBe(401);
  });

  it("deletes it: 204, status Deleted, the R2 object gone, download 404; deleting again is 204", async () => {
    const key = `exports/${done.attributes.uuid}.csv.gz`;
    expect(await env.EXPORTS_BUCKET.head(key)).not.toBeNull();
    const res = await admin("DELETE", `/cdr-exports/${done.id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    const shown = await dataOf(await admin("GET", `/cdr-exports/${done.id}`));
    expect(shown.attributes.status).toBe("Deleted");
    expect((shown.links as Record<string, string>).download).toBeUndefined();
    expect(await env.EXPORTS_BUCKET.head(key)).toBeNull();
    const download = await admin("GET", `/cdr-exports/${done.id}/download`);
    expect(download.status).toBe(404);
    await download.arrayBuffer();
    const again = await admin("DELETE", `/cdr-exports/${done.id}`);
    expect(again.status).toBe(204);
    expect((await dataOf(await admin("GET", `/cdr-exports/${done.id}`))).attributes.status).toBe("Deleted");
  });

  it("deletes an export whose object is already gone (not an error)", async () => {
    const other = await completed({
      fields: ["uuid"],
      filters: { ...RANGE, customer_id_eq: Number(b.customer.id) },
    });
    await env.EXPORTS_BUCKET.delete(`exports/${other.attributes.uuid}.csv.gz`);
    expect((await admin("DELETE", `/cdr-exports/${other.id}`)).status).toBe(204);
    expect((await dataOf(await admin("GET", `/cdr-exports/${other.id}`))).attributes.status).toBe("Deleted");
  });

  it("deletes a Pending and a Failed export too", async () => {
    for (const status of ["Pending", "Failed"]) {
      const created = await create({ filters: { ...RANGE, customer_id_eq: -1 } });
      await env.DB.prepare("UPDATE cdr_exports SET status = ? WHERE id = ?")
        .bind(status, Number(created.id))
        .run();
      expect((await admin("DELETE", `/cdr-exports/${created.id}`)).status).toBe(204);
      expect((await exportRow(created.attributes.uuid as string)).status).toBe("Deleted");
    }
  });

  it("finishes on a repeated DELETE a clean-up that a storage error interrupted", async () => {
    const other = await completed({
      fields: ["uuid"],
      filters: { ...RANGE, customer_id_eq: Number(a.customer.id) },
    });
    const uuid = other.attributes.uuid as string;
    const key = `exports/${uuid}.csv.gz`;
    // As an interrupted delete leaves it: marked Deleted, the file and a stray checkpoint tail still stored.
    await env.EXPORTS_BUCKET.put(`${key}.tail-3`, "tail");
    await env.DB.prepare("UPDATE cdr_exports SET status = 'Deleted' WHERE id = ?")
      .bind(Number(other.id))
      .run();
    expect(await keysOf(uuid)).toEqual([key, `${key}.tail-3`]);
    expect((await admin("DELETE", `/cdr-exports/${other.id}`)).status).toBe(204);
    expect(await keysOf(uuid)).toEqual([]);
    expect((await exportRow(uuid)).object_key).toBeNull();
  });
});
