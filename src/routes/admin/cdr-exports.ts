// Operator API `cdr-exports`: any column list, the full filter set, callbacks; list, show, download, delete.

import { createRoute } from "@hono/zod-openapi";
import { desc } from "drizzle-orm";
import { OPERATOR_CREATE_FRAME, operatorCreateDocument } from "../../cdr-exports/create-document";
import { normalizeFilters, OPERATOR_FILTERS } from "../../cdr-exports/filters";
import { exportFormatAttributes } from "../../cdr-exports/format-attributes";
import { downloadLink } from "../../cdr-exports/signed-url";
import type { AppContext } from "../../context";
import { type ExportRow, insertExport } from "../../db/queries/cdr-exports";
import { cdrExports } from "../../db/schema";
import { type FieldProblem, validationError } from "../../errors";
import { CDR_COLUMNS, customerColumns } from "../../file-format/columns";
import { isoMillis } from "../../file-format/time-format";
import { jsonApi, readJsonBody, resourceFromDocument } from "../../http/json-api";
import {
  answer,
  documentBody,
  downloadHeaders,
  errors,
  fileResponses,
  jsonApiResponse,
  listDocument,
  operatorExportResource,
  showDocument,
} from "../../openapi/schemas";
import { callbackUrlProblem } from "../../pipeline/callback-guard";
import { deleteExport } from "../../pipeline/lifecycle";
import { enqueueExport } from "../../pipeline/queue";
import { downloadResponse } from "../customer/download";
import { ADMIN_BASE, findById, pagedList } from "./admin-resource";
import { adminRouter, idParams, pageParams, SECURITY } from "./openapi";

async function render(c: AppContext, row: ExportRow) {
  const origin = new URL(c.req.url).origin;
  const self = `${origin}${ADMIN_BASE}/cdr-exports/${row.id}`;
  const download =
    row.status === "Completed" && row.objectKey
      ? await downloadLink(c.env, origin, row.uuid, row.objectKey, { kind: "operator" })
      : null;
  return {
    id: String(row.id),
    type: "cdr-exports",
    links: { self, ...(download ? { download } : {}) },
    attributes: {
      uuid: row.uuid,
      fields: row.fields,
      filters: row.filters,
      status: row.status,
      "rows-count": row.rowsCount,
      "callback-url": row.callbackUrl,
      "callback-status": row.callbackStatus,
      "callback-error": row.callbackError,
      "time-format": row.timeFormat,
      "time-zone-name": row.timeZoneName,
      "created-at": isoMillis(row.createdAt),
      "updated-at": isoMillis(row.updatedAt),
    },
    ...(row.status === "Pending" ? { meta: { "rows-written": row.rowsProgress } } : {}),
  };
}

function fieldsFrom(value: unknown, problems: FieldProblem[]): string[] {
  const pointer = "/data/attributes/fields";
  if (value === undefined || value === null) return customerColumns([]);
  if (!Array.isArray(value) || value.length === 0 || !value.every((f) => typeof f === "string")) {
    problems.push({ key: "fields", message: "must be a non-empty list of column names", pointer });
    return [];
  }
  // Own keys only: `in` would let "constructor" or "toString" through to the SQL.
  const unknown = value.filter((f) => !Object.hasOwn(CDR_COLUMNS, f));
  if (unknown.length) problems.push({ key: "fields", message: `${unknown.join(", ")} not allowed`, pointer });
  return [...new Set(value as string[])];
}

const tags = ["cdr-exports"];
const one = showDocument(operatorExportResource);

export const adminCdrExports = adminRouter();

adminCdrExports.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags,
    summary: "Create an export",
    description: "Any column list (`fields`), the full filter set, and an optional callback.",
    security: SECURITY,
    request: { body: documentBody(operatorCreateDocument) },
    responses: { 201: jsonApiResponse("Created, Pending.", one), ...errors(400, 401, 413, 415, 422) },
  }),
  async (c) => {
    const { type, attributes, relationships } = OPERATOR_CREATE_FRAME;
    const input = resourceFromDocument(await readJsonBody(c), type, attributes, relationships);
    const a = input.attributes;
    const problems: FieldProblem[] = [];
    const fields = fieldsFrom(a.fields, problems);
    const { filters, problems: filterProblems } = normalizeFilters(a.filters, OPERATOR_FILTERS);
    for (const message of filterProblems) {
      problems.push({ key: "filters", message, pointer: "/data/attributes/filters" });
    }
    let callbackUrl: string | null = null;
    if (a["callback-url"] !== undefined && a["callback-url"] !== null && a["callback-url"] !== "") {
      const problem =
        typeof a["callback-url"] === "string"
          ? callbackUrlProblem(c.env, a["callback-url"])
          : "is not a valid URL";
      if (problem)
        problems.push({ key: "callback-url", message: problem, pointer: "/data/attributes/callback-url" });
      else callbackUrl = a["callback-url"] as string;
    }
    const format = exportFormatAttributes(a, problems);
    if (problems.length) throw validationError(problems);
    const row = await insertExport(c.env, {
      filters,
      fields,
      ...format,
      callbackUrl,
      customerAccountId: null,
    });
    await enqueueExport(c.env, row.uuid, c.get("requestId"));
    return answer(jsonApi(c, { data: await render(c, row) }, 201));
  },
);

adminCdrExports.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags,
    summary: "List exports",
    description: "Every export, newest first.",
    security: SECURITY,
    request: { query: pageParams },
    responses: {
      200: jsonApiResponse("A page of exports.", listDocument(operatorExportResource)),
      ...errors(400, 401),
    },
  }),
  async (c) => {
    const { rows, ...list } = await pagedList(c, cdrExports, desc(cdrExports.id));
    return answer(jsonApi(c, { data: await Promise.all(rows.map((row) => render(c, row))), ...list }));
  },
);

adminCdrExports.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags,
    summary: "Show an export",
    security: SECURITY,
    request: { params: idParams },
    responses: { 200: jsonApiResponse("The export.", one), ...errors(401, 404) },
  }),
  async (c) => answer(jsonApi(c, { data: await render(c, await findById(c, cdrExports)) })),
);

adminCdrExports.openapi(
  createRoute({
    method: "get",
    path: "/{id}/download",
    tags,
    summary: "Download the file",
    description: "A Pending, Failed or Deleted export: 404 with an empty body.",
    security: SECURITY,
    request: { params: idParams, headers: downloadHeaders },
    responses: { ...fileResponses, ...errors(401, 404, 500) },
  }),
  async (c) => answer(downloadResponse(c, await findById(c, cdrExports))),
);

adminCdrExports.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags,
    summary: "Delete an export",
    description: "Marks it Deleted and removes its file.",
    security: SECURITY,
    request: { params: idParams },
    responses: { 204: { description: "Deleted." }, ...errors(401, 404) },
  }),
  async (c) => {
    // Also for an export already Deleted: that retries a clean-up a storage error interrupted.
    await deleteExport(c.env, await findById(c, cdrExports));
    return c.body(null, 204);
  },
);
