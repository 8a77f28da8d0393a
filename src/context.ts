// The app's Hono types: bindings and per-request variables.
import type { Context } from "hono";

/** Who the customer API caller is, and which accounts it may see. */
export type CustomerScope = {
  /** The API access id, or "D" for a dynamic token minted without an API access record. */
  accessId: number | "D";
  customerId: number;
  /** Empty = every account of the customer. */
  accountIds: number[];
  allowedIps: string[];
  /** Yeti's `allow-rec`: the access may listen to recordings (never for "D"). */
  allowRec: boolean;
  /** The token's `iat` and session: download links carry them, so revoking the token stops its links. */
  iat: number;
  session: string;
};

export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    customer: CustomerScope;
  };
};

export type AppContext = Context<AppEnv>;
