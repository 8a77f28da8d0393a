// Token-free downloads through a signed, expiring Worker URL (`links.download` when R2 presigning is not set up).
import { Hono } from "hono";
import { type DownloadGrant, verifyWorkerUrl } from "../../cdr-exports/signed-url";
import type { AppEnv, Caller } from "../../context";
import { findLinkedExport } from "../../db/queries/cdr-exports";
import { ApiError } from "../../errors";
import { recordNotFound } from "../../http/jsonapi/errors";
import { downloadResponse } from "./download";

export const signedDownloads = new Hono<AppEnv>();

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

signedDownloads.on(["GET", "HEAD"], "/:id", async (c) => {
  const uuid = c.req.param("id");
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
});
