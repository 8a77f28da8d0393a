// Customer API v1: GET /cdr-exports (order, paging, sort, filters), show, include and the account relationship.
import { beforeAll, describe, expect, it } from "vitest";
import {
  admin,
  CUSTOMER,
  call,
  createBody,
  customer,
  JSON_API,
  json,
  list,
  SECURITY_HEADERS,
  seedExport,
  seedExports,
  type Tenant,
  tenant,
} from "./helpers/api";

// biome-ignore lint/suspicious/noExplicitAny: response documents are checked field by field
type Doc = { data: Record<string, any>; included?: Array<Record<string, any>> };
type ErrorDoc = {
  errors: Array<{ status: string; title: string; detail?: string; source?: Record<string, string> }>;
};

const at = (iso: string) => Date.parse(iso);

async function errorsOf(res: Response, status: number) {
  expect(res.status, await res.clone().text()).toBe(status);
  expect(res.headers.get("Content-Type")).toBe(JSON_API);
  return ((await res.json()) as ErrorDoc).errors;
}

function pageOf(link: string | undefined) {
  expect(link).toBeDefined();
  const url = new URL(link as string);
  expect(`${url.origin}${url.pathname}`).toBe(`${CUSTOMER}/cdr-exports`);
  return { number: url.searchParams.get("page[number]"), size: url.searchParams.get("page[size]"), url };
}

