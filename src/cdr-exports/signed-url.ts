// Short-lived download URLs: an R2 presigned URL where S3 credentials are set, else an HMAC-signed Worker URL.
import { AwsClient } from "aws4fetch";
import { base64url, fromBase64url } from "../auth/base64url";
import { config } from "../config";
import type { CustomerScope } from "../context";

export const SIGNED_DOWNLOAD_PATH = "/api/rest/customer/v1/cdr-export-files";
const encoder = new TextEncoder();

type R2Credentials = { accountId: string; accessKeyId: string; secretAccessKey: string; bucket: string };

function r2Credentials(env: Env): R2Credentials | null {
  const { R2_ACCOUNT_ID: accountId, R2_ACCESS_KEY_ID: accessKeyId } = config(env);
  const { R2_SECRET_ACCESS_KEY: secretAccessKey, R2_BUCKET_NAME: bucket } = config(env);
  return accountId && accessKeyId && secretAccessKey && bucket
    ? { accountId, accessKeyId, secretAccessKey, bucket }
    : null;
}

/** An R2 (S3 API) presigned GET for the object, with the download's file name and type. */
export async function presignR2(credentials: R2Credentials, key: string, filename: string, ttl: number) {
  const client = new AwsClient({
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    service: "s3",
    region: "auto",
  });
  const url = new URL(
    `https://${credentials.accountId}.r2.cloudflarestorage.com/${credentials.bucket}/${key}`,
  );
  url.searchParams.set("X-Amz-Expires", String(ttl));
  url.searchParams.set("response-content-disposition", `attachment; filename="${filename}"`);
  url.searchParams.set("response-content-type", "application/gzip");
  const signed = await client.sign(url.toString(), { method: "GET", aws: { signQuery: true } });
  return signed.url;
}

const keys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key, derived once per isolate and secret (a list page signs up to 1000 links). */
function hmacKey(env: Env): Promise<CryptoKey> {
  const { DOWNLOAD_URL_SECRET, CUSTOMER_V1_JWT_SECRET } = config(env);
  const cacheKey = `${DOWNLOAD_URL_SECRET ?? ""}\u0000${CUSTOMER_V1_JWT_SECRET}`;
  let key = keys.get(cacheKey);
  if (!key) {
    key = importHmacKey(env);
    keys.set(cacheKey, key);
  }
  return key;
}

