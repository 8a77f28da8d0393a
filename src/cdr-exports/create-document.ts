// The create documents of cdr-exports (customer and operator) as zod schemas: the handlers take their frame
// (resource type, writable attributes and relationships) from them, and the OpenAPI documents describe them.
import { z } from "zod";
import { CDR_COLUMNS } from "../file-format/columns";
import { TIME_FORMATS } from "../file-format/time-format";
import { CUSTOMER_FILTERS, FILTER_DEFINITIONS, OPERATOR_FILTERS, REQUIRED_FILTERS } from "./filters";

export const EXPORT_TYPE = "cdr-exports";

const INT = z.union([z.number().int(), z.string().regex(/^-?\d{1,15}$/)]);
const LIST_TEXT = z.string().min(1).meta({ description: "comma-separated values" });

/** What `normalizeFilters` accepts for each kind of filter value. */
const FILTER_VALUES = {
  time: z.string().meta({
    description: "a time, `2019-01-01 00:00:00` or RFC 3339; without a zone it is UTC",
    examples: ["2019-01-01 00:00:00", "2019-01-01T00:00:00+02:00"],
  }),
  bool: z.union([z.boolean(), z.enum(["true", "t", "false", "f"])]),
  int: INT,
  string: z.union([z.string(), z.number()]),
  int_list: z.union([z.array(INT).min(1), LIST_TEXT]),
  string_list: z.union([z.array(z.union([z.string(), z.number()])).min(1), LIST_TEXT]),
} as const;

const required: ReadonlySet<string> = new Set(REQUIRED_FILTERS);

function filtersSchema(allowed: ReadonlySet<string>) {
  const shape: Record<string, z.ZodType> = {};
  for (const name of allowed) {
    const definition = FILTER_DEFINITIONS[name];
    if (!definition) throw new Error(`no definition for filter ${name}`);
    const value = FILTER_VALUES[definition.type];
    shape[name] = required.has(name) ? value : value.optional();
  }
  return z.strictObject(shape);
}

export const customerExportFilters = filtersSchema(CUSTOMER_FILTERS).meta({
  description: "Conditions on the CDRs, all AND-ed; `time_start_gteq` and `time_start_lt` are required.",
});
export const operatorExportFilters = filtersSchema(OPERATOR_FILTERS).meta({
  description: "Conditions on the CDRs, all AND-ed; `time_start_gteq` and `time_start_lt` are required.",
});

const timeFormat = z
  .enum(TIME_FORMATS)
  .nullable()
  .optional()
  .meta({ description: "How the time columns are written; absent = `with_timezone`." });
const timeZoneName = z.string().nullable().optional().meta({
  description: "An IANA time zone for the time columns; absent or empty = UTC.",
  example: "Europe/Kyiv",
});

export const customerCreateAttributes = z.strictObject({
  filters: customerExportFilters,
  "time-format": timeFormat,
  "time-zone-name": timeZoneName,
});

export const customerCreateRelationships = z.strictObject({
  account: z.object({
    data: z.object({
      type: z.literal("accounts"),
      id: z.uuid().meta({ description: "The account's uuid." }),
    }),
  }),
});

/** The published example of the create call (Yeti's API docs). */
export const CUSTOMER_CREATE_EXAMPLE = {
  data: {
    type: "cdr-exports",
    attributes: {
      filters: {
        time_start_gteq: "2019-01-01 00:00:00",
        time_start_lt: "2019-01-02 00:00:00",
        success_eq: true,
        duration_eq: 60,
        duration_gteq: 0,
        duration_lteq: 100,
        src_prefix_routing_eq: "123",
        dst_prefix_routing_eq: "456",
      },
    },
    relationships: { account: { data: { type: "accounts", id: "aa3432e2-a26e-11ef-a008-0242ac120003" } } },
  },
};

/** A valid customer create document (`POST /api/rest/customer/v1/cdr-exports`). */
export const customerCreateDocument = z
  .object({
    data: z.object({
      type: z.literal(EXPORT_TYPE),
      attributes: customerCreateAttributes,
      relationships: customerCreateRelationships,
    }),
  })
  .meta({ example: CUSTOMER_CREATE_EXAMPLE });

export const operatorCreateAttributes = z.strictObject({
  fields: z
    .array(z.enum(Object.keys(CDR_COLUMNS) as [string, ...string[]]))
    .min(1)
    .nullable()
    .optional()
    .meta({ description: "The CDR columns of the file, in order; absent = the customer columns." }),
  filters: operatorExportFilters,
  "callback-url": z
    .union([z.url(), z.literal("")])
    .nullable()
    .optional()
    .meta({ description: "Receives the export's id and final status when it ends (https only by default)." }),
  "time-format": timeFormat,
  "time-zone-name": timeZoneName,
});

/** A valid operator create document (`POST /api/rest/admin/cdr-exports`). */
export const operatorCreateDocument = z.object({
  data: z.object({ type: z.literal(EXPORT_TYPE), attributes: operatorCreateAttributes }),
});

/** The frame `resourceFromDocument` checks: the type and the writable member names, from the schemas. */
export type DocumentFrame = {
  type: string;
  attributes: readonly string[];
  relationships: readonly string[];
};

function frame(type: string, attributes: z.ZodObject, relationships?: z.ZodObject): DocumentFrame {
  return {
    type,
    attributes: Object.keys(attributes.shape),
    relationships: relationships ? Object.keys(relationships.shape) : [],
  };
}

export const CUSTOMER_CREATE_FRAME = frame(
  EXPORT_TYPE,
  customerCreateAttributes,
  customerCreateRelationships,
);
export const OPERATOR_CREATE_FRAME = frame(EXPORT_TYPE, operatorCreateAttributes);