describe("GET /cdr-exports: order and paging", () => {
  it("lists the caller's exports newest first, with meta.total-count and first/last links", async () => {
    const t = await tenant();
    const old = await seedExport(t.accountId, { createdAt: at("2024-01-01T00:00:00Z") });
    const mid = await seedExport(t.otherAccountId, { createdAt: at("2024-02-01T00:00:00Z") });
    const created = await json<Doc>(
      await customer(t.auth, "POST", "/cdr-exports", createBody(t.accountUuid)),
    );
    const { res, body } = await list(t.auth);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe(JSON_API);
    expect(body.data.map((d) => d.id)).toEqual([created.data.id, mid.uuid, old.uuid]);
    expect(body.data.every((d) => d.type === "cdr-exports")).toBe(true);
    expect(body.meta).toEqual({ "total-count": 3 });
    expect(pageOf(body.links.first)).toMatchObject({ number: "1", size: "50" });
    expect(pageOf(body.links.last)).toMatchObject({ number: "1", size: "50" });
    expect(body.links.next).toBeUndefined();
    expect(body.links.prev).toBeUndefined();
  });

  it("renders list items like show: attributes, self link and account relationship links", async () => {
    const t = await tenant();
    const row = await seedExport(t.accountId, {
      status: "Completed",
      rowsCount: 7,
      createdAt: at("2024-03-04T05:06:07.089Z"),
      updatedAt: at("2024-03-04T05:07:00.000Z"),
      timeFormat: "round_to_seconds",
      timeZoneName: "Europe/Kyiv",
    });
    const { body } = await list(t.auth);
    const self = `${CUSTOMER}/cdr-exports/${row.uuid}`;
    expect(body.data[0]).toEqual({
      id: row.uuid,
      type: "cdr-exports",
      links: { self },
      attributes: {
        filters: row.filters,
        status: "Completed",
        "rows-count": 7,
        "created-at": "2024-03-04T05:06:07.089Z",
        "updated-at": "2024-03-04T05:07:00.000Z",
        "time-format": "round_to_seconds",
        "time-zone-name": "Europe/Kyiv",
      },
      relationships: {
        account: { links: { self: `${self}/relationships/account`, related: `${self}/account` } },
      },
    });
  });

  it("an empty list still has links.first and links.last (page 1) and total-count 0", async () => {
    const t = await tenant();
    const { res, body } = await list(t.auth);
    expect(res.status).toBe(200);
    expect(body.data).toEqual([]);
    expect(body.meta["total-count"]).toBe(0);
    expect(pageOf(body.links.first).number).toBe("1");
    expect(pageOf(body.links.last).number).toBe("1");
  });

  it("pages with page[size] and page[number]: next/prev where they apply", async () => {
    const t = await tenant();
    const uuids = (await seedExports(t.accountId, 5)).reverse(); // newest first
    const first = await list(t.auth, "page[size]=2");
    expect(first.body.data.map((d) => d.id)).toEqual(uuids.slice(0, 2));
    expect(first.body.meta["total-count"]).toBe(5);
    expect(pageOf(first.body.links.first)).toMatchObject({ number: "1", size: "2" });
    expect(pageOf(first.body.links.next)).toMatchObject({ number: "2", size: "2" });
    expect(pageOf(first.body.links.last)).toMatchObject({ number: "3", size: "2" });
    expect(first.body.links.prev).toBeUndefined();

    const middle = await list(t.auth, "page[size]=2&page[number]=2");
    expect(middle.body.data.map((d) => d.id)).toEqual(uuids.slice(2, 4));
    expect(pageOf(middle.body.links.prev)).toMatchObject({ number: "1", size: "2" });
    expect(pageOf(middle.body.links.next)).toMatchObject({ number: "3", size: "2" });

    const last = await list(t.auth, "page[number]=3&page[size]=2");
    expect(last.body.data.map((d) => d.id)).toEqual(uuids.slice(4));
    expect(pageOf(last.body.links.prev)).toMatchObject({ number: "2", size: "2" });
    expect(last.body.links.next).toBeUndefined();

    const beyond = await list(t.auth, "page[number]=9&page[size]=2");
    expect(beyond.res.status).toBe(200);
    expect(beyond.body.data).toEqual([]);
    // The paged paginator does not clamp prev to the last page.
    expect(pageOf(beyond.body.links.prev).number).toBe("8");
  });

  it("page links keep the other query parameters (filters, sort)", async () => {
    const t = await tenant();
    await seedExports(t.accountId, 3);
    const { body } = await list(t.auth, "filter[status_eq]=Pending&sort=created-at&page[size]=1");
    const next = pageOf(body.links.next);
    expect(next.url.searchParams.get("filter[status_eq]")).toBe("Pending");
    expect(next.url.searchParams.get("sort")).toBe("created-at");
    expect(next.number).toBe("2");
  });

  it("pages 50 at a time by default and allows up to 1000", async () => {
    const t = await tenant();
    await seedExports(t.accountId, 51);
    const byDefault = await list(t.auth);
    expect(byDefault.body.data).toHaveLength(50);
    expect(byDefault.body.meta["total-count"]).toBe(51);
    expect(pageOf(byDefault.body.links.last)).toMatchObject({ number: "2", size: "50" });
    expect(pageOf(byDefault.body.links.next).number).toBe("2");
    const max = await list(t.auth, "page[size]=1000");
    expect(max.res.status).toBe(200);
    expect(max.body.data).toHaveLength(51);
  });

  it.each([
    ["page[size]=1001", "size exceeds maximum page size of 1000."],
    ["page[size]=0", "0 is not a valid value for size page parameter."],
    ["page[number]=0", "0 is not a valid value for number page parameter."],
    ["page[number]=abc", "0 is not a valid value for number page parameter."],
    ["page[size]=-3", "-3 is not a valid value for size page parameter."],
    ["page=0", "0 is not a valid value for number page parameter."],
  ])("%s: 400 Invalid page value", async (query, detail) => {
    const t = await tenant();
    const [error] = await errorsOf(await customer(t.auth, "GET", `/cdr-exports?${query}`), 400);
    expect(error).toEqual({ status: "400", code: "118", title: "Invalid page value", detail });
  });
});

describe("GET /cdr-exports: sort", () => {
  let t: Tenant;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    t = await tenant();
    ids.b = (
      await seedExport(t.accountId, { status: "Pending", createdAt: at("2024-02-01T00:00:00Z") })
    ).uuid;
    ids.a = (await seedExport(t.accountId, { status: "Failed", createdAt: at("2024-01-01T00:00:00Z") })).uuid;
    ids.c = (
      await seedExport(t.accountId, { status: "Completed", createdAt: at("2024-03-01T00:00:00Z") })
    ).uuid;
  });

  it("sort=-created-at: newest first", async () => {
    const { body } = await list(t.auth, "sort=-created-at");
    expect(body.data.map((d) => d.id)).toEqual([ids.c, ids.b, ids.a]);
  });

  it("sort=created-at: oldest first", async () => {
    const { body } = await list(t.auth, "sort=created-at");
    expect(body.data.map((d) => d.id)).toEqual([ids.a, ids.b, ids.c]);
  });

  it("sort=status: by status, ascending; sort=-status descending", async () => {
    const asc = await list(t.auth, "sort=status");
    expect(asc.body.data.map((d) => d.attributes.status)).toEqual(["Completed", "Failed", "Pending"]);
    const desc = await list(t.auth, "sort=-status");
    expect(desc.body.data.map((d) => d.attributes.status)).toEqual(["Pending", "Failed", "Completed"]);
  });

  it("an unknown sort attribute: 400 Invalid sort criteria", async () => {
    const [error] = await errorsOf(await customer(t.auth, "GET", "/cdr-exports?sort=-password"), 400);
    expect(error).toMatchObject({
      title: "Invalid sort criteria",
      detail: "password is not a valid sort criteria for cdr-exports",
    });
  });
});

