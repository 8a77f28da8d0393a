// Serves a Completed export's gzip file from R2: GET/HEAD, one Range (and If-Range), ETag, If-None-Match.

import { parseRange } from "../../cdr-exports/byte-range";
import type { AppContext } from "../../context";
import type { ExportRow } from "../../db/queries/cdr-exports";
import { ApiError } from "../../errors";

/** What serving a file needs of its export. */
type Served = Pick<ExportRow, "uuid" | "status" | "objectKey">;

import { errorFields, log } from "../../log";

function storageError(c: AppContext, row: Served, message: string, fields: Record<string, unknown> = {}) {
  log("error", message, { requestId: c.get("requestId"), exportId: row.uuid, key: row.objectKey, ...fields });
  return new ApiError(500, [{ title: "Internal Server Error", detail: "Internal Server Error" }]);
}

/** True when If-None-Match names the object's ETag (weak comparison, as RFC 9110 asks for it). */
function notModified(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => tag.trim() === "*" || bare(tag) === bare(etag));
}

/**
 * If-Range (RFC 9110 §13.1.5): the Range is honoured only when the validator is the object's ETag
 * (strong comparison); another ETag or a date means the client holds another version: send it all.
 */
function rangeApplies(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  const tag = header.trim();
  return !tag.startsWith("W/") && tag === etag;
}

export async function downloadResponse(c: AppContext, row: Served): Promise<Response> {
  // Yeti answers 404 with an empty body for an export that has no file (yet, or any more).
  if (row.status !== "Completed" || !row.objectKey) return c.body(null, 404);
  const bucket = c.env.EXPORTS_BUCKET;
  let head: R2Object | null;
  try {
    head = await bucket.head(row.objectKey);
  } catch (error) {
    throw storageError(c, row, "download: storage error", errorFields(error));
  }
  if (!head) throw storageError(c, row, "download: object missing");

  // The body is the gzip file itself: no Content-Encoding, so clients do not inflate it on the way.
  const headers: Record<string, string> = {
    "Content-Type": "application/gzip",
    "Content-Disposition": `attachment; filename="${row.uuid}.csv.gz"`,
    "Accept-Ranges": "bytes",
    ETag: head.httpEtag,
    "Cache-Control": "private, max-age=0, must-revalidate",
  };
  if (notModified(c.req.header("If-None-Match"), head.httpEtag)) return c.body(null, 304, headers);

  const range = rangeApplies(c.req.header("If-Range"), head.httpEtag)
    ? parseRange(c.req.header("Range"), head.size)
    : null;
  if (range === "unsatisfiable") {
    return c.body(null, 416, { ...headers, "Content-Range": `bytes */${head.size}` });
  }
  const status = range ? 206 : 200;
  const length = range ? range.length : head.size;
  if (range)
    headers["Content-Range"] = `bytes ${range.offset}-${range.offset + range.length - 1}/${head.size}`;
  headers["Content-Length"] = String(length);
  if (c.req.method === "HEAD") return c.body(null, status, headers);

  let object: R2ObjectBody | null;
  try {
    object = await bucket.get(row.objectKey, range ? { range } : {});
  } catch (error) {
    throw storageError(c, row, "download: storage error", errorFields(error));
  }
  if (!object) throw storageError(c, row, "download: object missing");
  return new Response(object.body, { status, headers });
}
