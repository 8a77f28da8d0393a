// Customer API v1 `cdr-exports`: create, list, show, the account relationship, the download and delete.
// Each request is one D1 round trip with the caller check inside; two for a delete (the files go between)
// and for a create whose customer is not known beforehand (see `creationCustomer`).

import { createRoute, z } from "@hono/zod-openapi";
import { expectedCustomer } from "../../auth/caller";
import { authorize, customerAuth } from "../../auth/customer-auth";
import { enforceRateLimit } from "../../auth/rate-limit";
import { customerCreateDocument } from "../../cdr-exports/create-document";
import { IDEMPOTENCY_KEY_HEADER, keyReused } from "../../cdr-exports/idempotency";
import { CDR_EXPORTS, EXPORT_SORT_KEYS } from "../../cdr-exports/resource";
import { customerGrant, downloadLink } from "../../cdr-exports/signed-url";
import type { AppContext, CustomerScope } from "../../context";
import { checkCaller } from "../../db/queries/caller";
import {
  type AccountView,
  type ExportView,
  type exportView,
  findScopedExport,
  listScopedExports,
  markScopedExportDeleted,
  type SortKey,
} from "../../db/queries/cdr-exports";
import { createExport } from "../../db/queries/export-create";
import { jsonApi, origin } from "../../http/json-api";
import { recordNotFound, validationErrors } from "../../http/jsonapi/errors";
import { filterConditions } from "../../http/jsonapi/filters";
import { pageLinks, readQuery, type SortCriterion, verifyUuid } from "../../http/jsonapi/request";
import {
  accountLinkageDocument,
  answer,
  customerExportDocument,
  customerExportListDocument,
  documentBody,
  downloadHeaders,
  errors,
  fileResponses,
  jsonApiResponse,
} from "../../openapi/schemas";
import { configuredSource } from "../../pipeline/cdr-source";
import { holdsFiles, removeFiles } from "../../pipeline/lifecycle";
import { enqueueExport } from "../../pipeline/queue";
import { ACCOUNTS, accountResource, CUSTOMER_BASE } from "./account-resource";
import { exportResource } from "./cdr-export-resource";
import { type CreateRequest, createProblems, formValid, readCreateRequest } from "./create-request";
import { downloadResponse } from "./download";
import {
  accountDocument,
  customerRouter,
  exportListQuery,
  exportQuery,
  fieldsQuery,
  SECURITY,
  uuidParams,
} from "./openapi";
import { beforeRoundTrip } from "./round-trip";

export const cdrExports = customerRouter();
cdrExports.use(customerAuth);

const tags = ["cdr-exports"];
const exportId = uuidParams("The export's uuid.");
const exportDocument = customerExportDocument.openapi("CdrExportDocument");
const exportListDocument = customerExportListDocument.openapi("CdrExportListDocument");

const idempotencyKey = z.object({
  "Idempotency-Key": z.string().optional().openapi({
    description:
      'draft-ietf-httpapi-idempotency-key-header: a key of 1 to 255 printable ASCII characters, quoted (`"…"`) or bare. The same key with the same body within 24 hours answers 201 with the export the first request created; with another body, 422. Keys are per customer.',
    example: '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
  }),
});

/**
 * The customer whose creation limit this request counts against, known before any query for a `sub: "D"`
 * token, and for an access this isolate has seen. For an access seen for the first time the caller is
 * checked first (an extra round trip, once per access and isolate), so that nothing is created before the
 * limit of the right customer has counted it.
 */
async function creationCustomer(c: AppContext): Promise<number> {
  const known = expectedCustomer(c.get("caller"));
  if (known !== null) return known;
  return authorize(c, await checkCaller(c.get("d1"), c.get("caller"))).customerId;
}

function limitCreation(env: Env, customerId: number): Promise<void> {
  return enforceRateLimit(env.EXPORT_RATE_LIMITER, `customer:${customerId}`, 60);
}

/** The created export's document, with `include=account` and sparse fieldsets as on show. */
function createdDocument(
  c: AppContext,
  request: CreateRequest,
  row: ExportView,
  account: AccountView | null,
) {
  const base = origin(c);
  const data = exportResource(base, row, account, {
    fieldsets: request.fieldsets,
    withData: request.include,
  });
  return request.include && account
    ? { data, included: [accountResource(base, account, request.fieldsets)] }
    : { data };
}

const create = createRoute({
  method: "post",
  path: "/",
  tags,
  summary: "Create an export",
  description:
    "Orders an export of the CDRs of one of the caller's accounts. Replace the example's account id with one of yours (`npm start` prints the demo account's uuid in its curl line). The export starts Pending; poll it until Completed, then download the file.",
  security: SECURITY,
  request: {
    query: exportQuery,
    headers: idempotencyKey,
    body: documentBody(customerCreateDocument, {
      registry: cdrExports.openAPIRegistry,
      name: "CdrExportCreateDocument",
    }),
  },
  responses: {
    201: jsonApiResponse("Created: the export, Pending.", exportDocument),
    ...errors(400, 401, 413, 415, 422, 429),
  },
});

