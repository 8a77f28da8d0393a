// Customer API v1 `cdr-exports`: create, list, show, the account relationship, and the download.
import { Hono } from "hono";
import { customerAuth } from "../../auth/customer-auth";
import { enforceRateLimit } from "../../auth/rate-limit";
import type { AppContext, AppEnv } from "../../context";
import { findScopedAccountByUuid } from "../../db/queries";
import { ApiError, type FieldProblem, validationError } from "../../errors";
import { customerColumns } from "../../exports/columns";
import { CUSTOMER_CREATE_FRAME } from "../../exports/create-document";
import {
  type ExportRow,
  findScopedExport,
  insertExport,
  listScopedExports,
} from "../../exports/export-store";
import { CUSTOMER_FILTERS, normalizeFilters } from "../../exports/filters";
import { exportFormatAttributes } from "../../exports/format-attributes";
import { deleteExport } from "../../exports/lifecycle";
import { listFilterConditions, listOrder } from "../../exports/list-filters";
import { enqueueExport } from "../../exports/queue";
import { customerGrant, downloadLink } from "../../exports/signed-url";
import { jsonApi, origin, readJsonBody, resourceFromDocument, toOneLinkage } from "../../http/json-api";
import { pageLinks, parsePage } from "../../http/paging";
import { accountResource, exportResource } from "./cdr-export-resource";
import { downloadResponse } from "./download";

export const cdrExports = new Hono<AppEnv>();
cdrExports.use(customerAuth);

cdrExports.post("/", async (c) => {
  const scope = c.get("customer");
  await enforceRateLimit(c.env.EXPORT_RATE_LIMITER, `customer:${scope.customerId}`, 60);
  const { type, attributes, relationships } = CUSTOMER_CREATE_FRAME;
  const input = resourceFromDocument(await readJsonBody(c), type, attributes, relationships);
  const problems: FieldProblem[] = [];
  const accountPointer = "/data/relationships/account";
  const linkage = toOneLinkage(input.relationships, "account");
  let account: Awaited<ReturnType<typeof findScopedAccountByUuid>>;
  if (!linkage.present) {
    problems.push({ key: "account", message: "can't be blank", pointer: accountPointer });
  } else {
    if (linkage.type === "accounts" && typeof linkage.id === "string") {
      account = await findScopedAccountByUuid(c.env, scope, linkage.id);
    }
    if (!account) problems.push({ key: "account", message: "is invalid", pointer: accountPointer });
  }
  const { filters, problems: filterProblems } = normalizeFilters(input.attributes.filters, CUSTOMER_FILTERS);
  for (const message of filterProblems) {
    problems.push({ key: "filters", message, pointer: "/data/attributes/filters" });
  }
  const format = exportFormatAttributes(input.attributes, problems);
  if (problems.length || !account) throw validationError(problems);

  const row = await insertExport(c.env, {
    filters,
    fields: customerColumns(c.env.CUSTOMER_HIDDEN_COLUMNS),
    ...format,
    callbackUrl: null,
    customerAccountId: account.id,
  });
  await enqueueExport(c.env, row.uuid, c.get("requestId"));
  return jsonApi(c, { data: exportResource(origin(c), row, account) }, 201);
});

cdrExports.get("/", async (c) => {
  const url = new URL(c.req.url);
  const query = url.searchParams;
  const page = parsePage(query);
  const include = parseInclude(query.get("include"));
  const { rows, total } = await listScopedExports(
    c.env,
    c.get("customer"),
    listFilterConditions(query),
    listOrder(query.get("sort")),
    page,
  );
  const base = origin(c);
  const body: Record<string, unknown> = {
    data: await Promise.all(
      rows.map(async (r) =>
        exportResource(base, r.export, r.account, include, await downloadFor(c, r.export)),
      ),
    ),
    meta: { "total-count": total },
    links: pageLinks(url, page, total),
  };
  if (include)
    body.included = uniqueAccounts(rows.map((r) => r.account)).map((a) => accountResource(base, a));
  return jsonApi(c, body);
});

async function scopedExport(c: AppContext) {
  const found = await findScopedExport(c.env, c.get("customer"), c.req.param("id") ?? "");
  if (!found) throw ApiError.notFound();
  return found;
}

cdrExports.get("/:id", async (c) => {
  const include = parseInclude(c.req.query("include") ?? null);
  const { export: row, account } = await scopedExport(c);
  const base = origin(c);
  const body: Record<string, unknown> = {
    data: exportResource(base, row, account, include, await downloadFor(c, row)),
  };
  if (include && account) body.included = [accountResource(base, account)];
  return jsonApi(c, body);
});

cdrExports.get("/:id/relationships/account", async (c) => {
  const { export: row, account } = await scopedExport(c);
  const self = `${origin(c)}/api/rest/customer/v1/cdr-exports/${row.uuid}`;
  return jsonApi(c, {
    links: { self: `${self}/relationships/account`, related: `${self}/account` },
    data: account ? { type: "accounts", id: account.uuid } : null,
  });
});

cdrExports.get("/:id/account", async (c) => {
  const { account } = await scopedExport(c);
  return jsonApi(c, { data: account ? accountResource(origin(c), account) : null });
});

cdrExports.get("/:id/download", async (c) => {
  const { export: row } = await scopedExport(c);
  return downloadResponse(c, row);
});

/** The signed download URL of a Completed export, else null. */
async function downloadFor(c: AppContext, row: ExportRow): Promise<string | null> {
  if (row.status !== "Completed" || !row.objectKey) return null;
  return downloadLink(c.env, origin(c), row.uuid, row.objectKey, customerGrant(c.get("customer")));
}

cdrExports.delete("/:id", async (c) => {
  const { export: row } = await scopedExport(c);
  await deleteExport(c.env, row);
  return c.body(null, 204);
});

function parseInclude(include: string | null): boolean {
  if (!include) return false;
  for (const name of include.split(",")) {
    if (name !== "account") {
      throw ApiError.badRequest(
        "Invalid field",
        `${name} is not a valid includable relationship of cdr-exports`,
        {
          parameter: "include",
        },
      );
    }
  }
  return true;
}

function uniqueAccounts<T extends { id: number }>(accounts: (T | null)[]): T[] {
  const seen = new Map<number, T>();
  for (const a of accounts) if (a) seen.set(a.id, a);
  return [...seen.values()];
}
