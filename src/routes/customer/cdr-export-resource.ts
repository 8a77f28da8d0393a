// JSON:API documents of the customer API v1: cdr-exports and accounts, shaped as Yeti renders them.
import type { AccountView, ExportView } from "../../db/queries/cdr-exports";
import { isoMillis } from "../../file-format/time-format";

export const CUSTOMER_BASE = "/api/rest/customer/v1";

export function exportResource(
  origin: string,
  row: ExportView,
  account: AccountView | null,
  withData = false,
  download: string | null = null,
) {
  const self = `${origin}${CUSTOMER_BASE}/cdr-exports/${row.uuid}`;
  return {
    id: row.uuid,
    type: "cdr-exports",
    // links.download (an addition to Yeti): a short-lived URL that needs no token.
    links: download ? { self, download } : { self },
    attributes: {
      filters: row.filters,
      status: row.status,
      "rows-count": row.rowsCount,
      "created-at": isoMillis(row.createdAt),
      "updated-at": isoMillis(row.updatedAt),
      "time-format": row.timeFormat,
      "time-zone-name": row.timeZoneName,
    },
    relationships: {
      account: {
        links: { self: `${self}/relationships/account`, related: `${self}/account` },
        ...(withData ? { data: account ? { type: "accounts", id: account.uuid } : null } : {}),
      },
    },
    // Not a Yeti attribute: progress of a running export, so Yeti's attributes stay as they are.
    ...(row.status === "Pending" ? { meta: { "rows-written": row.rowsProgress } } : {}),
  };
}

export function accountResource(origin: string, account: AccountView) {
  return {
    id: account.uuid,
    type: "accounts",
    links: { self: `${origin}${CUSTOMER_BASE}/accounts/${account.uuid}` },
    attributes: {
      name: account.name,
      balance: account.balance,
      "min-balance": account.minBalance,
      "max-balance": account.maxBalance,
      "destination-rate-limit": account.destinationRateLimit,
      "origination-capacity": account.originationCapacity,
      "termination-capacity": account.terminationCapacity,
      "total-capacity": account.totalCapacity,
      currency: account.currency,
    },
  };
}
