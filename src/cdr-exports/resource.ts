// The customer API's `cdr-exports` resource as data: attributes, relationship, sort keys and list filters
// (Yeti's app/resources/api/rest/customer/v1/cdr_export_resource.rb).
import { sql } from "drizzle-orm";
import { accounts, cdrExports, EXPORT_STATUSES } from "../db/schema";
import { TIME_FORMATS } from "../file-format/time-format";
import { ransackFilters } from "../http/jsonapi/filters";
import type { ResourceSpec } from "../http/jsonapi/request";

const formats: readonly string[] = TIME_FORMATS;

/** Sort field (underscored) → the export view's key it orders by; `id` is the UUID. */
export const EXPORT_SORT_KEYS = {
  id: "uuid",
  filters: "filters",
  status: "status",
  rows_count: "rowsCount",
  created_at: "createdAt",
  updated_at: "updatedAt",
  time_format: "timeFormat",
  time_zone_name: "timeZoneName",
} as const;

export const CDR_EXPORTS: ResourceSpec = {
  type: "cdr-exports",
  attributes: [
    "filters",
    "status",
    "rows-count",
    "created-at",
    "updated-at",
    "time-format",
    "time-zone-name",
  ],
  relationships: { account: "accounts" },
  sortable: Object.keys(EXPORT_SORT_KEYS),
  filters: {
    ...ransackFilters("status", "enum", sql`${cdrExports.status}`, EXPORT_STATUSES),
    ...ransackFilters("rows_count", "number", sql`${cdrExports.rowsCount}`),
    ...ransackFilters("created_at", "datetime", sql`${cdrExports.createdAt}`),
    ...ransackFilters("updated_at", "datetime", sql`${cdrExports.updatedAt}`),
    ...ransackFilters("time_zone_name", "string", sql`${cdrExports.timeZoneName}`),
    ...ransackFilters("account_id", "uuid", sql`${accounts.uuid}`),
    // Yeti's own verifier names `with_timezone` where the filter's name belongs (kept: clients see it).
    time_format: {
      kind: "list",
      column: sql`${cdrExports.timeFormat}`,
      verify: (value) => formats.includes(value),
      errorName: "with_timezone",
    },
  },
};