describe("GET /cdr-exports: filters", () => {
  let t: Tenant;
  // e1..e5 by creation time; e2 and e4 have no time zone / rows count where noted.
  const e: Record<string, string> = {};
  beforeAll(async () => {
    t = await tenant();
    const seed = async (name: string, values: Parameters<typeof seedExport>[1], account = t.accountId) => {
      e[name] = (await seedExport(account, values)).uuid;
    };
    await seed("e1", {
      status: "Completed",
      rowsCount: 10,
      createdAt: at("2024-01-01T00:00:00Z"),
      updatedAt: at("2024-01-02T00:00:00Z"),
      timeFormat: "with_timezone",
      timeZoneName: "Europe/Kyiv",
    });
    await seed("e2", {
      status: "Failed",
      rowsCount: null,
      createdAt: at("2024-02-01T00:00:00Z"),
      updatedAt: at("2024-02-01T00:00:00Z"),
      timeFormat: "without_timezone",
      timeZoneName: null,
    });
    await seed(
      "e3",
      {
        status: "Pending",
        rowsCount: null,
        createdAt: at("2024-03-01T00:00:00Z"),
        updatedAt: at("2024-03-05T00:00:00Z"),
        timeFormat: "round_to_seconds",
        timeZoneName: "America/New_York",
      },
      t.otherAccountId,
    );
    await seed(
      "e4",
      {
        status: "Deleted",
        rowsCount: 500,
        createdAt: at("2024-04-01T00:00:00Z"),
        updatedAt: at("2024-04-02T00:00:00Z"),
        timeFormat: "with_timezone",
        timeZoneName: "Asia/Kolkata",
      },
      t.otherAccountId,
    );
    await seed("e5", {
      status: "Completed",
      rowsCount: 0,
      createdAt: at("2024-05-01T00:00:00Z"),
      updatedAt: at("2024-05-01T00:00:00Z"),
      timeFormat: "with_timezone",
      timeZoneName: "Europe/London",
    });
  });

  // Expected results, newest first (the default order).
  const cases: Array<[string, string[] | ((t: Tenant) => string), string[]]> = [
    ["status_eq=Completed", [], ["e5", "e1"]],
    ["status_not_eq=Completed", [], ["e4", "e3", "e2"]],
    ["status_in=Pending,Failed", [], ["e3", "e2"]],
    ["status_not_in=Pending,Failed", [], ["e5", "e4", "e1"]],
    ["rows_count_eq=10", [], ["e1"]],
    // not_eq / not_in follow SQL: rows whose value is NULL match neither.
    ["rows_count_not_eq=10", [], ["e5", "e4"]],
    ["rows_count_gt=0", [], ["e4", "e1"]],
    ["rows_count_gteq=10", [], ["e4", "e1"]],
    ["rows_count_lt=10", [], ["e5"]],
    ["rows_count_lteq=10", [], ["e5", "e1"]],
    ["rows_count_in=0,500", [], ["e5", "e4"]],
    ["rows_count_not_in=0,500", [], ["e1"]],
    ["created_at_eq=2024-02-01T00:00:00Z", [], ["e2"]],
    ["created_at_not_eq=2024-02-01T00:00:00Z", [], ["e5", "e4", "e3", "e1"]],
    ["created_at_gt=2024-03-01T00:00:00Z", [], ["e5", "e4"]],
    ["created_at_gteq=2024-03-01T00:00:00Z", [], ["e5", "e4", "e3"]],
    ["created_at_lt=2024-03-01T00:00:00Z", [], ["e2", "e1"]],
    ["created_at_lteq=2024-03-01T00:00:00Z", [], ["e3", "e2", "e1"]],
    ["created_at_in=2024-01-01T00:00:00Z,2024-05-01T00:00:00Z", [], ["e5", "e1"]],
    ["created_at_not_in=2024-01-01T00:00:00Z,2024-05-01T00:00:00Z", [], ["e4", "e3", "e2"]],
    ["created_at_gteq=2024-03-01T02:00:00%2B02:00", [], ["e5", "e4", "e3"]],
    ["updated_at_eq=2024-03-05T00:00:00Z", [], ["e3"]],
    ["updated_at_not_eq=2024-03-05T00:00:00Z", [], ["e5", "e4", "e2", "e1"]],
    ["updated_at_gt=2024-03-01", [], ["e5", "e4", "e3"]],
    ["updated_at_gteq=2024-04-02", [], ["e5", "e4"]],
    ["updated_at_lt=2024-02-01", [], ["e1"]],
    ["updated_at_lteq=2024-02-01", [], ["e2", "e1"]],
    ["updated_at_in=2024-01-02,2024-04-02", [], ["e4", "e1"]],
    ["updated_at_not_in=2024-01-02,2024-04-02", [], ["e5", "e3", "e2"]],
    ["time_zone_name_eq=Europe/Kyiv", [], ["e1"]],
    // A UTC export (no zone, NULL) is not "not Europe/Kyiv" in SQL.
    ["time_zone_name_not_eq=Europe/Kyiv", [], ["e5", "e4", "e3"]],
    ["time_zone_name_cont=rope", [], ["e5", "e1"]],
    ["time_zone_name_start=America", [], ["e3"]],
    ["time_zone_name_end=ata", [], ["e4"]],
    ["time_zone_name_in=Europe/Kyiv,Asia/Kolkata", [], ["e4", "e1"]],
    ["time_zone_name_not_in=Europe/Kyiv,Asia/Kolkata", [], ["e5", "e3"]],
    ["time_zone_name_cont_any=York,London", [], ["e5", "e3"]],
    // LIKE wildcards in the value are literal.
    ["time_zone_name_cont=%25", [], []],
    ["time_zone_name_cont=_", [], ["e3"]],
    ["account_id_eq=", (x) => x.accountUuid, ["e5", "e2", "e1"]],
    ["account_id_not_eq=", (x) => x.accountUuid, ["e4", "e3"]],
    ["account_id_in=", (x) => `${x.accountUuid},${x.otherAccountUuid}`, ["e5", "e4", "e3", "e2", "e1"]],
    ["account_id_not_in=", (x) => x.accountUuid, ["e4", "e3"]],
    ["time_format=with_timezone", [], ["e5", "e4", "e1"]],
    ["time_format=without_timezone,round_to_seconds", [], ["e3", "e2"]],
  ];

  it.each(cases)("filter[%s]", async (expr, value, expected) => {
    const [name, raw] = expr.split(/=(.*)/s) as [string, string];
    const query = `filter[${name}]=${typeof value === "function" ? value(t) : raw}`;
    const { res, body } = await list(t.auth, query);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.data.map((d) => Object.keys(e).find((k) => e[k] === d.id))).toEqual(expected);
    expect(body.meta["total-count"]).toBe(expected.length);
  });

  it("combines several filters with AND", async () => {
    const { body } = await list(t.auth, "filter[status_eq]=Completed&filter[rows_count_gt]=5");
    expect(body.data.map((d) => d.id)).toEqual([e.e1]);
  });

  it("an account_id of another customer matches nothing", async () => {
    const stranger = await tenant();
    await seedExport(stranger.accountId);
    const { res, body } = await list(t.auth, `filter[account_id_eq]=${stranger.accountUuid}`);
    expect(res.status).toBe(200);
    expect(body.data).toEqual([]);
  });

  it("filter[status_eq]=test: 400 Invalid filter value", async () => {
    const errors = await errorsOf(await customer(t.auth, "GET", "/cdr-exports?filter[status_eq]=test"), 400);
    expect(errors).toEqual([
      {
        status: "400",
        code: "107",
        title: "Invalid filter value",
        detail: "test is not a valid value for status_eq.",
      },
    ]);
  });

  it.each([
    // The whole value is named, as the gem joins the parsed list back.
    ["status_in", "Pending,test", "Pending,test is not a valid value for status_in."],
    ["status_eq", "Pending,Failed", "Pending,Failed is not a valid value for status_eq."],
    ["rows_count_eq", "1,2", "1,2 is not a valid value for rows_count_eq."],
    ["status_eq", "", " is not a valid value for status_eq."],
    ["rows_count_gt", "many", "many is not a valid value for rows_count_gt."],
    ["created_at_lt", "yesterday", "yesterday is not a valid value for created_at_lt."],
    // Yeti's own verifier names with_timezone.
    ["time_format", "iso", "iso is not a valid value for with_timezone."],
  ])("filter[%s]=%s: 400 Invalid filter value", async (name, value, detail) => {
    const errors = await errorsOf(
      await customer(t.auth, "GET", `/cdr-exports?filter[${name}]=${value}`),
      400,
    );
    expect(errors).toEqual([{ status: "400", code: "107", title: "Invalid filter value", detail }]);
  });

  it.each([
    ["filter[foo]=1", "foo is not allowed."],
    ["filter[]=1", "1 is not allowed."],
    ["filter[status_cont]=1", "status_cont is not allowed."],
    ["filter[rows_count_cont]=1", "rows_count_cont is not allowed."],
    ["filter[account_id_gt]=1", "account_id_gt is not allowed."],
    ["filter[customer_id_eq]=1", "customer_id_eq is not allowed."],
    ["filter[Foo-Bar]=1", "foo_bar is not allowed."],
  ])("%s: 400 Filter not allowed", async (query, detail) => {
    const errors = await errorsOf(await customer(t.auth, "GET", `/cdr-exports?${query}`), 400);
    expect(errors).toEqual([{ status: "400", code: "102", title: "Filter not allowed", detail }]);
  });

  it.each([
    ["filter=foo", "foo is not a valid syntax for filtering."],
    ["filter=", " is not a valid syntax for filtering."],
  ])("%s: 400 Invalid filters syntax", async (query, detail) => {
    const errors = await errorsOf(await customer(t.auth, "GET", `/cdr-exports?${query}`), 400);
    expect(errors).toEqual([{ status: "400", code: "120", title: "Invalid filters syntax", detail }]);
  });

  it.each([
    ["filter[status-eq]=Completed", ["e5", "e1"]],
    ["filter[rows-count-gteq]=10", ["e4", "e1"]],
    ["filter[time_zone_name_cont]=EUROPE", ["e5", "e1"]],
    ["filter[time_zone_name_start]=america", ["e3"]],
    ["filter[status_in]=%22Pending%22,Failed", ["e3", "e2"]],
    ["filter[status_in]=", ["e5", "e4", "e3", "e2", "e1"]],
  ])("%s: dasherized keys, case-insensitive matches, CSV lists", async (query, expected) => {
    const { res, body } = await list(t.auth, query);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.data.map((d) => Object.keys(e).find((k) => e[k] === d.id))).toEqual(expected);
  });
});

