// Operator API `POST /cdrs`: NDJSON ingestion of CDRs, validated whole before anything is written.
import { Hono } from "hono";
import { insertCdrs, parseNdjson } from "../../cdrs/ingest";
import type { AppEnv } from "../../context";
import { ApiError } from "../../errors";
import { jsonApi } from "../../http/json-api";
import { configuredSource } from "../../pipeline/cdr-source";
import { isUniqueViolation } from "./admin-resource";

export const adminCdrs = new Hono<AppEnv>().post("/", async (c) => {
  const source = configuredSource(c.env);
  if (source !== "d1") {
    // Exports read Yeti's own CDR database: CDRs pushed here would never be exported.
    throw new ApiError(409, [
      {
        title: "CDR ingestion is off",
        detail: `CDRs are read from ${source === "postgres" ? "PostgreSQL (CDR_SOURCE=postgres)" : `CDR_SOURCE ${source}`}; this route stores CDRs for CDR_SOURCE=d1 only.`,
      },
    ]);
  }
  const type = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-ndjson") {
    throw new ApiError(415, [
      {
        title: "Unsupported media type",
        detail: "CDRs are sent as application/x-ndjson, one JSON object a line.",
      },
    ]);
  }
  const { rows, problems } = parseNdjson(await c.req.text());
  if (problems.length) {
    throw new ApiError(
      422,
      problems.map((p) => ({
        title: p.message,
        detail: p.column ? `line ${p.line}: ${p.column} - ${p.message}` : `line ${p.line}: ${p.message}`,
        source: { pointer: p.column ? `/${p.line}/${p.column}` : `/${p.line}` },
      })),
    );
  }
  try {
    const counts = await insertCdrs(c.env, rows);
    return jsonApi(c, {
      meta: { received: rows.length, inserted: counts.inserted, "already-present": counts.present },
    });
  } catch (error) {
    // uuid conflicts are skipped; a unique failure here is an id already used by another CDR.
    if (isUniqueViolation(error)) {
      throw new ApiError(422, [
        { title: "is invalid", detail: "id - is already used by a CDR with another uuid" },
      ]);
    }
    throw error;
  }
});