cdrExports.openapi(create, async (c) => {
  let customerId = await creationCustomer(c);
  await limitCreation(c.env, customerId);
  const request = await beforeRoundTrip(c, () => readCreateRequest(c));
  const valid = formValid(request);
  // Twice at most: a second time only when the access has moved to another customer since this isolate
  // last saw it (nothing was written for the customer counted first).
  for (let attempt = 1; ; attempt++) {
    const outcome = await createExport(c.get("d1"), c.get("caller"), {
      accountUuid: request.accountUuid,
      values: valid ? request.values : null,
      key: request.key,
      cdrSource: configuredSource(c.env),
      customerId,
    });
    const scope = authorize(c, outcome.caller);
    const problems = createProblems(request, outcome.accountFound);
    if (problems.length) throw validationErrors(problems);
    if (scope.customerId !== customerId && attempt === 1) {
      customerId = scope.customerId;
      await limitCreation(c.env, customerId);
      continue;
    }
    if (outcome.created) {
      // Sent after the answer: the export is stored, and a lost send is caught by the sweeper either way.
      c.executionCtx.waitUntil(enqueueExport(c.env, outcome.created.uuid, c.get("requestId")));
      return answer(jsonApi(c, createdDocument(c, request, outcome.created, outcome.account), 201));
    }
    // The key of an earlier request: the same body gets that request's export, another body a 422.
    if (outcome.stored?.found && request.key?.fingerprint === outcome.stored.fingerprint) {
      const { export: stored, account } = outcome.stored.found;
      return answer(jsonApi(c, createdDocument(c, request, stored, account), 201));
    }
    if (outcome.stored) throw keyReused();
    throw new Error(`create wrote nothing (${IDEMPOTENCY_KEY_HEADER} ${request.key ? "sent" : "absent"})`);
  }
});

/** The resources a customer request may name (fields, include). */
const RESOURCES = [CDR_EXPORTS, ACCOUNTS];

function exportOrder(sort: SortCriterion[] | null): SortKey<typeof exportView.columns>[] {
  const byId = { key: "id", descending: true } as const;
  if (!sort) return [{ key: "createdAt", descending: true }, byId];
  return [
    ...sort.map((s) => ({
      key: EXPORT_SORT_KEYS[s.field as keyof typeof EXPORT_SORT_KEYS],
      descending: s.descending,
    })),
    byId,
  ];
}

const list = createRoute({
  method: "get",
  path: "/",
  tags,
  summary: "List exports",
  description: "The caller's exports (of its allowed accounts), newest first unless `sort` says otherwise.",
  security: SECURITY,
  request: { query: exportListQuery },
  responses: { 200: jsonApiResponse("A page of exports.", exportListDocument), ...errors(400, 401) },
});

cdrExports.openapi(list, async (c) => {
  const url = new URL(c.req.url);
  const { query, conditions, order } = await beforeRoundTrip(c, () => {
    const query = readQuery(url, CDR_EXPORTS, RESOURCES, { list: true });
    return { query, conditions: filterConditions(query.filters), order: exportOrder(query.sort) };
  });
  const include = query.include.has("account");
  const listed = await listScopedExports(
    c.get("d1"),
    c.get("caller"),
    conditions,
    order,
    query.page,
    include,
  );
  const scope = authorize(c, listed.caller);
  const base = origin(c);
  const rendering = (r: (typeof listed.rows)[number]) =>
    downloadFor(c.env, base, scope, r.export).then((download) =>
      exportResource(base, r.export, r.account, { fieldsets: query.fieldsets, withData: include, download }),
    );
  const body: Record<string, unknown> = {
    data: await Promise.all(listed.rows.map(rendering)),
    meta: { "total-count": listed.total },
    links: pageLinks(`${base}${CUSTOMER_BASE}/cdr-exports`, query.params, query.page, listed.total),
  };
  if (include) {
    body.included = uniqueAccounts(listed.rows.flatMap((r) => (r.account ? [r.account] : []))).map((a) =>
      accountResource(base, a, query.fieldsets),
    );
  }
  return answer(jsonApi(c, body));
});

/** The export the path names, when it is the caller's: 400 for a malformed id, 404 for another. */
async function scopedExport(c: AppContext) {
  const id = c.req.param("id") ?? "";
  const uuid = await beforeRoundTrip(c, () => verifyUuid(id));
  const { caller, found } = await findScopedExport(c.get("d1"), c.get("caller"), uuid);
  const scope = authorize(c, caller);
  if (!found) throw recordNotFound(id);
  return { ...found, scope };
}

