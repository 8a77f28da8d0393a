// Exports from Yeti's PostgreSQL (CDR_SOURCE=postgres in this project) through the customer and operator
// APIs: each file equals, byte for byte after gunzip, what psql's \copy prints for Yeti's query of it;
// the same CDRs ingested into D1 give the same bytes; the ingest API is closed.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ACCOUNT } from "../../scripts/pg/fixture.mjs";
import worker from "../../src/index";
import { ADMIN, ADMIN_TOKEN, CUSTOMER, customer, JSON_API, json } from "../helpers/api";
import { gunzipText, NDJSON, postCdrs } from "../helpers/cdrs";
import { CASES, type CaseName } from "./cases";
import { envWith, expected, expectPsqlFile, exportCase, postgres, titled, yetiCustomer } from "./helpers";

let auth: string;

describe.skipIf(!postgres.available)(
  titled("exports from PostgreSQL equal psql's \\copy of Yeti's query"),
  () => {
    beforeAll(async () => {
      ({ auth } = await yetiCustomer());
    });

    it("writes the published example's export (no zone, every customer filter) as Yeti's file", async () => {
      const done = await exportCase("example", auth);
      expect(done.status).toBe("Completed");
      const data = await expectPsqlFile(done.file, "example");
      const lines = new TextDecoder().decode(data).split("\n");
      expect(lines[0]).toBe(
        "Time Start,Time Connect,Time End,Success,Duration,Src Name In,Src Prefix In,Dst Prefix In,From Domain," +
          "To Domain,Ruri Domain,Lega Disconnect Code,Lega Disconnect Reason,Auth Orig Ip,Auth Orig Port," +
          "Src Prefix Routing,Dst Prefix Routing,Destination Prefix,Destination Initial Interval," +
          "Destination Next Interval,Destination Initial Rate,Destination Next Rate,Destination Fee,Customer Price," +
          "Customer Duration,Orig Call,Local Tag,Lega User Agent,Diversion In",
      );
      expect(done.rows).toBe(expected("example").rows);
      expect(done.rows).toBeGreaterThan(200);
    });

    it.each([["kyivDay"], ["kyivWithoutTimezone"], ["kolkataRounded"], ["operator"], ["empty"]] as [
      CaseName,
    ][])("writes the %s export as psql prints it", async (name) => {
      const done = await exportCase(name, auth);
      expect(done.status).toBe("Completed");
      await expectPsqlFile(done.file, name);
      expect(done.rows).toBe(expected(name).rows);
    });

    it("reads the time bounds as wall-clock times of the export's zone, as Yeti does", async () => {
      const text = new TextDecoder().decode(
        await expectPsqlFile((await exportCase("kyivDay", auth)).file, "kyivDay"),
      );
      const names = text.split("\n").map((line) => line.split(",")[0]);
      // 2019-01-01 00:00 Kyiv is 2018-12-31 22:00 UTC: that CDR is in, the one a microsecond before is not.
      expect(names.at(-2)).toBe('"2019-01-01 00:00:00+02"');
      expect(text).toContain('"Kyiv midnight"');
      expect(text).not.toContain('"before Kyiv midnight"');
      expect(text).toContain('"before next Kyiv midnight"');
      expect(text).not.toContain('"next Kyiv midnight"');
      expect(text).toContain('"UTC midnight"');
    });

    it("writes the header line alone when nothing matches", async () => {
      const done = await exportCase("empty", auth);
      expect(done.rows).toBe(0);
      expect(await gunzipText(done.file)).toBe(expected("empty").text);
      expect(expected("empty").rows).toBe(0);
    });

    it("inlines hostile filter values as literals: each finds the one CDR holding it, and cdr.cdr stays", async () => {
      for (const name of ["hostileDrop", "hostileBackslash"] as const) {
        const done = await exportCase(name, auth);
        expect(done.status).toBe("Completed");
        expect(done.rows).toBe(1);
        await expectPsqlFile(done.file, name);
      }
      const again = await exportCase("example", auth);
      await expectPsqlFile(again.file, "example");
    });
  },
);

