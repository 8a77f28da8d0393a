// The PostgreSQL source's SQL: Yeti's `CdrExport#export_sql` text (its spec's "returns_correct_sql" cases and
// the PostgreSQL tests' cases, written out by hand), escaped literals, time ranges and statement lengths.
import { describe, expect, it } from "vitest";
import { CUSTOMER_FILTERS, normalizeFilters, OPERATOR_FILTERS } from "../../src/cdr-exports/filters";
import { nextSpan } from "../../src/pipeline/postgres/postgres-source";
import {
  type CdrTable,
  copySql,
  type ExportQuery,
  exportSql,
  literal,
  timeEnvelope,
  timeZoneSql,
} from "../../src/pipeline/postgres/yeti-sql";
import { CASES, type CaseName } from "../pg/cases";

const YETI: CdrTable = { schema: "cdr", table: "cdr" };
const SPEC_FILTERS = {
  time_start_gteq: "2018-01-01T00:00:00.000Z",
  time_start_lteq: "2018-03-01T00:00:00.000Z",
};

function query(overrides: Partial<ExportQuery> = {}): ExportQuery {
  return {
    fields: ["success", "id"],
    filters: SPEC_FILTERS,
    accountId: null,
    timeFormat: "with_timezone",
    timeZoneName: null,
    ...overrides,
  };
}

describe("exportSql: Yeti's spec (spec/models/cdr_export_spec.rb, returns_correct_sql)", () => {
  const where = `WHERE ("cdr"."cdr"."time_start" >= '2018-01-01 00:00:00' AND "cdr"."cdr"."time_start" <= '2018-03-01 00:00:00')`;

  it("with only required filters", () => {
    expect(exportSql(query(), YETI)).toBe(
      `SELECT success AS "Success", cdr.cdr.id AS "ID" FROM "cdr"."cdr" ${where} ORDER BY cdr.cdr.time_start DESC`,
    );
  });

  it.each([
    ["round_to_seconds", `to_char(cdr.cdr.time_end, 'YYYY-MM-DD HH24:MI:SS') AS "Time End"`],
    ["without_timezone", 'cdr.cdr.time_end::timestamp AS "Time End"'],
    ["with_timezone", 'cdr.cdr.time_end AS "Time End"'],
  ] as const)("when time-format = %s", (timeFormat, timeEnd) => {
    expect(exportSql(query({ fields: ["success", "id", "time_end"], timeFormat }), YETI)).toBe(
      `SELECT success AS "Success", cdr.cdr.id AS "ID", ${timeEnd} FROM "cdr"."cdr" ${where} ORDER BY cdr.cdr.time_start DESC`,
    );
  });

  it("with CLI list filters as array (API input)", () => {
    expect(exportSql(query({ filters: { ...SPEC_FILTERS, src_prefix_in_in: ["111", "222"] } }), YETI)).toBe(
      'SELECT success AS "Success", cdr.cdr.id AS "ID" FROM "cdr"."cdr" WHERE ' +
        `("cdr"."cdr"."time_start" >= '2018-01-01 00:00:00' AND "cdr"."cdr"."time_start" <= '2018-03-01 00:00:00' ` +
        `AND "cdr"."cdr"."src_prefix_in" IN ('111', '222')) ORDER BY cdr.cdr.time_start DESC`,
    );
  });

  it("with time_start_lt, and filters in the model's order whatever order they were given in", () => {
    const filters = {
      success_eq: true,
      time_start_lt: "2018-03-01T00:00:00.000Z",
      time_start_gteq: "2018-01-01T00:00:00.000Z",
    };
    expect(exportSql(query({ filters }), YETI)).toBe(
      'SELECT success AS "Success", cdr.cdr.id AS "ID" FROM "cdr"."cdr" WHERE ' +
        `("cdr"."cdr"."time_start" >= '2018-01-01 00:00:00' AND "cdr"."cdr"."time_start" < '2018-03-01 00:00:00' ` +
        `AND "cdr"."cdr"."success" = TRUE) ORDER BY cdr.cdr.time_start DESC`,
    );
  });

  it("writes milliseconds of a bound as Rails' quoted_date does (six digits)", () => {
    const filters = {
      time_start_gteq: "2018-01-01T00:00:00.500Z",
      time_start_lt: "2018-01-02T00:00:00.000Z",
    };
    expect(exportSql(query({ filters }), YETI)).toContain(
      `"cdr"."cdr"."time_start" >= '2018-01-01 00:00:00.500000'`,
    );
  });
});