const show = createRoute({
  method: "get",
  path: "/{id}",
  tags,
  summary: "Show an export",
  security: SECURITY,
  request: { params: exportId, query: exportQuery },
  responses: { 200: jsonApiResponse("The export.", exportDocument), ...errors(400, 401, 404) },
});

cdrExports.openapi(show, async (c) => {
  const query = await beforeRoundTrip(c, () =>
    readQuery(new URL(c.req.url), CDR_EXPORTS, RESOURCES, { list: false }),
  );
  const { export: row, account, scope } = await scopedExport(c);
  const base = origin(c);
  const include = query.include.has("account");
  const download = await downloadFor(c.env, base, scope, row);
  const body: Record<string, unknown> = {
    data: exportResource(base, row, account, { fieldsets: query.fieldsets, withData: include, download }),
  };
  if (include) body.included = [accountResource(base, account, query.fieldsets)];
  return answer(jsonApi(c, body));
});

const linkage = createRoute({
  method: "get",
  path: "/{id}/relationships/account",
  tags,
  summary: "The export's account linkage",
  security: SECURITY,
  request: { params: exportId },
  responses: {
    200: jsonApiResponse("The linkage.", accountLinkageDocument.openapi("AccountLinkageDocument")),
    ...errors(400, 401, 404),
  },
});

cdrExports.openapi(linkage, async (c) => {
  const { export: row, account } = await scopedExport(c);
  const self = `${origin(c)}${CUSTOMER_BASE}/cdr-exports/${row.uuid}`;
  return answer(
    jsonApi(c, {
      links: { self: `${self}/relationships/account`, related: `${self}/account` },
      data: { type: "accounts", id: account.uuid },
    }),
  );
});

const related = createRoute({
  method: "get",
  path: "/{id}/account",
  tags,
  summary: "The export's account",
  security: SECURITY,
  request: { params: exportId, query: z.object({ "fields[accounts]": fieldsQuery(ACCOUNTS.attributes) }) },
  responses: { 200: jsonApiResponse("The account.", accountDocument), ...errors(400, 401, 404) },
});

cdrExports.openapi(related, async (c) => {
  const query = await beforeRoundTrip(c, () =>
    readQuery(new URL(c.req.url), ACCOUNTS, RESOURCES, { list: false }),
  );
  const { account } = await scopedExport(c);
  return answer(jsonApi(c, { data: accountResource(origin(c), account, query.fieldsets) }));
});

const download = createRoute({
  method: "get",
  path: "/{id}/download",
  tags,
  summary: "Download the file",
  description:
    "The gzip CSV of a Completed export (HEAD answers the same headers). A Pending, Failed or Deleted export: 404 with an empty body; an export that is not the caller's: 404 `Record not found`.",
  security: SECURITY,
  request: { params: exportId, headers: downloadHeaders },
  responses: { ...fileResponses, ...errors(400, 401, 404, 500) },
});

cdrExports.openapi(download, async (c) => {
  const { export: row } = await scopedExport(c);
  return answer(downloadResponse(c, row));
});

/** The signed download URL of a Completed export, else null. */
async function downloadFor(
  env: Env,
  base: string,
  scope: CustomerScope,
  row: ExportView,
): Promise<string | null> {
  if (row.status !== "Completed" || !row.objectKey) return null;
  return downloadLink(env, base, row.uuid, row.objectKey, customerGrant(scope));
}

const remove = createRoute({
  method: "delete",
  path: "/{id}",
  tags,
  summary: "Delete an export",
  description: "Marks the export Deleted and removes its file.",
  security: SECURITY,
  request: { params: exportId },
  responses: { 204: { description: "Deleted." }, ...errors(400, 401, 404) },
});

cdrExports.openapi(remove, async (c) => {
  const d1 = c.get("d1");
  const id = c.req.param("id");
  const uuid = await beforeRoundTrip(c, () => verifyUuid(id));
  const deleted = await markScopedExportDeleted(d1, c.get("caller"), uuid);
  authorize(c, deleted.caller);
  if (!deleted.found) throw recordNotFound(id);
  // The files go once the export is marked; a Deleted export that still holds some retries the clean-up.
  const row = deleted.marked ?? deleted.before;
  if (row && (deleted.marked || holdsFiles(row))) await removeFiles(c.env, row, d1);
  return c.body(null, 204);
});

function uniqueAccounts<T extends { id: number }>(accounts: T[]): T[] {
  const seen = new Map<number, T>();
  for (const a of accounts) seen.set(a.id, a);
  return [...seen.values()];
}
