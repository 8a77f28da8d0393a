// Secrets the Worker uses only when they are set (`wrangler secret put`); `wrangler types` lists required ones only.
interface Env {
  /** R2 S3-API credentials: with them (and R2_ACCOUNT_ID, R2_BUCKET_NAME) download links are R2 presigned URLs. */
  R2_ACCESS_KEY_ID?: string;
  R2_SECRET_ACCESS_KEY?: string;
  /** HMAC key of Worker-signed download URLs; when absent it is derived from CUSTOMER_V1_JWT_SECRET with HKDF. */
  DOWNLOAD_URL_SECRET?: string;
  /** HMAC key(s) of callback signatures (comma-separated while rotating); unset = callbacks are unsigned. */
  CALLBACK_SIGNING_SECRET?: string;
  /**
   * A PostgreSQL connection string used instead of the Hyperdrive binding CDR_DB (a direct connection, for
   * a deployment where COPY does not pass through Hyperdrive); the same code reads through either.
   */
  CDR_PG_CONNECTION_STRING?: string;
}
