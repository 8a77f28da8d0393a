// Streams a Completed export's gzip file from R2 through the Worker.
import type { AppContext } from "../../context";
import { ApiError } from "../../errors";
import type { ExportRow } from "../../exports/export-store";
import { errorFields, log } from "../../log";

export async function downloadResponse(c: AppContext, row: ExportRow): Promise<Response> {
  // Yeti answers 404 with an empty body for an export that has no file (yet, or any more).
  if (row.status !== "Completed" || !row.objectKey) return c.body(null, 404);
  let object: R2ObjectBody | null;
  try {
    object = await c.env.EXPORTS_BUCKET.get(row.objectKey);
  } catch (error) {
    log("error", "download: storage error", {
      requestId: c.get("requestId"),
      exportId: row.uuid,
      ...errorFields(error),
    });
    throw new ApiError(500, [{ title: "Internal Server Error", detail: "Internal Server Error" }]);
  }
  if (!object) {
    log("error", "download: object missing", {
      requestId: c.get("requestId"),
      exportId: row.uuid,
      key: row.objectKey,
    });
    throw new ApiError(500, [{ title: "Internal Server Error", detail: "Internal Server Error" }]);
  }
  return new Response(object.body, {
    headers: {
      "Content-Type": "application/gzip",
      "Content-Length": String(object.size),
      "Content-Disposition": `attachment; filename="${row.uuid}.csv.gz"`,
      ETag: object.httpEtag,
    },
  });
}
