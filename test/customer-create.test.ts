// Customer API v1: POST /cdr-exports, the published example, Yeti's 422s and the request-frame 400/413/415s.
import { describe, expect, it } from "vitest";
import {
  CUSTOMER,
  call,
  createAccount,
  createBody,
  createContractor,
  customer,
  exportCount,
  JSON_API,
  json,
  SECURITY_HEADERS,
  type Tenant,
  tenant,
  waitForExport,
} from "./helpers/api";

type ErrorDoc = {
  errors: Array<{ status: string; title: string; detail?: string; source?: { pointer?: string } }>;
};

// biome-ignore lint/suspicious/noExplicitAny: response documents are checked field by field
type Doc = { data: Record<string, any> };

const RANGE = { time_start_gteq: "2019-01-01 00:00:00", time_start_lt: "2019-01-02 00:00:00" };

function problem(key: string, message: string, pointer: string) {
  return { status: "422", title: message, detail: `${key} - ${message}`, source: { pointer } };
}

const FILTERS = "/data/attributes/filters";
const ACCOUNT = "/data/relationships/account";

async function post(t: Tenant, body: unknown) {
  return customer(t.auth, "POST", "/cdr-exports", body);
}

/** Posts, expects 422, and checks that nothing was stored. */
async function rejected(t: Tenant, body: unknown) {
  const before = await exportCount(t.auth);
  const res = await post(t, body);
  const text = await res.clone().text();
  expect(res.status, text).toBe(422);
  expect(res.headers.get("Content-Type")).toBe(JSON_API);
  expect(await exportCount(t.auth)).toBe(before);
  return ((await res.json()) as ErrorDoc).errors;
}

/** Sends a raw body with the headers given; expects `status` and an unchanged export count. */
async function refused(t: Tenant, status: number, body: BodyInit, headers: Record<string, string> = {}) {
  const before = await exportCount(t.auth);
  const res = await call(`${CUSTOMER}/cdr-exports`, {
    method: "POST",
    headers: { Authorization: t.auth, "Content-Type": JSON_API, ...headers },
    body,
  });
  const text = await res.clone().text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("Content-Type")).toBe(JSON_API);
  expect(await exportCount(t.auth)).toBe(before);
  const errors = ((await res.json()) as ErrorDoc).errors;
  expect(errors.length).toBeGreaterThan(0);
  for (const e of errors) expect(e.status).toBe(String(status));
  return errors;
}

