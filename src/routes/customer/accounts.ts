// Customer API v1 `accounts`: the caller's accounts (its customer's, within the access's allowed list),
// list and show, each one D1 round trip with the caller check inside.

import { createRoute, z } from "@hono/zod-openapi";
import { authorize, customerAuth } from "../../auth/customer-auth";
import { findScopedAccount, listScopedAccounts } from "../../db/queries/accounts";
import type { accountView, SortKey } from "../../db/queries/cdr-exports";
import { jsonApi, origin } from "../../http/json-api";
import { recordNotFound } from "../../http/jsonapi/errors";
import { filterConditions } from "../../http/jsonapi/filters";
import { pageLinks, readQuery, type SortCriterion, verifyUuid } from "../../http/jsonapi/request";
import { answer, errors, jsonApiResponse } from "../../openapi/schemas";
import { ACCOUNT_SORT_KEYS, ACCOUNTS, accountResource, CUSTOMER_BASE } from "./account-resource";
import {
  ACCOUNT_FILTER_VALUES,
  accountDocument,
  accountListDocument,
  customerRouter,
  fieldsQuery,
  filterQuery,
  pageQuery,
  SECURITY,
  sortQuery,
  uuidParams,
} from "./openapi";
import { beforeRoundTrip } from "./round-trip";

export const customerAccounts = customerRouter();
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

const tags = ["accounts"];
const fields = fieldsQuery(ACCOUNTS.attributes);

const list = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List accounts",
  description:
    "The caller's accounts (its customer's, within the API access's allowed accounts): where a client finds the account uuid an export needs.",
  security: SECURITY,
  request: {
    query: z.object({
      ...pageQuery,
      "fields[accounts]": fields,
      sort: sortQuery(ACCOUNTS.sortable, "id"),
      ...filterQuery(ACCOUNTS.filters, ACCOUNT_FILTER_VALUES),
    }),
  },
  responses: { 200: jsonApiResponse("A page of accounts.", accountListDocument), ...errors(400, 401) },
});

customerAccounts.openapi(list, async (c) => {
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
  return answer(
    jsonApi(c, {
      data: listed.rows.map((a) => accountResource(base, a, query.fieldsets)),
      meta: { "total-count": listed.total },
      links: pageLinks(`${base}${CUSTOMER_BASE}/accounts`, query.params, query.page, listed.total),
    }),
  );
});

const show = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Show an account",
  security: SECURITY,
  request: { params: uuidParams("The account's uuid."), query: z.object({ "fields[accounts]": fields }) },
  responses: { 200: jsonApiResponse("The account.", accountDocument), ...errors(400, 401, 404) },
});

customerAccounts.openapi(show, async (c) => {
  const id = c.req.param("id");
  const { query, uuid } = await beforeRoundTrip(c, () => ({
    query: readQuery(new URL(c.req.url), ACCOUNTS, [ACCOUNTS], { list: false }),
    uuid: verifyUuid(id),
  }));
  const { caller, found } = await findScopedAccount(c.get("d1"), c.get("caller"), uuid);
  authorize(c, caller);
  if (!found) throw recordNotFound(id);
  return answer(jsonApi(c, { data: accountResource(origin(c), found, query.fieldsets) }));
});
