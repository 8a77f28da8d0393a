// End to end through the HTTP API: ingest CDRs, create an export, let the queue consumer run it, download
// the file and compare its bytes with a CSV built here, independently of src/file-format/csv.ts.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { insertExport } from "../src/db/queries/cdr-exports";
import { createBody, customer, json, tenant } from "./helpers/api";
import { type CdrInput, gunzip, ingestCdrs, micros, objectBytes, waitForExport } from "./helpers/cdrs";
import { COLUMNS, expectedCsv, type Format, HEADER } from "./helpers/expected-csv";

const RANGE = { time_start_gteq: "2025-03-29 00:00:00", time_start_lt: "2025-04-01 00:00:00" };
const FROM = micros("2025-03-29T00:00:00Z");
const TO = micros("2025-04-01T00:00:00Z");
/** RANGE read as wall-clock times of a zone (Kyiv: +02 on the 29th, +03 from the 30th; Kolkata +05:30). */
const ZONED_RANGE: Record<string, [number, number]> = {
  "Europe/Kyiv": [micros("2025-03-28T22:00:00Z"), micros("2025-03-31T21:00:00Z")],
  "Asia/Kolkata": [micros("2025-03-28T18:30:00Z"), micros("2025-03-31T18:30:00Z")],
};

type Tenant = Awaited<ReturnType<typeof tenant>>;
/** A customer with the test CDRs on its account (`mine`) and the same calls on its other account. */
type Fixture = { t: Tenant; mine: CdrInput[]; sibling: CdrInput[] };
/** CDR ids by uuid, to order CDRs that start at the same instant as the export does. */
const ids = new Map<string, number>();

function cdrs(customerId: number, accountId: number): CdrInput[] {
  const base = (o: CdrInput): CdrInput => ({
    uuid: crypto.randomUUID(),
    customer_id: customerId,
    customer_acc_id: accountId,
    ...o,
  });
  return [
    base({
      time_start: "2025-03-29T10:00:00.000001Z",
      time_connect: "2025-03-29 10:00:02.5+00",
      time_end: "2025-03-29T10:01:02.123456Z",
      success: true,
      duration: 60,
      src_name_in: 'He said "hi", then left',
      src_prefix_in: "380441234567",
      dst_prefix_in: "4930123",
      from_domain: "a.example",
      to_domain: "",
      lega_disconnect_code: 200,
      lega_disconnect_reason: "OK",
      auth_orig_ip: "192.0.2.10",
      auth_orig_port: 5060,
      src_prefix_routing: "380",
      dst_prefix_routing: "49",
      destination_prefix: "49",
      destination_initial_interval: 1,
      destination_next_interval: 1,
      destination_initial_rate: "0.0100",
      destination_next_rate: 0.02,
      destination_fee: "0",
      customer_price: "0.0100",
      customer_duration: 60,
      orig_call_id: "call-1@host",
      local_tag: "tag-1",
      lega_user_agent: "Ünïcødé ☎ 電話 😀",
      diversion_in: null,
    }),
    base({
      time_start: "2025-03-29 12:30:00.999999+02",
      success: false,
      duration: 0,
      lega_disconnect_code: 486,
      lega_disconnect_reason: 'Busy\nHere, "really"\r\nok',
      auth_orig_ip: "2001:db8::1",
      src_prefix_routing: "381",
      dst_prefix_routing: "49",
      customer_price: "0.0000",
      local_tag: ",",
    }),
    // Europe/Kyiv moves from +02 to +03 at 2025-03-30 01:00 UTC.
    base({
      time_start: "2025-03-30T00:59:59.999999Z",
      time_connect: "2025-03-30T01:00:00Z",
      time_end: "2025-03-30T01:00:30.25Z",
      success: true,
      duration: 30,
      src_prefix_routing: "380",
      dst_prefix_routing: "44",
      destination_fee: "12345678901234567890.12345678901234567890",
    }),
    base({
      time_start: "2025-03-30T01:00:00Z",
      success: true,
      duration: 30,
      src_prefix_routing: "381",
      dst_prefix_routing: "44",
      destination_next_rate: "-0.5",
    }),
    // Two CDRs starting at the same instant.
    base({ time_start: "2025-03-30T12:00:00.5Z", success: true, duration: 45, src_prefix_routing: "380" }),
    base({ time_start: "2025-03-30T12:00:00.500Z", success: false, duration: 100, dst_prefix_routing: "49" }),
    base({
      time_start: "2025-03-31T18:29:59.1+05:30",
      success: true,
      duration: 61,
      src_prefix_routing: "380",
    }),
    // Exactly at the lower bound: included.
    base({ time_start: "2025-03-29T00:00:00Z", success: true, duration: 1, dst_prefix_routing: "49" }),
    // Every optional column NULL.
    base({ time_start: "2025-03-31T23:59:59.999999Z" }),
    // Every text column an empty string (written "" unlike NULL).
    base({
      time_start: "2025-03-31T00:00:00Z",
      ...Object.fromEntries(
        COLUMNS.filter(([name, kind]) => kind === "text" && !/rate|fee|price|auth_orig_ip/.test(name)).map(
          ([name]) => [name, ""],
        ),
      ),
    }),
    // Outside the range: at the (exclusive) upper bound and just before the lower one.
    base({ time_start: "2025-04-01T00:00:00Z", success: true, duration: 30 }),
    base({ time_start: "2025-03-28T23:59:59.999999Z", success: true, duration: 30 }),
  ];
}

