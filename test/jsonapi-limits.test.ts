// Long but valid list parameters stay within D1's limits (100 bound values, 100 ORDER BY terms): a
// `cont_any` of 100 values and a `sort` naming a field 150 times are answered, not a 500.
import { beforeAll, describe, expect, it } from "vitest";
import { customer, type Tenant, tenant } from "./helpers/api";

type Accounts = { data: { attributes: { name: string } }[] };
const accounts = async (auth: string, query = "") =>
  (await (await customer(auth, "GET", `/accounts${query}`)).json()) as Accounts;

let t: Tenant;
beforeAll(async () => {
  t = await tenant();
});

const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join(",");

describe("list parameters at D1's limits", () => {
  it.each([
    ["/accounts", `filter[name_cont_any]=${many(99, (i) => `x${i}`)},%`],
    ["/cdr-exports", `filter[time_zone_name_cont_any]=${many(100, (i) => `Zone/${i}`)}`],
    ["/accounts", `sort=${many(150, () => "name")}`],
    ["/cdr-exports", `sort=${many(150, (i) => (i % 2 ? "-rows_count" : "status"))}`],
  ])("%s?%s", async (path, query) => {
    const res = await customer(t.auth, "GET", `${path}?${query.replaceAll("%", "%25")}`);
    expect(res.status, await res.clone().text()).toBe(200);
  });

  it("matches cont_any patterns literally and case-insensitively, one of many", async () => {
    const name = (await accounts(t.auth)).data[0]?.attributes.name as string;
    const hit = `${many(99, (i) => `nomatch${i}`)},${encodeURIComponent(name.slice(1, -1).toUpperCase())}`;
    const found = await accounts(t.auth, `?filter[name_cont_any]=${hit}`);
    expect(found.data.map((a) => a.attributes.name)).toEqual([name]);
    expect((await accounts(t.auth, `?filter[name_cont_any]=${many(5, () => "_")}`)).data).toEqual([]);
  });
});
