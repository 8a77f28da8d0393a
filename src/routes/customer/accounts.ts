// Customer API v1 `accounts`: the caller's accounts (its customer's, within the access's allowed list),
// list and show, each one D1 round trip with the caller check inside.
import { Hono } from "hono";
import { authorize, customerAuth } from "../../auth/customer-auth";
import type { AppEnv } from "../../context";
import { findScopedAccount, listScopedAccounts } from "../../db/queries/accounts";
import type { accountView, SortKey } from "../../db/queries/cdr-exports";
import { jsonApi, origin } from "../../http/json-api";
import { recordNotFound } from "../../http/jsonapi/errors";
import { filterConditions } from "../../http/jsonapi/filters";
import { pageLinks, readQuery, type SortCriterion, verifyUuid } from "../../http/jsonapi/request";
import { ACCOUNT_SORT_KEYS, ACCOUNTS, accountResource, CUSTOMER_BASE } from "./account-resource";
import { beforeRoundTrip } from "./round-trip";

export const customerAccounts = new Hono<AppEnv>();
customerAccounts.use(customerAuth);

const DECIMALS = new Set(["balance", "min_balance", "max_balance", "destination_rate_limit"]);

/** Without `sort` the gem orders by the primary key (the uuid) ascending. */
function accountOrder(sort: SortCriterion[] | null): SortKey<typeof accountView.columns>[] {
  const byId = { key: "uuid", descending: false } as const;
  return [
    ...(sort ?? []).map((s) => ({
      key: ACCOUNT_SORT_KEYS[s.field as keyof typeof ACCOUNT_SORT_KEYS],
      descending: s.descending,
      decimal: DECIMALS.has(s.field),
    })),
    byId,
  ];
}

customerAccounts.get("/", async (c) => {
  const url = new URL(c.req.url);
  const { query, conditions } = await beforeRoundTrip(c, () => {
    const query = readQuery(url, ACCOUNTS, [ACCOUNTS], { list: true });
    return { query, conditions: filterConditions(query.filters) };
  });
  const listed = await listScopedAccounts(
    c.get("d1"),
    c.get("caller"),
    conditions,
    accountOrder(query.sort),
    query.page,
  );
  authorize(c, listed.caller);
  const base = origin(c);
  return jsonApi(c, {
    data: listed.rows.map((a) => accountResource(base, a, query.fieldsets)),
    meta: { "total-count": listed.total },
    links: pageLinks(`${base}${CUSTOMER_BASE}/accounts`, query.params, query.page, listed.total),
  });
});

customerAccounts.get("/:id", async (c) => {
  const id = c.req.param("id");
  const { query, uuid } = await beforeRoundTrip(c, () => ({
    query: readQuery(new URL(c.req.url), ACCOUNTS, [ACCOUNTS], { list: false }),
    uuid: verifyUuid(id),
  }));
  const { caller, found } = await findScopedAccount(c.get("d1"), c.get("caller"), uuid);
  authorize(c, caller);
  if (!found) throw recordNotFound(id);
  return jsonApi(c, { data: accountResource(origin(c), found, query.fieldsets) });
});