type Filters = Record<string, string | number | boolean>;

function matches(r: CdrInput, filters: Filters, [from, to]: [number, number] = [FROM, TO]): boolean {
  const start = micros(r.time_start as string);
  if (start < from || start >= to) return false;
  for (const [key, value] of Object.entries(filters)) {
    if (key === "success_eq" && r.success !== value) return false;
    if (key === "duration_eq" && !(typeof r.duration === "number" && r.duration === value)) return false;
    if (key === "duration_gteq" && !(typeof r.duration === "number" && r.duration >= (value as number)))
      return false;
    if (key === "duration_lteq" && !(typeof r.duration === "number" && r.duration <= (value as number)))
      return false;
    if (key === "src_prefix_routing_eq" && r.src_prefix_routing !== value) return false;
    if (key === "dst_prefix_routing_eq" && r.dst_prefix_routing !== value) return false;
  }
  return true;
}

async function runExport(auth: string, accountUuid: string, attributes: Record<string, unknown>) {
  const res = await customer(auth, "POST", "/cdr-exports", createBody(accountUuid, attributes));
  expect(res.status, await res.clone().text()).toBe(201);
  const { data } = await json<{ data: { id: string } }>(res);
  const done = await waitForExport(auth, data.id);
  expect(done.status).toBe("Completed");
  return { id: data.id, rowsCount: done["rows-count"] };
}

async function download(auth: string, id: string): Promise<{ res: Response; text: string }> {
  const res = await customer(auth, "GET", `/cdr-exports/${id}/download`);
  expect(res.status).toBe(200);
  const { data } = await gunzip(new Uint8Array(await res.arrayBuffer()));
  return { res, text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(data) };
}

/** Creates, runs and downloads an export; checks the bytes and rows-count against the independent CSV. */
async function expectExport(
  { t, mine }: Fixture,
  filters: Filters,
  format: Format | undefined = undefined,
  zone: string | undefined = undefined,
) {
  const attributes: Record<string, unknown> = { filters: { ...RANGE, ...filters } };
  if (format) attributes["time-format"] = format;
  if (zone) attributes["time-zone-name"] = zone;
  const { id, rowsCount } = await runExport(t.auth, t.accountUuid, attributes);
  const { text } = await download(t.auth, id);
  const range = zone ? ZONED_RANGE[zone] : undefined;
  if (zone && !range) throw new Error(`no zoned range for ${zone}`);
  const wanted = mine.filter((r) => matches(r, filters, range));
  expect(text).toBe(expectedCsv(wanted, ids, format ?? "with_timezone", zone ?? null));
  expect(rowsCount).toBe(wanted.length);
  return text;
}

/**
 * A fresh customer per group of tests (export creation is rate-limited per customer), with the test CDRs;
 * another customer's account holds the same calls, which must never leak in.
 */
async function fixture(): Promise<Fixture> {
  const t = await tenant();
  const stranger = await tenant();
  const mine = cdrs(Number(t.customer.id), Number(t.account.id));
  const sibling = cdrs(Number(t.customer.id), Number(t.otherAccount.id));
  const all = [...mine, ...sibling, ...cdrs(Number(stranger.customer.id), Number(stranger.account.id))];
  const meta = await ingestCdrs(all);
  expect(meta.inserted).toBe(all.length);
  const rows = await env.DB.prepare(
    "SELECT uuid, id FROM cdrs WHERE uuid IN (SELECT value FROM json_each(?))",
  )
    .bind(JSON.stringify(all.map((r) => r.uuid)))
    .all<{ uuid: string; id: number }>();
  for (const r of rows.results) ids.set(r.uuid, r.id);
  expect(rows.results.length).toBe(all.length);
  return { t, mine, sibling };
}

