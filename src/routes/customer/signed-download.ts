// Token-free downloads through a signed, expiring Worker URL (`links.download` when R2 presigning is not set up).
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import type { AppEnv } from "../../context";
import { db } from "../../db/client";
import { cdrExports } from "../../db/schema";
import { ApiError } from "../../errors";
import { verifyWorkerUrl } from "../../exports/signed-url";
import { downloadResponse } from "./download";

export const signedDownloads = new Hono<AppEnv>();

signedDownloads.on(["GET", "HEAD"], "/:id", async (c) => {
  const uuid = c.req.param("id");
  const verdict = await verifyWorkerUrl(c.env, uuid, c.req.query("expires"), c.req.query("signature"));
  if (verdict !== "ok") {
    const detail =
      verdict === "expired" ? "The download link has expired." : "The download link is not valid.";
    throw new ApiError(403, [{ title: "Forbidden", detail }]);
  }
  const row = await db(c.env).select().from(cdrExports).where(eq(cdrExports.uuid, uuid)).get();
  if (!row || row.status === "Deleted") throw ApiError.notFound();
  return downloadResponse(c, row);
});