describe("POST /cdr-exports: the published example", () => {
  it("answers the published example with a 201 of the same shape", async () => {
    const t = await tenant();
    const res = await post(t, {
      data: {
        type: "cdr-exports",
        attributes: {
          filters: {
            time_start_gteq: "2019-01-01 00:00:00",
            time_start_lt: "2019-01-02 00:00:00",
            success_eq: true,
            duration_eq: 60,
            duration_gteq: 0,
            duration_lteq: 100,
            src_prefix_routing_eq: "123",
            dst_prefix_routing_eq: "456",
          },
        },
        relationships: { account: { data: { type: "accounts", id: t.accountUuid } } },
      },
    });
    const text = await res.clone().text();
    expect(res.status, text).toBe(201);
    expect(res.headers.get("Content-Type")).toBe("application/vnd.api+json");
    const body = await json<Doc>(res);
    const id = body.data.id;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(body.data.type).toBe("cdr-exports");
    expect(body.data.links).toEqual({ self: `http://example.org/api/rest/customer/v1/cdr-exports/${id}` });
    expect(body.data.attributes.filters).toEqual({
      time_start_gteq: "2019-01-01T00:00:00.000Z",
      time_start_lt: "2019-01-02T00:00:00.000Z",
      success_eq: true,
      duration_eq: 60,
      duration_gteq: 0,
      duration_lteq: 100,
      src_prefix_routing_eq: "123",
      dst_prefix_routing_eq: "456",
    });
    // The echo keeps the order in which the filters were sent, as the example shows.
    expect(Object.keys(body.data.attributes.filters)).toEqual([
      "time_start_gteq",
      "time_start_lt",
      "success_eq",
      "duration_eq",
      "duration_gteq",
      "duration_lteq",
      "src_prefix_routing_eq",
      "dst_prefix_routing_eq",
    ]);
    expect(body.data.attributes.status).toBe("Pending");
    expect(body.data.attributes["rows-count"]).toBeNull();
    expect(body.data.attributes["created-at"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(body.data.attributes["updated-at"]).toBe(body.data.attributes["created-at"]);
    expect(Math.abs(Date.parse(body.data.attributes["created-at"]) - Date.now())).toBeLessThan(60_000);
    expect(body.data.attributes["time-format"]).toBe("with_timezone");
    expect(body.data.attributes["time-zone-name"]).toBeNull();
    expect(body.data.relationships.account).toEqual({
      links: {
        self: `http://example.org/api/rest/customer/v1/cdr-exports/${id}/relationships/account`,
        related: `http://example.org/api/rest/customer/v1/cdr-exports/${id}/account`,
      },
    });
  });

  it("sends the example's response headers: security headers, no-cache, Vary and a request id", async () => {
    const t = await tenant();
    const res = await post(t, createBody(t.accountUuid));
    expect(res.status).toBe(201);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name)).toBe(value);
    expect(res.headers.get("Cache-Control")).toBe("max-age=0, private, must-revalidate");
    expect(res.headers.get("Vary")).toContain("Accept");
    expect(res.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("stores the export: show and list return it with the same attributes", async () => {
    const t = await tenant();
    const created = await json<Doc>(await post(t, createBody(t.accountUuid)));
    const shown = await customer(t.auth, "GET", `/cdr-exports/${created.data.id}`);
    expect(shown.status).toBe(200);
    const body = await json<Doc>(shown);
    expect(body.data.id).toBe(created.data.id);
    expect(body.data.attributes.filters).toEqual(created.data.attributes.filters);
    expect(body.data.attributes["created-at"]).toBe(created.data.attributes["created-at"]);
    expect(await exportCount(t.auth)).toBe(1);
  });

  it("sends a queue message: the background consumer takes the new export out of Pending", async () => {
    const t = await tenant();
    const created = await json<Doc>(await post(t, createBody(t.accountUuid)));
    const attributes = await waitForExport(t.auth, created.data.id, (a) => a.status !== "Pending");
    // No CDRs exist for a fresh account: the export completes with an empty file.
    expect(attributes.status).toBe("Completed");
    expect(attributes["rows-count"]).toBe(0);
  });
});

describe("POST /cdr-exports: attributes", () => {
  it.each(["with_timezone", "without_timezone", "round_to_seconds"])(
    "accepts time-format %s and echoes it",
    async (format) => {
      const t = await tenant();
      const res = await post(t, createBody(t.accountUuid, { "time-format": format }));
      expect(res.status).toBe(201);
      expect((await json<Doc>(res)).data.attributes["time-format"]).toBe(format);
    },
  );

  it.each(["Europe/Kyiv", "UTC", "Asia/Kolkata", "America/New_York"])(
    "accepts time-zone-name %s and echoes it",
    async (zone) => {
      const t = await tenant();
      const res = await post(t, createBody(t.accountUuid, { "time-zone-name": zone }));
      expect(res.status).toBe(201);
      expect((await json<Doc>(res)).data.attributes["time-zone-name"]).toBe(zone);
    },
  );

  it("treats an empty or null time-zone-name as UTC (null)", async () => {
    const t = await tenant();
    for (const zone of ["", null]) {
      const res = await post(t, createBody(t.accountUuid, { "time-zone-name": zone }));
      expect(res.status).toBe(201);
      expect((await json<Doc>(res)).data.attributes["time-zone-name"]).toBeNull();
    }
  });

  it("normalises filter times to UTC with milliseconds, honouring a given offset", async () => {
    const t = await tenant();
    const res = await post(
      t,
      createBody(t.accountUuid, {
        filters: { time_start_gteq: "2019-01-01T00:00:00+02:00", time_start_lt: "2019-01-02" },
      }),
    );
    expect(res.status).toBe(201);
    expect((await json<Doc>(res)).data.attributes.filters).toEqual({
      time_start_gteq: "2018-12-31T22:00:00.000Z",
      time_start_lt: "2019-01-02T00:00:00.000Z",
    });
  });

  it("reads a time without a zone as UTC and keeps milliseconds", async () => {
    const t = await tenant();
    const res = await post(
      t,
      createBody(t.accountUuid, {
        filters: { time_start_gteq: "2019-01-01T10:20:30.456", time_start_lt: "2019-01-01T23:59:59Z" },
      }),
    );
    expect(res.status).toBe(201);
    expect((await json<Doc>(res)).data.attributes.filters).toEqual({
      time_start_gteq: "2019-01-01T10:20:30.456Z",
      time_start_lt: "2019-01-01T23:59:59.000Z",
    });
  });

  it("accepts an account of the API access's allowed list", async () => {
    const t = await tenant({ restrictToFirstAccount: true });
    const res = await post(t, createBody(t.accountUuid));
    expect(res.status).toBe(201);
  });
});

describe("POST /cdr-exports: 422 validation errors (Yeti's messages)", () => {
  it("no account relationship: account - can't be blank", async () => {
    const t = await tenant();
    expect(await rejected(t, createBody(null))).toEqual([problem("account", "can't be blank", ACCOUNT)]);
  });

  it("account relationship with null data: account - can't be blank", async () => {
    const t = await tenant();
    const body = createBody(null) as { data: Record<string, unknown> };
    body.data.relationships = { account: { data: null } };
    expect(await rejected(t, body)).toEqual([problem("account", "can't be blank", ACCOUNT)]);
  });

  it("account of another customer: account - is invalid", async () => {
    const t = await tenant();
    const stranger = await tenant();
    expect(await rejected(t, createBody(stranger.accountUuid))).toEqual([
      problem("account", "is invalid", ACCOUNT),
    ]);
  });

  it("account of a contractor that is not a customer: account - is invalid", async () => {
    const t = await tenant();
    const vendor = await createContractor({ customer: false, vendor: true });
    const account = await createAccount(vendor.id);
    expect(await rejected(t, createBody(account.attributes.uuid as string))).toEqual([
      problem("account", "is invalid", ACCOUNT),
    ]);
  });

  it("account outside the API access's allowed account-ids: account - is invalid", async () => {
    const t = await tenant({ restrictToFirstAccount: true });
    expect(await rejected(t, createBody(t.otherAccountUuid))).toEqual([
      problem("account", "is invalid", ACCOUNT),
    ]);
  });

  it("unknown account uuid or wrong linkage type: account - is invalid", async () => {
    const t = await tenant();
    expect(await rejected(t, createBody(crypto.randomUUID()))).toEqual([
      problem("account", "is invalid", ACCOUNT),
    ]);
    const body = createBody(null) as { data: Record<string, unknown> };
    body.data.relationships = { account: { data: { type: "contractors", id: t.accountUuid } } };
    expect(await rejected(t, body)).toEqual([problem("account", "is invalid", ACCOUNT)]);
  });

  it("no filters: filters - can't be blank", async () => {
    const t = await tenant();
    const body = createBody(t.accountUuid) as { data: { attributes: Record<string, unknown> } };
    delete body.data.attributes.filters;
    expect(await rejected(t, body)).toEqual([problem("filters", "can't be blank", FILTERS)]);
  });

  it("empty filters object: filters - can't be blank", async () => {
    const t = await tenant();
    expect(await rejected(t, createBody(t.accountUuid, { filters: {} }))).toEqual([
      problem("filters", "can't be blank", FILTERS),
    ]);
  });

  it("missing time_start_gteq: filters - requires time_start_gteq", async () => {
    const t = await tenant();
    const filters = { time_start_lt: RANGE.time_start_lt };
    expect(await rejected(t, createBody(t.accountUuid, { filters }))).toEqual([
      problem("filters", "requires time_start_gteq", FILTERS),
    ]);
  });

  it("missing time_start_lt: filters - requires time_start_lt", async () => {
    const t = await tenant();
    const filters = { time_start_gteq: RANGE.time_start_gteq };
    expect(await rejected(t, createBody(t.accountUuid, { filters }))).toEqual([
      problem("filters", "requires time_start_lt", FILTERS),
    ]);
  });

  it("both time filters missing: both errors come back", async () => {
    const t = await tenant();
    expect(await rejected(t, createBody(t.accountUuid, { filters: { success_eq: true } }))).toEqual([
      problem("filters", "requires time_start_gteq", FILTERS),
      problem("filters", "requires time_start_lt", FILTERS),
    ]);
  });

  it("filters outside the list: names listed in the order sent", async () => {
    const t = await tenant();
    const filters = { ...RANGE, customer_id_eq: 1, customer_acc_id_eq: 2 };
    expect(await rejected(t, createBody(t.accountUuid, { filters }))).toEqual([
      problem("filters", "customer_id_eq, customer_acc_id_eq not allowed", FILTERS),
    ]);
    const reversed = { customer_acc_id_eq: 2, ...RANGE, vendor_id_eq: 3, customer_id_eq: 1 };
    expect(await rejected(t, createBody(t.accountUuid, { filters: reversed }))).toEqual([
      problem("filters", "customer_acc_id_eq, vendor_id_eq, customer_id_eq not allowed", FILTERS),
    ]);
  });

  it("unknown time zone: time-zone-name - is not included in the list", async () => {
    const t = await tenant();
    for (const zone of ["Mars/Olympus_Mons", "+02:00", 3]) {
      expect(await rejected(t, createBody(t.accountUuid, { "time-zone-name": zone }))).toEqual([
        problem("time-zone-name", "is not included in the list", "/data/attributes/time-zone-name"),
      ]);
    }
  });

  it("unknown time format: time-format - is not included in the list: <the three>", async () => {
    const t = await tenant();
    expect(await rejected(t, createBody(t.accountUuid, { "time-format": "iso8601" }))).toEqual([
      problem(
        "time-format",
        "is not included in the list: with_timezone, without_timezone, round_to_seconds",
        "/data/attributes/time-format",
      ),
    ]);
  });

  it("an unparseable filter value is a 422 on filters", async () => {
    const t = await tenant();
    const filters = { time_start_gteq: "yesterday", time_start_lt: RANGE.time_start_lt, duration_eq: "x" };
    const errors = await rejected(t, createBody(t.accountUuid, { filters }));
    expect(errors.map((e) => e.source?.pointer)).toEqual([FILTERS, FILTERS]);
    expect(errors.map((e) => e.detail)).toEqual([
      "filters - time_start_gteq is invalid",
      "filters - duration_eq is invalid",
    ]);
  });

  it("reports several problems at once, one error object each", async () => {
    const t = await tenant();
    const errors = await rejected(t, {
      data: {
        type: "cdr-exports",
        attributes: {
          filters: { customer_id_eq: 1 },
          "time-format": "nope",
          "time-zone-name": "Nowhere/Town",
        },
      },
    });
    expect(errors).toEqual([
      problem("account", "can't be blank", ACCOUNT),
      problem("filters", "requires time_start_gteq", FILTERS),
      problem("filters", "requires time_start_lt", FILTERS),
      problem("filters", "customer_id_eq not allowed", FILTERS),
      problem("time-zone-name", "is not included in the list", "/data/attributes/time-zone-name"),
      problem(
        "time-format",
        "is not included in the list: with_timezone, without_timezone, round_to_seconds",
        "/data/attributes/time-format",
      ),
    ]);
  });
});

describe("POST /cdr-exports: malformed requests are refused before validation", () => {
  it("malformed JSON: 400", async () => {
    const t = await tenant();
    const [error] = await refused(t, 400, '{"data": {"type": "cdr-exports",');
    expect(error?.title).toBe("Bad Request");
    expect(error?.detail).toBe("The request body is not valid JSON.");
  });

  it("a body that is not a JSON object: 400", async () => {
    const t = await tenant();
    for (const body of ["[1,2]", '"cdr-exports"', "null", "42"]) {
      const [error] = await refused(t, 400, body);
      expect(error?.detail).toBe("The request body must be a JSON object.");
    }
  });

  it("no data member: 400 Missing Parameter", async () => {
    const t = await tenant();
    const [error] = await refused(t, 400, JSON.stringify({ type: "cdr-exports" }));
    expect(error).toMatchObject({ title: "Missing Parameter", source: { pointer: "/data" } });
  });

  it("wrong data.type: 400 Invalid resource", async () => {
    const t = await tenant();
    const body = createBody(t.accountUuid) as { data: Record<string, unknown> };
    body.data.type = "accounts";
    const errors = await refused(t, 400, JSON.stringify(body));
    expect(errors).toEqual([
      {
        status: "400",
        title: "Invalid resource",
        detail: "accounts is not a valid resource.",
        source: { pointer: "/data/type" },
      },
    ]);
  });

  it("an attribute the customer may not write (status): 400 Param not allowed", async () => {
    const t = await tenant();
    const errors = await refused(t, 400, JSON.stringify(createBody(t.accountUuid, { status: "Completed" })));
    expect(errors).toEqual([
      {
        status: "400",
        title: "Param not allowed",
        detail: "status is not allowed.",
        source: { pointer: "/data/attributes/status" },
      },
    ]);
  });

  it("an unknown relationship: 400 Param not allowed", async () => {
    const t = await tenant();
    const body = createBody(t.accountUuid) as { data: { relationships: Record<string, unknown> } };
    body.data.relationships.customer = { data: { type: "contractors", id: "1" } };
    const [error] = await refused(t, 400, JSON.stringify(body));
    expect(error).toMatchObject({
      title: "Param not allowed",
      detail: "customer is not allowed.",
      source: { pointer: "/data/relationships/customer" },
    });
  });

  it("a Content-Type other than JSON:API: 415", async () => {
    const t = await tenant();
    const body = JSON.stringify(createBody(t.accountUuid));
    const [error] = await refused(t, 415, body, { "Content-Type": "text/plain" });
    expect(error?.title).toBe("Unsupported media type");
    await refused(t, 415, body, { "Content-Type": "application/x-www-form-urlencoded" });
  });

  it("a body over 1 MiB: 413", async () => {
    const t = await tenant();
    const body = JSON.stringify(createBody(t.accountUuid, { padding: "x".repeat(1024 * 1024) }));
    const [error] = await refused(t, 413, body);
    expect(error?.title).toBe("Payload Too Large");
  });

  it("a body over 1 MiB sent as a stream without Content-Length: 413", async () => {
    const t = await tenant();
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 20) controller.enqueue(chunk);
        else controller.close();
      },
    });
    await refused(t, 413, stream);
  });
});