describe("export file contents: filters", () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await fixture();
  });

  it("writes every CDR of the account in the range, newest first, in Yeti's CSV (UTC, with_timezone)", async () => {
    const text = await expectExport(fx, {});
    // Spot checks, written out by hand.
    expect(text.startsWith(HEADER)).toBe(true);
    expect(text).toContain(
      '"2025-03-29 10:00:00.000001+00","2025-03-29 10:00:02.5+00","2025-03-29 10:01:02.123456+00","t","60",' +
        '"He said ""hi"", then left","380441234567","4930123","a.example","",,"200","OK","192.0.2.10","5060",' +
        '"380","49","49","1","1","0.0100","0.02","0","0.0100","60","call-1@host","tag-1","Ünïcødé ☎ 電話 😀",\n',
    );
    expect(text).toContain(
      '"2025-03-29 10:30:00.999999+00",,,"f","0",,,,,,,"486","Busy\nHere, ""really""\r\nok"',
    );
    expect(text).toContain('"12345678901234567890.12345678901234567890"');
    expect(text).toContain(`"2025-03-31 23:59:59.999999+00",${",".repeat(COLUMNS.length - 2)}\n`);
    expect(text).not.toContain("2025-04-01 00:00:00");
    expect(text).not.toContain("2025-03-28");
  });

  it("writes the header line exactly titleized", async () => {
    const { id } = await runExport(fx.t.auth, fx.t.accountUuid, { filters: { ...RANGE } });
    const { text } = await download(fx.t.auth, id);
    expect(text.slice(0, text.indexOf("\n") + 1)).toBe(HEADER);
    expect(HEADER).toContain("Orig Call,");
    expect(HEADER).toContain(",Auth Orig Ip,");
  });

  it("filters by success_eq true", () => expectExport(fx, { success_eq: true }));
  it("filters by success_eq false (NULL success is neither)", () => expectExport(fx, { success_eq: false }));
  it("filters by duration_eq", () => expectExport(fx, { duration_eq: 30 }));
  it("filters by duration_gteq", () => expectExport(fx, { duration_gteq: 45 }));
  it("filters by duration_lteq", () => expectExport(fx, { duration_lteq: 30 }));
  it("filters by src_prefix_routing_eq", () => expectExport(fx, { src_prefix_routing_eq: "380" }));
  it("filters by dst_prefix_routing_eq", () => expectExport(fx, { dst_prefix_routing_eq: "49" }));
  it("ANDs all filters together", async () => {
    const text = await expectExport(fx, {
      success_eq: true,
      duration_gteq: 30,
      duration_lteq: 60,
      src_prefix_routing_eq: "380",
      dst_prefix_routing_eq: "44",
    });
    expect(text.split("\n").length - 2).toBe(1);
  });
});

describe("export file contents: time formats and zones", () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await fixture();
  });

  it("writes without_timezone times without an offset", async () => {
    const text = await expectExport(fx, {}, "without_timezone");
    expect(text).toContain(
      '"2025-03-29 10:00:00.000001","2025-03-29 10:00:02.5","2025-03-29 10:01:02.123456",',
    );
  });

  it("writes round_to_seconds times with the fraction cut off", async () => {
    const text = await expectExport(fx, {}, "round_to_seconds");
    expect(text).toContain('"2025-03-29 10:30:00",');
    expect(text).toContain('"2025-03-31 23:59:59",');
  });

  it("writes Europe/Kyiv local times across the DST change (+02 then +03)", async () => {
    const text = await expectExport(fx, {}, "with_timezone", "Europe/Kyiv");
    expect(text).toContain(
      '"2025-03-30 02:59:59.999999+02","2025-03-30 04:00:00+03","2025-03-30 04:00:30.25+03",',
    );
    expect(text).toContain('"2025-03-30 04:00:00+03",,,"t","30"');
  });

  it("writes Europe/Kyiv local times without the offset", async () => {
    const text = await expectExport(fx, {}, "without_timezone", "Europe/Kyiv");
    expect(text).toContain('"2025-03-30 02:59:59.999999","2025-03-30 04:00:00","2025-03-30 04:00:30.25",');
  });

  it("writes Asia/Kolkata times with a +05:30 offset", async () => {
    const text = await expectExport(fx, {}, "with_timezone", "Asia/Kolkata");
    expect(text).toContain('"2025-03-31 18:29:59.1+05:30",');
    expect(text).toContain('"2025-03-29 05:30:00+05:30",');
  });

  it("writes only the header for an empty result, rows-count 0", async () => {
    const { id, rowsCount } = await runExport(fx.t.auth, fx.t.accountUuid, {
      filters: { time_start_gteq: "2020-01-01 00:00:00", time_start_lt: "2020-01-02 00:00:00" },
    });
    expect(rowsCount).toBe(0);
    const { text } = await download(fx.t.auth, id);
    expect(text).toBe(HEADER);
  });
});

