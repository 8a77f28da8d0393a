// CDR ingestion (operator API `POST /cdrs`, NDJSON): validation of every line before anything is written,
// idempotency by uuid, exact timestamps and decimals as written.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { insertCdrs, parseNdjson } from "../src/cdrs/ingest";
import { json, tenant } from "./helpers/api";
import { type CdrInput, type IngestMeta, micros, ndjson, postCdrs } from "./helpers/cdrs";

type ErrorDoc = { errors: { status: string; title: string; detail: string; source?: { pointer: string } }[] };

function cdr(overrides: CdrInput = {}): CdrInput {
  return { uuid: crypto.randomUUID(), time_start: "2025-02-03T10:00:00Z", ...overrides };
}

async function stored(uuids: unknown[]): Promise<Record<string, unknown>[]> {
  const { results } = await env.DB.prepare(
    "SELECT * FROM cdrs WHERE uuid IN (SELECT value FROM json_each(?)) ORDER BY id",
  )
    .bind(JSON.stringify(uuids))
    .all();
  return results;
}

async function ingestOk(body: string): Promise<IngestMeta> {
  const res = await postCdrs(body);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await json<{ meta: IngestMeta }>(res)).meta;
}

async function ingest422(body: string): Promise<ErrorDoc["errors"]> {
  const res = await postCdrs(body);
  expect(res.status).toBe(422);
  expect(res.headers.get("Content-Type")).toBe("application/vnd.api+json");
  return (await json<ErrorDoc>(res)).errors;
}

describe("POST /api/rest/admin/cdrs: validation", () => {
  it("answers 422 naming the line of invalid JSON", async () => {
    const errors = await ingest422(`${JSON.stringify(cdr())}\n{"uuid": "x",\n`);
    expect(errors).toEqual([
      {
        status: "422",
        title: "is not valid JSON",
        detail: "line 2: is not valid JSON",
        source: { pointer: "/2" },
      },
    ]);
  });

  it("counts blank lines and CRLF line ends in the line numbers", async () => {
    const errors = await ingest422(`${JSON.stringify(cdr())}\r\n\r\n[1,2]\r\n`);
    expect(errors.map((e) => e.detail)).toEqual(["line 3: is not a JSON object"]);
  });

  it("answers 422 naming the line and column of a bad value", async () => {
    const body = ndjson([
      cdr(),
      cdr(),
      cdr({ duration: "sixty" }),
      cdr({ success: "maybe", auth_orig_ip: "999.1.1.1", customer_price: "1,5" }),
    ]);
    const errors = await ingest422(body);
    expect(errors).toEqual([
      {
        status: "422",
        title: "is not an integer",
        detail: "line 3: duration - is not an integer",
        source: { pointer: "/3/duration" },
      },
      {
        status: "422",
        title: "is not a boolean",
        detail: "line 4: success - is not a boolean",
        source: { pointer: "/4/success" },
      },
      {
        status: "422",
        title: "is not an IP address",
        detail: "line 4: auth_orig_ip - is not an IP address",
        source: { pointer: "/4/auth_orig_ip" },
      },
      {
        status: "422",
        title: "is not a decimal",
        detail: "line 4: customer_price - is not a decimal",
        source: { pointer: "/4/customer_price" },
      },
    ]);
  });

  it("answers 422 for an unknown column", async () => {
    const errors = await ingest422(ndjson([cdr({ colour: "red" })]));
    expect(errors.map((e) => [e.detail, e.source?.pointer])).toEqual([
      ["line 1: colour - is not a CDR column", "/1/colour"],
    ]);
  });

  it("answers 422 for a missing or null uuid and time_start", async () => {
    const errors = await ingest422(
      ndjson([{ duration: 1 }, { uuid: null, time_start: null }, { uuid: "not-a-uuid", time_start: "x" }]),
    );
    expect(errors.map((e) => e.detail)).toEqual([
      "line 1: uuid - can't be blank",
      "line 1: time_start - can't be blank",
      "line 2: uuid - can't be blank",
      "line 2: time_start - can't be blank",
      "line 3: uuid - is not a uuid",
      "line 3: time_start - is not a timestamp with a zone (RFC 3339 or PostgreSQL text)",
    ]);
  });

  it("rejects timestamps without a zone or seconds, with 7 fraction digits, or not on the calendar", async () => {
    const bad = [
      "2025-02-03 10:00:00",
      "2025-02-03T10:00Z",
      "2025-02-03T10:00:00.1234567Z",
      "2025-02-30T10:00:00Z",
      "2025-02-03T24:00:00Z",
      "1738576800",
    ];
    const errors = await ingest422(ndjson(bad.map((time_start) => cdr({ time_start }))));
    expect(errors.map((e) => e.detail)).toEqual(
      bad.map(
        (_, i) => `line ${i + 1}: time_start - is not a timestamp with a zone (RFC 3339 or PostgreSQL text)`,
      ),
    );
  });

  it("writes nothing when any line is bad", async () => {
    const good = [cdr(), cdr(), cdr()];
    const errors = await ingest422(ndjson([...good, cdr({ duration: 1.5 })]));
    expect(errors.map((e) => e.detail)).toEqual(["line 4: duration - is not an integer"]);
    expect(await stored(good.map((r) => r.uuid))).toEqual([]);
  });

  it("answers 415 to another Content-Type, and to none", async () => {
    const body = ndjson([cdr()]);
    for (const type of ["application/json", "text/plain", "application/vnd.api+json", null]) {
      const res = await postCdrs(body, type);
      expect(res.status).toBe(415);
      const { errors } = await json<ErrorDoc>(res);
      expect(errors[0]?.status).toBe("415");
    }
  });

  it("accepts application/x-ndjson with parameters", async () => {
    const meta = await ingestOk(ndjson([cdr()]).replace(/\n$/, ""));
    expect(meta.inserted).toBe(1);
    const res = await postCdrs(ndjson([cdr()]), "Application/X-NDJSON; charset=utf-8");
    expect(res.status).toBe(200);
  });

  it("requires the operator token", async () => {
    const body = ndjson([cdr()]);
    const t = await tenant();
    for (const auth of [null, "Bearer wrong-token", t.auth, "test-admin-token"]) {
      const res = await postCdrs(body, undefined, auth);
      expect(res.status).toBe(401);
    }
  });
});

