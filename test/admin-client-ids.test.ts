// Operator API: contractors and accounts created with Yeti's ids (client-generated `data.id`) and uuids, so
// that CDRs, which name accounts by Yeti's id (customer_acc_id), belong to the accounts customers see.
import { describe, expect, it } from "vitest";
import { admin, createApiAccess, customer, json, token, unique } from "./helpers/api";
import { gunzipText, ingestCdrs, objectBytes, waitForExport } from "./helpers/cdrs";

type Doc = { data: { id: string; attributes: Record<string, unknown> } };
type Errors = { errors: { status: string; title: string; detail: string; source?: { pointer: string } }[] };

/** An id far from the ones D1 hands out in this run, different each call. */
function yetiId(): number {
  return 1_000_000_000_000 + Math.floor(Math.random() * 1_000_000_000_000);
}

function contractorDoc(id: unknown, name = unique("yeti-customer")) {
  return {
    data: { type: "contractors", ...(id === undefined ? {} : { id }), attributes: { name, customer: true } },
  };
}

function accountDoc(contractorId: number, id: unknown, attributes: Record<string, unknown> = {}) {
  return {
    data: {
      type: "accounts",
      ...(id === undefined ? {} : { id }),
      attributes: { name: unique("yeti-account"), ...attributes },
      relationships: { contractor: { data: { type: "contractors", id: String(contractorId) } } },
    },
  };
}

describe("client-generated ids on POST /contractors and /accounts", () => {
  it("creates a contractor with the id given, shown under it", async () => {
    const id = yetiId();
    const res = await admin("POST", "/contractors", contractorDoc(String(id)));
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await json<Doc>(res)).data.id).toBe(String(id));
    const shown = await admin("GET", `/contractors/${id}`);
    expect(shown.status).toBe(200);
    expect((await json<Doc>(shown)).data.attributes.customer).toBe(true);
  });

  it("answers 409 Conflict for an id that is taken, and changes nothing", async () => {
    const id = yetiId();
    const first = contractorDoc(String(id));
    expect((await admin("POST", "/contractors", first)).status).toBe(201);
    const res = await admin("POST", "/contractors", contractorDoc(String(id), "another name"));
    expect(res.status).toBe(409);
    expect(res.headers.get("Content-Type")).toBe("application/vnd.api+json");
    expect((await json<Errors>(res)).errors).toEqual([
      {
        status: "409",
        title: "Conflict",
        detail: `contractors ${id} already exists`,
        source: { pointer: "/data/id" },
      },
    ]);
    const shown = await json<Doc>(await admin("GET", `/contractors/${id}`));
    expect(shown.data.attributes.name).toBe(first.data.attributes.name);
  });

  it.each([["0"], ["abc"], ["-5"], ["1.5"], ["0012"], ["1234567890123456"], [42], [true]])(
    "refuses the id %j with 422 pointing at /data/id",
    async (bad) => {
      const res = await admin("POST", "/contractors", contractorDoc(bad));
      expect(res.status).toBe(422);
      const [error] = (await json<Errors>(res)).errors;
      expect(error).toMatchObject({
        detail: "id - must be a positive integer as a string",
        source: { pointer: "/data/id" },
      });
    },
  );

  it("keeps handing out ids after a client-generated one", async () => {
    const id = yetiId();
    expect((await admin("POST", "/contractors", contractorDoc(String(id)))).status).toBe(201);
    const next = await json<Doc>(await admin("POST", "/contractors", contractorDoc(undefined)));
    expect(Number(next.data.id)).toBeGreaterThan(id);
  });

  it("creates an account with Yeti's id and uuid (lowercased), and 409 for a taken id", async () => {
    const contractor = yetiId();
    expect((await admin("POST", "/contractors", contractorDoc(String(contractor)))).status).toBe(201);
    const id = yetiId();
    const uuid = crypto.randomUUID();
    const res = await admin(
      "POST",
      "/accounts",
      accountDoc(contractor, String(id), { uuid: uuid.toUpperCase() }),
    );
    expect(res.status, await res.clone().text()).toBe(201);
    const { data } = await json<Doc>(res);
    expect(data.id).toBe(String(id));
    expect(data.attributes.uuid).toBe(uuid);
    const again = await admin("POST", "/accounts", accountDoc(contractor, String(id)));
    expect(again.status).toBe(409);
    expect((await json<Errors>(again)).errors[0]?.detail).toBe(`accounts ${id} already exists`);
    // A taken uuid under a new id is still the 422 it was.
    const sameUuid = await admin("POST", "/accounts", accountDoc(contractor, String(yetiId()), { uuid }));
    expect(sameUuid.status).toBe(422);
    expect((await json<Errors>(sameUuid)).errors[0]?.detail).toBe("uuid - has already been taken");
  });

  it("exports to the customer the CDRs that name the account by its Yeti id", async () => {
    const contractor = yetiId();
    expect((await admin("POST", "/contractors", contractorDoc(String(contractor)))).status).toBe(201);
    const accountId = yetiId();
    const uuid = crypto.randomUUID();
    expect(
      (await admin("POST", "/accounts", accountDoc(contractor, String(accountId), { uuid }))).status,
    ).toBe(201);
    const access = await createApiAccess(String(contractor));
    const auth = `Bearer ${await token({ sub: Number(access.id), aud: ["customer-v1"] })}`;
    await ingestCdrs(
      ["2019-01-01T10:00:00Z", "2019-01-01T11:00:00Z", "2019-01-03T11:00:00Z"].map((time_start, i) => ({
        uuid: crypto.randomUUID(),
        customer_acc_id: accountId,
        time_start,
        orig_call_id: `yeti-${i}`,
      })),
    );
    const created = await customer(auth, "POST", "/cdr-exports", {
      data: {
        type: "cdr-exports",
        attributes: {
          filters: { time_start_gteq: "2019-01-01 00:00:00", time_start_lt: "2019-01-02 00:00:00" },
          "time-format": "round_to_seconds",
        },
        relationships: { account: { data: { type: "accounts", id: uuid } } },
      },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { data } = await json<Doc>(created);
    expect((await waitForExport(auth, data.id))["rows-count"]).toBe(2);
    const lines = (await gunzipText(await objectBytes(`exports/${data.id}.csv.gz`))).split("\n");
    expect(lines.slice(1, 3).map((l) => l.split(",")[0])).toEqual([
      '"2019-01-01 11:00:00"',
      '"2019-01-01 10:00:00"',
    ]);
    expect(lines[1]).toContain('"yeti-1"');
  });
});