describe("export file contents: scope", () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await fixture();
  });

  it("never includes CDRs of other accounts or customers", async () => {
    // Every account holds the same calls: the bytes above already show none of the others' rows leak into
    // the account's file; the sibling account's file holds exactly its own rows.
    const { id, rowsCount } = await runExport(fx.t.auth, fx.t.otherAccountUuid, { filters: { ...RANGE } });
    const { text } = await download(fx.t.auth, id);
    const wanted = fx.sibling.filter((r) => matches(r, {}));
    expect(text).toBe(expectedCsv(wanted, ids, "with_timezone", null));
    expect(rowsCount).toBe(wanted.length);
  });
});

describe("download", () => {
  let fx: Fixture;
  let other: Tenant;
  beforeAll(async () => {
    fx = await fixture();
    other = await tenant();
  });

  it("sends the file with the attachment name and stores the R2 object with it", async () => {
    const { id } = await runExport(fx.t.auth, fx.t.accountUuid, { filters: { ...RANGE, duration_eq: 60 } });
    const res = await customer(fx.t.auth, "GET", `/cdr-exports/${id}/download`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="${id}.csv.gz"`);
    expect(res.headers.get("Content-Type")).toBe("application/gzip");
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body).toEqual(await objectBytes(`exports/${id}.csv.gz`));
    const head = await env.EXPORTS_BUCKET.head(`exports/${id}.csv.gz`);
    expect(head?.httpMetadata?.contentDisposition).toBe(`attachment; filename="${id}.csv.gz"`);
    expect(head?.httpMetadata?.contentType).toBe("application/gzip");
    expect(res.headers.get("Content-Length")).toBe(String(body.length));
  });

  it("answers 404 with an empty body for a Pending export", async () => {
    const row = await insertExport(env, {
      filters: { ...RANGE },
      fields: COLUMNS.map(([name]) => name),
      timeFormat: "with_timezone",
      timeZoneName: null,
      callbackUrl: null,
      customerAccountId: Number(fx.t.account.id),
    });
    const res = await customer(fx.t.auth, "GET", `/cdr-exports/${row.uuid}/download`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("");
  });

  it("answers 404 with an empty body for a Failed export", async () => {
    const row = await insertExport(env, {
      filters: { ...RANGE },
      fields: COLUMNS.map(([name]) => name),
      timeFormat: "with_timezone",
      timeZoneName: null,
      callbackUrl: null,
      customerAccountId: Number(fx.t.account.id),
    });
    await env.DB.prepare("UPDATE cdr_exports SET status = 'Failed' WHERE id = ?").bind(row.id).run();
    const res = await customer(fx.t.auth, "GET", `/cdr-exports/${row.uuid}/download`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("");
  });

  it("answers 500 Internal Server Error when the stored file is missing", async () => {
    const row = await insertExport(env, {
      filters: { ...RANGE },
      fields: COLUMNS.map(([name]) => name),
      timeFormat: "with_timezone",
      timeZoneName: null,
      callbackUrl: null,
      customerAccountId: Number(fx.t.account.id),
    });
    await env.DB.prepare(
      "UPDATE cdr_exports SET status = 'Completed', rows_count = 0, object_key = ? WHERE id = ?",
    )
      .bind(`exports/${row.uuid}.csv.gz`, row.id)
      .run();
    const res = await customer(fx.t.auth, "GET", `/cdr-exports/${row.uuid}/download`);
    expect(res.status).toBe(500);
    const body = await json<{ errors: { detail: string }[] }>(res);
    expect(body.errors[0]?.detail).toBe("Internal Server Error");
  });

  it("answers 404 Record not found for another customer's export", async () => {
    const { id } = await runExport(fx.t.auth, fx.t.accountUuid, { filters: { ...RANGE } });
    const res = await customer(other.auth, "GET", `/cdr-exports/${id}/download`);
    expect(res.status).toBe(404);
    const body = await json<{ errors: { title: string }[] }>(res);
    expect(body.errors[0]?.title).toBe("Record not found");
  });
});