describe("POST /api/rest/admin/cdrs: storing", () => {
  it("is idempotent by uuid: the same batch again inserts nothing", async () => {
    const batch = [cdr(), cdr(), cdr()];
    expect(await ingestOk(ndjson(batch))).toEqual({ received: 3, inserted: 3, "already-present": 0 });
    expect(await ingestOk(ndjson(batch))).toEqual({ received: 3, inserted: 0, "already-present": 3 });
    const mixed = [...batch.slice(0, 2), cdr()];
    expect(await ingestOk(ndjson(mixed))).toEqual({ received: 3, inserted: 1, "already-present": 2 });
    expect(await stored([...batch, ...mixed].map((r) => r.uuid))).toHaveLength(4);
  });

  it("answers 422 to a body without CDRs (empty, or blank lines only)", async () => {
    for (const body of ["", "\n", " \r\n\n"]) {
      expect(await ingest422(body)).toEqual([
        {
          status: "422",
          title: "holds no CDR: send one JSON object a line",
          detail: "line 1: holds no CDR: send one JSON object a line",
          source: { pointer: "/1" },
        },
      ]);
    }
  });

  it("refuses an id already used by a CDR with another uuid, writing nothing", async () => {
    const first = cdr();
    await ingestOk(ndjson([first]));
    const [row] = await stored([first.uuid]);
    const fresh = cdr();
    const res = await postCdrs(ndjson([fresh, cdr({ id: row?.id })]));
    expect(res.status).toBe(422);
    expect((await json<ErrorDoc>(res)).errors[0]?.detail).toBe(
      "id - is already used by a CDR with another uuid",
    );
    expect(await stored([fresh.uuid])).toEqual([]);
  });

  it("stores 5,000 CDRs sent in one request", async () => {
    const t = await tenant();
    const account = Number(t.account.id);
    const batch = Array.from({ length: 5000 }, (_, i) =>
      cdr({
        customer_acc_id: account,
        time_start: `2025-02-03T10:${String(Math.floor(i / 100) % 60).padStart(2, "0")}:00.${String(i).padStart(6, "0")}Z`,
        duration: i,
        src_name_in: `caller ${i} ☎`,
        lega_user_agent: "x".repeat(200),
      }),
    );
    expect(await ingestOk(ndjson(batch))).toEqual({ received: 5000, inserted: 5000, "already-present": 0 });
    const counted = await env.DB.prepare(
      "SELECT count(*) AS n, sum(duration) AS total FROM cdrs WHERE customer_acc_id = ?",
    )
      .bind(account)
      .first<{ n: number; total: number }>();
    expect(counted).toEqual({ n: 5000, total: (4999 * 5000) / 2 });
  });

  it("stores RFC 3339 and PostgreSQL timestamps (up to 6 fraction digits, any offset) exactly", async () => {
    const forms = [
      "2025-02-03T22:21:32Z",
      "2025-02-03T22:21:32.118457Z",
      "2025-02-03t22:21:32.5z",
      "2025-02-03T22:21:32.118457+02:00",
      "2025-02-03 22:21:32.118457+02",
      "2025-02-03 22:21:32.000001+05:30",
      "2025-02-03 22:21:32.12-0330",
      "2025-02-03 22:21:32.999999-03:30",
      "1970-01-01 00:00:00.000001+00",
      "1969-12-31 23:59:59.999999+00",
    ];
    const batch = forms.map((time) => cdr({ time_start: time, time_connect: time, time_end: time }));
    await ingestOk(ndjson(batch));
    const rows = await stored(batch.map((r) => r.uuid));
    const expected = [
      micros("2025-02-03T22:21:32Z"),
      1738621292118457,
      1738621292500000,
      1738614092118457,
      1738614092118457,
      micros("2025-02-03T16:51:32.000001Z"),
      micros("2025-02-04T01:51:32.12Z"),
      micros("2025-02-04T01:51:32.999999Z"),
      1,
      -1,
    ];
    expect(rows.map((r) => r.time_start)).toEqual(expected);
    expect(rows.map((r) => r.time_connect)).toEqual(expected);
    expect(rows.map((r) => r.time_end)).toEqual(expected);
  });

  it("keeps decimals as written, from strings or numbers", async () => {
    const batch = [
      cdr({
        destination_initial_rate: "0.0100",
        destination_next_rate: 0.02,
        destination_fee: 5,
        customer_price: "-0",
      }),
      cdr({
        destination_initial_rate: "12345678901234567890.12345678901234567890",
        destination_next_rate: "7",
        destination_fee: "0.000000",
        customer_price: 1.25,
      }),
    ];
    await ingestOk(ndjson(batch));
    const { results } = await env.DB.prepare(
      `SELECT destination_initial_rate AS a, typeof(destination_initial_rate) AS ta, destination_next_rate AS b,
              destination_fee AS c, customer_price AS d, typeof(customer_price) AS td
       FROM cdrs WHERE uuid IN (?, ?) ORDER BY id`,
    )
      .bind(batch[0]?.uuid, batch[1]?.uuid)
      .all();
    expect(results).toEqual([
      { a: "0.0100", ta: "text", b: "0.02", c: "5", d: "-0", td: "text" },
      {
        a: "12345678901234567890.12345678901234567890",
        ta: "text",
        b: "7",
        c: "0.000000",
        d: "1.25",
        td: "text",
      },
    ]);
  });

  it("stores booleans, integers given as strings, NULLs and empty strings as given", async () => {
    const batch = [
      cdr({ success: "t", is_last_cdr: false, duration: "42", src_name_in: "", dst_prefix_in: null }),
      cdr({
        success: "false",
        is_last_cdr: "true",
        duration: -1,
        src_name_in: 'a "b", c\nd',
        diversion_in: "€",
      }),
    ];
    await ingestOk(ndjson(batch));
    const rows = await stored(batch.map((r) => r.uuid));
    expect(
      rows.map((r) => [r.success, r.is_last_cdr, r.duration, r.src_name_in, r.dst_prefix_in, r.diversion_in]),
    ).toEqual([
      [1, 0, 42, "", null, null],
      [0, 1, -1, 'a "b", c\nd', null, "€"],
    ]);
  });
});

describe("insertCdrs", () => {
  it("keeps every statement's JSON under D1's 2 MB value limit, counting UTF-8 bytes", async () => {
    // 3-byte characters: 900,000 UTF-16 units of them would be 2.7 MB.
    const text = "電".repeat(1000);
    const { rows, problems } = parseNdjson(
      ndjson(Array.from({ length: 2000 }, () => cdr({ src_name_in: text }))),
    );
    expect(problems).toEqual([]);
    const sizes: number[] = [];
    const db = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare") {
          return (sql: string) => {
            const statement = target.prepare(sql);
            return new Proxy(statement, {
              get(s, p) {
                if (p === "bind") {
                  return (...values: unknown[]) => {
                    for (const v of values)
                      if (typeof v === "string") sizes.push(new TextEncoder().encode(v).length);
                    return s.bind(...values);
                  };
                }
                const value = Reflect.get(s, p);
                return typeof value === "function" ? value.bind(s) : value;
              },
            });
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const result = await insertCdrs({ ...env, DB: db } as Env, rows);
    expect(result).toEqual({ inserted: 2000, present: 0 });
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(1_000_000);
  });
});
