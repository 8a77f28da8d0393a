// Operator API `POST /cdrs`: NDJSON ingestion of CDRs, validated whole before anything is written.
import { createRoute, z } from "@hono/zod-openapi";
import { insertCdrs, parseNdjson } from "../../cdrs/ingest";
import { ApiError } from "../../errors";
import { jsonApi } from "../../http/json-api";
import { answer, errors, ingestResult, jsonApiResponse } from "../../openapi/schemas";
import { configuredSource } from "../../pipeline/cdr-source";
import { isUniqueViolation } from "./admin-resource";
import { adminRouter, SECURITY } from "./openapi";

export const adminCdrs = adminRouter();

adminCdrs.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["cdrs"],
    summary: "Ingest CDRs",
    description:
      "One CDR a line, keys = Yeti's column names (`uuid` and `time_start` required). The whole request (up to 32 MiB) is validated before anything is written; idempotent by `uuid`. With `CDR_SOURCE=postgres` exports read Yeti's database and this route answers 409.",
    security: SECURITY,
    request: {
      body: {
        required: true,
        content: {
          // Not JSON to the validator: the handler parses and checks the lines itself (parseNdjson).
          "application/x-ndjson": {
            schema: z.string().openapi({
              description: "Newline-delimited JSON objects.",
              example:
                '{"id":1,"uuid":"9e5b0c1a-0000-4000-8000-000000000001","customer_acc_id":1,"time_start":"2020-03-28T10:00:00Z","duration":60}\n',
            }),
          },
        },
      },
    },
    responses: {
      200: jsonApiResponse("Stored.", ingestResult),
      ...errors(401, 409, 413, 415, 422),
    },
  }),
  async (c) => {
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
      return answer(
        jsonApi(c, {
          meta: { received: rows.length, inserted: counts.inserted, "already-present": counts.present },
        }),
      );
    } catch (error) {
      // uuid conflicts are skipped; a unique failure here is an id already used by another CDR.
      if (isUniqueViolation(error)) {
        throw new ApiError(422, [
          { title: "is invalid", detail: "id - is already used by a CDR with another uuid" },
        ]);
      }
      throw error;
    }
  },
);
