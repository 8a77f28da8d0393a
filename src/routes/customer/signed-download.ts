// Token-free downloads through a signed, expiring Worker URL (`links.download` when R2 presigning is not set up).
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { accessScope, dynamicScope } from "../../auth/customer-auth";
import type { AppEnv } from "../../context";
import { db } from "../../db/client";
import { accessLookup, dynamicCustomerLookup } from "../../db/queries";
import { cdrExports } from "../../db/schema";
import { ApiError } from "../../errors";
import { type DownloadGrant, verifyWorkerUrl } from "../../exports/signed-url";
import { downloadResponse } from "./download";

export const signedDownloads = new Hono<AppEnv>();

function forbidden(detail: string): ApiError {
  return new ApiError(403, [{ title: "Forbidden", detail }]);
}

/** The export and whether the link's grant still holds, in one D1 round trip. */
async function exportAndGrant(env: Env, uuid: string, grant: DownloadGrant) {
  const d = db(env);
  const exportQuery = d.select().from(cdrExports).where(eq(cdrExports.uuid, uuid));
  if (grant.kind === "operator") return { row: await exportQuery.get(), granted: true };
  if (grant.kind === "access") {
    const [rows, access] = await d.batch([exportQuery, accessLookup(env, grant.accessId, grant.session)]);
    return { row: rows[0], granted: accessScope(grant, access[0]) !== null };
  }
  const [rows, customer] = await d.batch([
    exportQuery,
    dynamicCustomerLookup(env, grant.customerId, grant.session),
  ]);
  return {
    row: rows[0],
    granted: dynamicScope(grant, { customer_id: grant.customerId }, customer[0]) !== null,
  };
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
  const { row, granted } = await exportAndGrant(c.env, uuid, checked.grant);
  // Revoked tokens, a deleted API access or customer: the links they made end with them.
  if (!granted) throw forbidden("The download link has been revoked.");
  if (!row || row.status === "Deleted") throw ApiError.notFound();
  return downloadResponse(c, row);
});