describe("exportSql: the PostgreSQL tests' cases, whose hand-written SQL psql runs", () => {
  it.each(Object.keys(CASES) as CaseName[])("builds Yeti's SQL for %s", (name) => {
    const c = CASES[name];
    const allowed = c.order.via === "customer" ? CUSTOMER_FILTERS : OPERATOR_FILTERS;
    const { filters, problems } = normalizeFilters(c.filters, allowed);
    expect(problems).toEqual([]);
    const fields =
      c.order.via === "operator"
        ? c.order.fields
        : [
            ...[
              "time_start",
              "time_connect",
              "time_end",
              "success",
              "duration",
              "src_name_in",
              "src_prefix_in",
            ],
            ...["dst_prefix_in", "from_domain", "to_domain", "ruri_domain", "lega_disconnect_code"],
            ...["lega_disconnect_reason", "auth_orig_ip", "auth_orig_port", "src_prefix_routing"],
            ...["dst_prefix_routing", "destination_prefix", "destination_initial_interval"],
            ...["destination_next_interval", "destination_initial_rate", "destination_next_rate"],
            ...["destination_fee", "customer_price", "customer_duration", "orig_call_id", "local_tag"],
            ...["lega_user_agent", "diversion_in"],
          ];
    const sql = exportSql(
      {
        fields,
        filters,
        accountId: c.order.via === "customer" ? c.order.account.id : null,
        timeFormat: c.timeFormat ?? "with_timezone",
        timeZoneName: c.timeZoneName ?? null,
      },
      YETI,
    );
    expect(sql).toBe(c.sql);
  });
});

describe("literals and identifiers", () => {
  it.each([
    ["'; DROP TABLE cdr.cdr; --", "'''; DROP TABLE cdr.cdr; --'"],
    ["O'Brien", "'O''Brien'"],
    ["back\\slash", "E'back\\\\slash'"],
    ["\\'; SELECT 1; --", "E'\\\\''; SELECT 1; --'"],
    ["$$x$$", "'$$x$$'"],
    ['"quoted"', `'"quoted"'`],
    ["Київ ☎", "'Київ ☎'"],
    ["", "''"],
  ])("writes %j as %s", (value, sql) => {
    expect(literal(value)).toBe(sql);
  });

  it("refuses a value with NUL, which PostgreSQL text cannot hold and the protocol would cut at", () => {
    expect(() => literal("a\u0000'; DROP TABLE x; --")).toThrow(/NUL/);
  });

  it("quotes a configured schema and table everywhere, doubling their quotes", () => {
    const sql = exportSql(query({ fields: ["id", "time_start"] }), { schema: "Yeti CDRs", table: 'cdr"x' });
    expect(sql).toBe(
      `SELECT "Yeti CDRs"."cdr""x".id AS "ID", "Yeti CDRs"."cdr""x".time_start AS "Time Start" FROM "Yeti CDRs"."cdr""x" ` +
        `WHERE ("Yeti CDRs"."cdr""x"."time_start" >= '2018-01-01 00:00:00' AND "Yeti CDRs"."cdr""x"."time_start" <= '2018-03-01 00:00:00') ` +
        `ORDER BY "Yeti CDRs"."cdr""x".time_start DESC`,
    );
  });

  it("refuses fields and filters it does not know (no name reaches the SQL unchecked)", () => {
    expect(() => exportSql(query({ fields: ["success; DROP TABLE x"] }), YETI)).toThrow(
      /unknown export field/,
    );
    expect(() => exportSql(query({ fields: ["constructor"] }), YETI)).toThrow(/unknown export field/);
    expect(() => exportSql(query({ filters: { ...SPEC_FILTERS, "x; --": 1 } }), YETI)).toThrow(
      /unknown stored filter/,
    );
    expect(() => exportSql(query({ filters: { ...SPEC_FILTERS, duration_eq: "1 OR 1=1" } }), YETI)).toThrow(
      /not an integer/,
    );
  });
});

