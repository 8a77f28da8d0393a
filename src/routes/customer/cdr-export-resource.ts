// The JSON:API document of a `cdr-exports` record, shaped as Yeti renders it (sparse fieldsets included).
import type { AccountView, ExportView } from "../../db/queries/cdr-exports";
import { isoMillis } from "../../file-format/time-format";
import { type Fieldsets, wants } from "../../http/jsonapi/request";
import { CUSTOMER_BASE } from "./account-resource";

export type ExportRendering = {
  fieldsets?: Fieldsets;
  /** `include=account`: the relationship carries its linkage. */
  withData?: boolean;
  download?: string | null;
};

export function exportResource(
  origin: string,
  row: ExportView,
  account: AccountView | null,
  { fieldsets = new Map(), withData = false, download = null }: ExportRendering = {},
) {
  const self = `${origin}${CUSTOMER_BASE}/cdr-exports/${row.uuid}`;
  const values: Record<string, unknown> = {
    filters: row.filters,
    status: row.status,
    "rows-count": row.rowsCount,
    "created-at": isoMillis(row.createdAt),
    "updated-at": isoMillis(row.updatedAt),
    "time-format": row.timeFormat,
    "time-zone-name": row.timeZoneName,
  };
  const attributes = Object.fromEntries(
    Object.entries(values).filter(([name]) => wants(fieldsets, "cdr-exports", name)),
  );
  const relationship = {
    links: { self: `${self}/relationships/account`, related: `${self}/account` },
    ...(withData ? { data: account ? { type: "accounts", id: account.uuid } : null } : {}),
  };
  return {
    id: row.uuid,
    type: "cdr-exports",
    // links.download (an addition to Yeti): a short-lived URL that needs no token.
    links: download ? { self, download } : { self },
    ...(Object.keys(attributes).length ? { attributes } : {}),
    ...(wants(fieldsets, "cdr-exports", "account") ? { relationships: { account: relationship } } : {}),
    // Not a Yeti attribute: progress of a running export, so Yeti's attributes stay as they are.
    ...(row.status === "Pending" ? { meta: { "rows-written": row.rowsProgress } } : {}),
  };
}