describe("GET /cdr-exports/{id}", () => {
  it("shows the export with its attributes, self link and account relationship links", async () => {
    const t = await tenant();
    const created = await json<Doc>(
      await customer(
        t.auth,
        "POST",
        "/cdr-exports",
        createBody(t.accountUuid, { "time-zone-name": "Europe/Kyiv", "time-format": "without_timezone" }),
      ),
    );
    const res = await customer(t.auth, "GET", `/cdr-exports/${created.data.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe(JSON_API);
    const body = await json<Doc>(res);
    const self = `${CUSTOMER}/cdr-exports/${created.data.id}`;
    expect(body.data).toMatchObject({
      id: created.data.id,
      type: "cdr-exports",
      links: { self },
      relationships: {
        account: { links: { self: `${self}/relationships/account`, related: `${self}/account` } },
      },
    });
    expect(body.data.relationships.account.data).toBeUndefined();
    expect(body.data.attributes).toMatchObject({
      filters: { time_start_gteq: "2019-01-01T00:00:00.000Z", time_start_lt: "2019-01-02T00:00:00.000Z" },
      "created-at": created.data.attributes["created-at"],
      "time-format": "without_timezone",
      "time-zone-name": "Europe/Kyiv",
    });
    expect(body.included).toBeUndefined();
  });

  it("include=account: relationship data and the account in `included` with Yeti's attributes", async () => {
    const t = await tenant();
    const patched = await admin("PATCH", `/accounts/${t.accountId}`, {
      data: {
        type: "accounts",
        id: String(t.accountId),
        attributes: {
          balance: "12.3400",
          "min-balance": "-100.5",
          "max-balance": "1000",
          "destination-rate-limit": "0.0125",
          "origination-capacity": 10,
          "termination-capacity": 20,
          "total-capacity": 30,
          currency: "EUR",
        },
      },
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    const row = await seedExport(t.accountId);
    const res = await customer(t.auth, "GET", `/cdr-exports/${row.uuid}?include=account`);
    expect(res.status).toBe(200);
    const body = await json<Doc>(res);
    expect(body.data.relationships.account.data).toEqual({ type: "accounts", id: t.accountUuid });
    expect(body.included).toEqual([
      {
        id: t.accountUuid,
        type: "accounts",
        links: { self: `${CUSTOMER}/accounts/${t.accountUuid}` },
        attributes: {
          name: t.account.attributes.name,
          balance: "12.34",
          "min-balance": "-100.5",
          "max-balance": "1000.0",
          "destination-rate-limit": "0.0125",
          "origination-capacity": 10,
          "termination-capacity": 20,
          "total-capacity": 30,
          currency: "EUR",
        },
      },
    ]);
  });

  it("include=account on the list: each account once in `included`", async () => {
    const t = await tenant();
    await seedExport(t.accountId);
    await seedExport(t.accountId);
    await seedExport(t.otherAccountId);
    const { res, body } = await list(t.auth, "include=account");
    expect(res.status).toBe(200);
    expect(body.data.map((d) => (d.relationships as Doc["data"]).account.data.id).sort()).toEqual(
      [t.accountUuid, t.accountUuid, t.otherAccountUuid].sort(),
    );
    expect((body.included ?? []).map((a) => a.id).sort()).toEqual([t.accountUuid, t.otherAccountUuid].sort());
    expect(body.included?.every((a) => a.type === "accounts")).toBe(true);
  });

  it("include of anything but account: 400", async () => {
    const t = await tenant();
    const row = await seedExport(t.accountId);
    const [error] = await errorsOf(
      await customer(t.auth, "GET", `/cdr-exports/${row.uuid}?include=customer`),
      400,
    );
    expect(error).toMatchObject({ status: "400", title: "Invalid field" });
    await errorsOf(await customer(t.auth, "GET", "/cdr-exports?include=account,password"), 400);
  });

  it("GET .../relationships/account: the linkage with self and related links", async () => {
    const t = await tenant();
    const row = await seedExport(t.otherAccountId);
    const res = await customer(t.auth, "GET", `/cdr-exports/${row.uuid}/relationships/account`);
    expect(res.status).toBe(200);
    const self = `${CUSTOMER}/cdr-exports/${row.uuid}`;
    expect(await res.json()).toEqual({
      links: { self: `${self}/relationships/account`, related: `${self}/account` },
      data: { type: "accounts", id: t.otherAccountUuid },
    });
  });

  it("GET .../account: the account resource", async () => {
    const t = await tenant();
    const row = await seedExport(t.accountId);
    const res = await customer(t.auth, "GET", `/cdr-exports/${row.uuid}/account`);
    expect(res.status).toBe(200);
    const body = await json<Doc>(res);
    expect(body.data).toMatchObject({
      id: t.accountUuid,
      type: "accounts",
      attributes: { name: t.account.attributes.name, balance: "0.0", currency: "USD" },
    });
    expect(Object.keys(body.data.attributes).sort()).toEqual(
      [
        "name",
        "balance",
        "min-balance",
        "max-balance",
        "destination-rate-limit",
        "origination-capacity",
        "termination-capacity",
        "total-capacity",
        "currency",
      ].sort(),
    );
  });
});

describe("GET /cdr-exports/{id}: 404 Record not found where the export is not the caller's", () => {
  const routes = ["", "/relationships/account", "/account", "/download"];

  async function expectNotFound(auth: string, id: string) {
    for (const suffix of routes) {
      const errors = await errorsOf(await customer(auth, "GET", `/cdr-exports/${id}${suffix}`), 404);
      expect(errors).toEqual([
        {
          status: "404",
          code: "404",
          title: "Record not found",
          detail: `The record identified by ${id} could not be found.`,
        },
      ]);
    }
  }

  it("an export of another customer", async () => {
    const t = await tenant();
    const stranger = await tenant();
    const row = await seedExport(stranger.accountId, { status: "Completed" });
    await expectNotFound(t.auth, row.uuid);
    // The owner sees it.
    expect((await customer(stranger.auth, "GET", `/cdr-exports/${row.uuid}`)).status).toBe(200);
  });

  it("an export of an account outside the API access's allowed list", async () => {
    const t = await tenant({ restrictToFirstAccount: true });
    const hidden = await seedExport(t.otherAccountId);
    const visible = await seedExport(t.accountId);
    await expectNotFound(t.auth, hidden.uuid);
    expect((await customer(t.auth, "GET", `/cdr-exports/${visible.uuid}`)).status).toBe(200);
    const { body } = await list(t.auth);
    expect(body.data.map((d) => d.id)).toEqual([visible.uuid]);
  });

  it("an export without an account (an operator's export)", async () => {
    const t = await tenant();
    const row = await seedExport(null);
    await expectNotFound(t.auth, row.uuid);
  });

  it("a random uuid", async () => {
    const t = await tenant();
    await expectNotFound(t.auth, crypto.randomUUID());
  });
});

describe("customer API response headers", () => {
  it("GET answers with a weak ETag; If-None-Match with it gives 304 without a body", async () => {
    const t = await tenant();
    const row = await seedExport(t.accountId);
    const first = await customer(t.auth, "GET", `/cdr-exports/${row.uuid}`);
    const etag = first.headers.get("ETag");
    expect(etag).toMatch(/^W\/"[0-9a-f]+"$/);
    // The SHA-1 of the bytes sent, as a client can check it.
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", await first.arrayBuffer()));
    expect(etag).toBe(`W/"${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}"`);
    const again = await customer(t.auth, "GET", `/cdr-exports/${row.uuid}`, undefined, {
      "If-None-Match": etag as string,
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("ETag")).toBe(etag);
    // A changed record gets a new ETag.
    const other = await customer(t.auth, "GET", `/cdr-exports/${row.uuid}?include=account`, undefined, {
      "If-None-Match": etag as string,
    });
    expect(other.status).toBe(200);
    expect(other.headers.get("ETag")).not.toBe(etag);
  });

  it("the list has an ETag and honours If-None-Match", async () => {
    const t = await tenant();
    await seedExport(t.accountId);
    const first = await customer(t.auth, "GET", "/cdr-exports");
    const etag = first.headers.get("ETag") as string;
    expect(etag).toMatch(/^W\//);
    const again = await customer(t.auth, "GET", "/cdr-exports", undefined, { "If-None-Match": etag });
    expect(again.status).toBe(304);
    await seedExport(t.accountId);
    const changed = await customer(t.auth, "GET", "/cdr-exports", undefined, { "If-None-Match": etag });
    expect(changed.status).toBe(200);
  });

  it("every response has the example's security headers, no-cache and an X-Request-Id", async () => {
    const t = await tenant();
    const row = await seedExport(t.accountId);
    const responses = [
      await customer(t.auth, "GET", "/cdr-exports"),
      await customer(t.auth, "GET", `/cdr-exports/${row.uuid}`),
      await customer(t.auth, "GET", `/cdr-exports/${crypto.randomUUID()}`),
      await customer(t.auth, "GET", "/cdr-exports?filter[foo]=1"),
      await call(`${CUSTOMER}/cdr-exports`),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 404, 400, 401]);
    for (const res of responses) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name)).toBe(value);
      expect(res.headers.get("Cache-Control")).toBe("max-age=0, private, must-revalidate");
      expect(res.headers.get("X-Request-Id")).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
    }
    const ids = new Set(responses.map((r) => r.headers.get("X-Request-Id")));
    expect(ids.size).toBe(responses.length);
  });

  it("echoes a well-formed X-Request-Id and replaces a malformed one", async () => {
    const t = await tenant();
    const given = await customer(t.auth, "GET", "/cdr-exports", undefined, {
      "X-Request-Id": "trace-42.abc_X",
    });
    expect(given.headers.get("X-Request-Id")).toBe("trace-42.abc_X");
    const bad = await customer(t.auth, "GET", "/cdr-exports", undefined, {
      "X-Request-Id": "bad id\twith<junk>",
    });
    expect(bad.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("an unknown customer route is a JSON:API 404", async () => {
    const t = await tenant();
    const errors = await errorsOf(await customer(t.auth, "GET", "/cdr-exportz"), 404);
    expect(errors[0]?.status).toBe("404");
  });
});