describe("statements of one time range each", () => {
  it("adds the range as two conditions on absolute instants, the order unchanged", () => {
    const range = { from: Date.parse("2018-01-01T00:00:00Z"), to: Date.parse("2018-01-02T00:00:00.5Z") };
    expect(exportSql(query(), YETI, range)).toBe(
      'SELECT success AS "Success", cdr.cdr.id AS "ID" FROM "cdr"."cdr" WHERE ' +
        `("cdr"."cdr"."time_start" >= '2018-01-01 00:00:00' AND "cdr"."cdr"."time_start" <= '2018-03-01 00:00:00') ` +
        `AND "cdr"."cdr"."time_start" >= '2018-01-01 00:00:00+00' AND "cdr"."cdr"."time_start" < '2018-01-02 00:00:00.5+00' ` +
        "ORDER BY cdr.cdr.time_start DESC",
    );
  });

  it("wraps the query in Yeti's COPY, the header only when asked", () => {
    expect(copySql("SELECT 1", true)).toBe(
      "COPY (SELECT 1) TO STDOUT WITH (FORMAT CSV, HEADER, FORCE_QUOTE *)",
    );
    expect(copySql("SELECT 1", false)).toBe("COPY (SELECT 1) TO STDOUT WITH (FORMAT CSV, FORCE_QUOTE *)");
  });

  it("sets the export's zone, else UTC, as a literal", () => {
    expect(timeZoneSql("Europe/Kyiv")).toBe("SET LOCAL timezone TO 'Europe/Kyiv'");
    expect(timeZoneSql(null)).toBe("SET LOCAL timezone TO 'UTC'");
    expect(timeZoneSql("")).toBe("SET LOCAL timezone TO 'UTC'");
    expect(timeZoneSql("x'; RESET ALL; --")).toBe("SET LOCAL timezone TO 'x''; RESET ALL; --'");
  });

  it("covers the filters' times exactly without a zone, and a day either side with one", () => {
    const filters = {
      time_start_gteq: "2019-01-01T00:00:00.000Z",
      time_start_lt: "2019-01-02T00:00:00.000Z",
    };
    expect(timeEnvelope(query({ filters }))).toEqual({
      from: Date.parse("2019-01-01T00:00:00Z"),
      to: Date.parse("2019-01-02T00:00:00Z"),
    });
    expect(timeEnvelope(query({ filters, timeZoneName: "Pacific/Kiritimati" }))).toEqual({
      from: Date.parse("2018-12-31T00:00:00Z"),
      to: Date.parse("2019-01-03T00:00:00Z"),
    });
    // time_start_lteq is inclusive; the smaller of two upper bounds wins; instants stay inside years 1..9999.
    expect(
      timeEnvelope(query({ filters: { ...filters, time_start_lteq: "2019-01-01T12:00:00.000Z" } })).to,
    ).toBe(Date.parse("2019-01-01T12:00:00.001Z"));
    const wide = { time_start_gteq: "0001-01-01T00:00:00.000Z", time_start_lt: "9999-12-31T23:59:59.000Z" };
    expect(timeEnvelope(query({ filters: wide, timeZoneName: "Europe/Kyiv" }))).toEqual({
      from: Date.parse("0001-01-01T00:00:00Z"),
      to: Date.parse("9999-12-31T23:59:59Z"),
    });
  });

  it("sizes the next statement's range for about 15 s, between a minute and 30 days", () => {
    expect(nextSpan(86_400, 30_000)).toBe(43_200);
    expect(nextSpan(86_400, 600_000)).toBe(2_160);
    expect(nextSpan(120, 600_000)).toBe(60);
    expect(nextSpan(86_400, 1_000)).toBe(172_800);
    expect(nextSpan(20 * 86_400, 10)).toBe(30 * 86_400);
    expect(nextSpan(86_400, 10_000)).toBe(86_400);
  });
});