/** The customer's calls with CDR_SOURCE=d1: the same Worker code, the export reading D1. */
async function d1Call(path: string, init: RequestInit): Promise<Response> {
  // With a context of its own: the create sends its queue message after the answer (waitUntil).
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(path, init), envWith({ CDR_SOURCE: "d1" }), ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe.skipIf(!postgres.available)(
  titled("the same customer with CDR_SOURCE=d1 gets the same bytes"),
  () => {
    beforeAll(async () => {
      ({ auth } = await yetiCustomer());
      // The very CDRs of PostgreSQL (read back from it by the global setup), pushed into D1.
      const res = await d1Call(`${ADMIN}/cdrs`, {
        method: "POST",
        headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": NDJSON },
        body: postgres.available ? postgres.ndjson : "",
      });
      expect(res.status, await res.clone().text()).toBe(200);
    });

    /** The case's export created with CDR_SOURCE=d1 (it keeps its source), run by the queue, downloaded. */
    async function d1Export(name: CaseName): Promise<Uint8Array> {
      const c = CASES[name];
      if (c.order.via !== "customer") throw new Error("customer cases only");
      const attributes: Record<string, unknown> = { filters: c.filters };
      if (c.timeFormat) attributes["time-format"] = c.timeFormat;
      if (c.timeZoneName) attributes["time-zone-name"] = c.timeZoneName;
      const res = await d1Call(`${CUSTOMER}/cdr-exports`, {
        method: "POST",
        headers: { Authorization: auth, "Content-Type": JSON_API, Accept: JSON_API },
        body: JSON.stringify({
          data: {
            type: "cdr-exports",
            attributes,
            relationships: { account: { data: { type: "accounts", id: c.order.account.uuid } } },
          },
        }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
      const { data } = await json<{ data: { id: string } }>(res);
      for (let i = 0; ; i++) {
        const shown = await d1Call(`${CUSTOMER}/cdr-exports/${data.id}`, {
          headers: { Authorization: auth },
        });
        const { data: d } = await json<{ data: { attributes: { status: string } } }>(shown);
        if (d.attributes.status === "Completed") break;
        if (d.attributes.status !== "Pending" || i > 400) throw new Error(`D1 export ${d.attributes.status}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const file = await d1Call(`${CUSTOMER}/cdr-exports/${data.id}/download`, {
        headers: { Authorization: auth },
      });
      return new Uint8Array(await file.arrayBuffer());
    }

    it("for the published example's export (no time zone)", async () => {
      const fromPostgres = await expectPsqlFile((await exportCase("example", auth)).file, "example");
      const fromD1 = await expectPsqlFile(await d1Export("example"), "example");
      expect(fromD1).toEqual(fromPostgres);
    });

    // Each D1 file against psql's print of Yeti's SQL for the case (PostgreSQL's own reading of the bounds
    // after SET LOCAL timezone): the same bytes. (The PostgreSQL source's files are checked above.)
    const d1Files = new Map<CaseName, string>();
    it.each([
      ["siblingKyiv"],
      ["siblingKolkataRounded"],
      ["kyivDay"],
      ["kolkataRounded"],
      ["newYorkGap"],
      ["newYorkOverlap"],
    ] as [CaseName][])("for %s: the bounds read as wall-clock times of the zone alike", async (name) => {
      const data = await expectPsqlFile(await d1Export(name), name);
      d1Files.set(name, new TextDecoder().decode(data));
      expect(expected(name).rows).toBeGreaterThan(0);
    });

    it("in the DST gap and overlap, the instants PostgreSQL reads", async () => {
      const names = async (name: CaseName) =>
        (d1Files.get(name) ?? (await gunzipText(await d1Export(name))))
          .split("\n")
          .slice(1, -1)
          .map((line) => line.split(",")[5]);
      // 02:30 in the gap is 07:30Z (03:30 EDT); 01:30 in the overlap is its second occurrence (EST).
      expect(await names("newYorkGap")).toEqual(['"NY before 04:00 EDT"', '"NY 03:30 EDT"']);
      expect(await names("newYorkOverlap")).toEqual(['"NY before 03:00 EST"', '"NY 01:30 EST (second)"']);
    });
  },
);

describe("a filter value PostgreSQL text cannot hold", () => {
  it("is refused at creation with 422 (a NUL would end the inlined statement)", async () => {
    const { auth } = await yetiCustomer();
    const res = await customer(auth, "POST", "/cdr-exports", {
      data: {
        type: "cdr-exports",
        attributes: {
          filters: { ...CASES.kyivDay.filters, src_prefix_routing_eq: "12\u0000'; DROP TABLE x; --" },
        },
        relationships: { account: { data: { type: "accounts", id: ACCOUNT.uuid } } },
      },
    });
    expect(res.status).toBe(422);
    expect((await json<{ errors: { detail: string }[] }>(res)).errors.map((e) => e.detail)).toEqual([
      "filters - src_prefix_routing_eq is invalid",
    ]);
  });
});

describe("CDR ingestion while exports read PostgreSQL", () => {
  it("answers 409 with a JSON:API error, and stores nothing", async () => {
    const uuid = crypto.randomUUID();
    const res = await postCdrs(`${JSON.stringify({ uuid, time_start: "2019-01-01T10:00:00Z" })}\n`);
    expect(res.status).toBe(409);
    expect(res.headers.get("Content-Type")).toBe("application/vnd.api+json");
    expect(await res.json()).toEqual({
      errors: [
        {
          status: "409",
          title: "CDR ingestion is off",
          detail:
            "CDRs are read from PostgreSQL (CDR_SOURCE=postgres); this route stores CDRs for CDR_SOURCE=d1 only.",
        },
      ],
    });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM cdrs WHERE uuid = ?").bind(uuid).first("n")).toBe(
      0,
    );
  });
});
