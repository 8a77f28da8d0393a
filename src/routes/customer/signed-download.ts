// Token-free downloads through a signed, expiring Worker URL (`links.download` when R2 presigning is not set up).
import { createRoute, z } from "@hono/zod-openapi";
import { type DownloadGrant, verifyWorkerUrl } from "../../cdr-exports/signed-url";
import type { AppContext, Caller } from "../../context";
import { findLinkedExport } from "../../db/queries/cdr-exports";
import { ApiError } from "../../errors";
import { recordNotFound } from "../../http/jsonapi/errors";
import { answer, downloadHeaders, errors, fileResponses } from "../../openapi/schemas";
import { downloadResponse } from "./download";
import { customerRouter, queryParam, uuidParams } from "./openapi";

export const signedDownloads = customerRouter();

function forbidden(detail: string): ApiError {
  return new ApiError(403, [{ title: "Forbidden", detail }]);
}

/** The credentials a customer's link carries, checked as a request's token would be, from anywhere. */
function grantCaller(grant: DownloadGrant): Caller | null {
  if (grant.kind === "operator") return null;
  const { iat, session } = grant;
  return grant.kind === "access"
    ? { kind: "access", accessId: grant.accessId, iat, session, networks: null }
    : { kind: "customer", customerId: grant.customerId, accountIds: [], iat, session };
}

/** What the link carries besides the path: verifyWorkerUrl answers a link without them 403, not a validator. */
const linkQuery = z.object({
  expires: queryParam(z.number().int(), "Expiry, in seconds since the epoch.", { required: true }),
  grant: queryParam(z.string(), "Whose credentials made the link (signed with it).", { required: true }),
  signature: queryParam(z.string(), "The link's signature.", { required: true }),
});

async function serve(c: AppContext) {
  const uuid = c.req.param("id") ?? "";
  const checked = await verifyWorkerUrl(c.env, uuid, {
    expires: c.req.query("expires"),
    grant: c.req.query("grant"),
    signature: c.req.query("signature"),
  });
  if (checked.verdict === "expired") throw forbidden("The download link has expired.");
  if (checked.verdict !== "ok") throw forbidden("The download link is not valid.");
  const { row, granted } = await findLinkedExport(c.get("d1"), uuid, grantCaller(checked.grant));
  // Revoked tokens, a deleted API access or customer: the links they made end with them.
  if (!granted) throw forbidden("The download link has been revoked.");
  if (!row || row.status === "Deleted") throw recordNotFound(uuid);
  return downloadResponse(c, row);
}

// GET and HEAD, each its own definition (Hono answers a HEAD with its GET route; the HEAD one documents it).
for (const method of ["get", "head"] as const) {
  signedDownloads.openapi(
    createRoute({
      method,
      path: "/{id}",
      tags: ["cdr-exports"],
      summary: method === "get" ? "Download through a signed link" : "Check a signed link",
      description: "The URL in a Completed export's `links.download`: short-lived, signed, no token needed.",
      security: [],
      request: { params: uuidParams("The export's uuid."), headers: downloadHeaders, query: linkQuery },
      responses: { ...fileResponses, ...errors(403, 404, 500) },
    }),
    async (c) => answer(serve(c)),
  );
}