/** The HMAC key: derived from the JWT secret with HKDF (its own purpose label), unless one is set. */
async function importHmacKey(env: Env): Promise<CryptoKey> {
  const { DOWNLOAD_URL_SECRET, CUSTOMER_V1_JWT_SECRET } = config(env);
  if (DOWNLOAD_URL_SECRET) {
    return crypto.subtle.importKey(
      "raw",
      encoder.encode(DOWNLOAD_URL_SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
  }
  const base = await crypto.subtle.importKey("raw", encoder.encode(CUSTOMER_V1_JWT_SECRET), "HKDF", false, [
    "deriveKey",
  ]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(),
      info: encoder.encode("cdr-exports download url v1"),
    },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

/**
 * Whose authority a Worker URL carries: the token that asked for it (its access or, for a `sub: "D"` token,
 * its customer, with its `iat` and session), so revoking or deleting either makes the link fail; or the
 * operator's, which expiry alone ends.
 */
export type DownloadGrant =
  | { kind: "access"; accessId: number; iat: number; session: string }
  | { kind: "customer"; customerId: number; iat: number; session: string }
  | { kind: "operator" };

const OPERATOR_GRANT = "operator";
const GRANT = /^([ad])([1-9]\d{0,14})\.(0|[1-9]\d{0,11})\.([A-Za-z0-9_-]{16,64})$/;

/** The grant of the customer token behind a request (`iat` in whole seconds). */
export function customerGrant(scope: CustomerScope): DownloadGrant {
  const iat = Math.max(0, Math.floor(scope.iat));
  return scope.accessId === "D"
    ? { kind: "customer", customerId: scope.customerId, iat, session: scope.session }
    : { kind: "access", accessId: scope.accessId, iat, session: scope.session };
}

function formatGrant(grant: DownloadGrant): string {
  if (grant.kind === "operator") return OPERATOR_GRANT;
  const principal = grant.kind === "access" ? `a${grant.accessId}` : `d${grant.customerId}`;
  return `${principal}.${grant.iat}.${grant.session}`;
}

function parseGrant(text: string): DownloadGrant | null {
  if (text === OPERATOR_GRANT) return { kind: "operator" };
  const match = GRANT.exec(text);
  if (!match) return null;
  const [, kind, id = "", iat = "", session = ""] = match;
  return kind === "a"
    ? { kind: "access", accessId: Number(id), iat: Number(iat), session }
    : { kind: "customer", customerId: Number(id), iat: Number(iat), session };
}

const message = (exportId: string, expires: number, grant: string) =>
  encoder.encode(`${exportId}.${expires}.${grant}`);

const MAX_SIGNATURES = 10_000;
/** Signatures made, per key: a list page signs the same links again within their expiry minute. */
const signatures = new WeakMap<CryptoKey, Map<string, string>>();

async function signature(key: CryptoKey, exportId: string, expires: number, granted: string) {
  let made = signatures.get(key);
  if (!made) {
    made = new Map();
    signatures.set(key, made);
  }
  const signed = `${exportId}.${expires}.${granted}`;
  let value = made.get(signed);
  if (value === undefined) {
    value = base64url(await crypto.subtle.sign("HMAC", key, message(exportId, expires, granted)));
    if (made.size >= MAX_SIGNATURES) made.clear();
    made.set(signed, value);
  }
  return value;
}

export async function signWorkerUrl(
  env: Env,
  origin: string,
  exportId: string,
  expires: number,
  grant: DownloadGrant,
): Promise<string> {
  const granted = formatGrant(grant);
  const signed = await signature(await hmacKey(env), exportId, expires, granted);
  // Every part is URL-safe as it is (digits, a grant of [A-Za-z0-9._-], base64url): no escaping needed.
  return `${origin}${SIGNED_DOWNLOAD_PATH}/${exportId}?expires=${expires}&grant=${granted}&signature=${signed}`;
}

export type UrlVerdict = { verdict: "ok"; grant: DownloadGrant } | { verdict: "expired" | "invalid" };

/** Checks expiry, grant and the HMAC (crypto.subtle.verify compares in constant time). */
export async function verifyWorkerUrl(
  env: Env,
  exportId: string,
  params: { expires?: string; grant?: string; signature?: string },
  now = Date.now(),
): Promise<UrlVerdict> {
  // Canonical decimal only (no leading zeros): one URL per (export, expiry), like the signature below.
  const expires = /^[1-9]\d{0,11}$/.test(params.expires ?? "") ? Number(params.expires) : Number.NaN;
  const signature = /^[A-Za-z0-9_-]{1,100}$/.test(params.signature ?? "")
    ? fromBase64url(params.signature ?? "")
    : null;
  const grant = parseGrant(params.grant ?? "");
  if (!Number.isSafeInteger(expires) || !signature || !grant) return { verdict: "invalid" };
  const valid = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(env),
    signature,
    message(exportId, expires, formatGrant(grant)),
  );
  if (!valid) return { verdict: "invalid" };
  return expires * 1000 < now ? { verdict: "expired" } : { verdict: "ok", grant };
}

/** `links.download` of a Completed export. */
export async function downloadLink(
  env: Env,
  origin: string,
  exportId: string,
  key: string,
  grant: DownloadGrant,
): Promise<string> {
  const ttl = config(env).DOWNLOAD_URL_TTL_SECONDS;
  const credentials = r2Credentials(env);
  // R2 checks its own signature: a presigned URL cannot be revoked and lives out its TTL (README, Security).
  if (credentials) return presignR2(credentials, key, `${exportId}.csv.gz`, ttl);
  // The expiry is rounded up to the minute so a record's body (and ETag) stays the same within a minute.
  return signWorkerUrl(env, origin, exportId, Math.ceil((Date.now() / 1000 + ttl) / 60) * 60, grant);
}
