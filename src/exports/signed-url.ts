// Short-lived download URLs: an R2 presigned URL where S3 credentials are set, else an HMAC-signed Worker URL.
import { AwsClient } from "aws4fetch";

export const SIGNED_DOWNLOAD_PATH = "/api/rest/customer/v1/cdr-export-files";
const DEFAULT_TTL_SECONDS = 15 * 60;
const encoder = new TextEncoder();

export function downloadTtlSeconds(env: Env): number {
  const n = Number(env.DOWNLOAD_URL_TTL_SECONDS);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_TTL_SECONDS;
}

type R2Credentials = { accountId: string; accessKeyId: string; secretAccessKey: string; bucket: string };

function r2Credentials(env: Env): R2Credentials | null {
  const accountId = env.R2_ACCOUNT_ID;
  const accessKeyId = env.R2_ACCESS_KEY_ID;
  const secretAccessKey = env.R2_SECRET_ACCESS_KEY;
  const bucket = env.R2_BUCKET_NAME;
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
  const cacheKey = `${env.DOWNLOAD_URL_SECRET ?? ""}\u0000${env.CUSTOMER_V1_JWT_SECRET}`;
  let key = keys.get(cacheKey);
  if (!key) {
    key = importHmacKey(env);
    keys.set(cacheKey, key);
  }
  return key;
}

/** The HMAC key: derived from the JWT secret with HKDF (its own purpose label), unless one is set. */
async function importHmacKey(env: Env): Promise<CryptoKey> {
  if (env.DOWNLOAD_URL_SECRET) {
    return crypto.subtle.importKey(
      "raw",
      encoder.encode(env.DOWNLOAD_URL_SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
  }
  const base = await crypto.subtle.importKey(
    "raw",
    encoder.encode(env.CUSTOMER_V1_JWT_SECRET),
    "HKDF",
    false,
    ["deriveKey"],
  );
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

function base64url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

/**
 * Strict base64url: only the canonical spelling of the bytes is accepted. atob ignores the unused low
 * bits of the last character, so without the round trip several signatures would verify as one.
 */
function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(text)) return null;
  let bytes: Uint8Array;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
  return base64url(bytes.buffer as ArrayBuffer) === text ? bytes : null;
}

const message = (exportId: string, expires: number) => encoder.encode(`${exportId}.${expires}`);

export async function signWorkerUrl(
  env: Env,
  origin: string,
  exportId: string,
  expires: number,
): Promise<string> {
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(env), message(exportId, expires));
  return `${origin}${SIGNED_DOWNLOAD_PATH}/${exportId}?expires=${expires}&signature=${base64url(signature)}`;
}

/** Checks expiry and the HMAC (crypto.subtle.verify compares in constant time). */
export async function verifyWorkerUrl(
  env: Env,
  exportId: string,
  expiresParam: string | undefined,
  signatureParam: string | undefined,
  now = Date.now(),
): Promise<"ok" | "expired" | "invalid"> {
  // Canonical decimal only (no leading zeros): one URL per (export, expiry), like the signature below.
  const expires = /^[1-9]\d{0,11}$/.test(expiresParam ?? "") ? Number(expiresParam) : Number.NaN;
  const signature = fromBase64url(signatureParam ?? "");
  if (!Number.isSafeInteger(expires) || !signature) return "invalid";
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(env), signature, message(exportId, expires));
  if (!valid) return "invalid";
  return expires * 1000 < now ? "expired" : "ok";
}

/** `links.download` of a Completed export. */
export async function downloadLink(env: Env, origin: string, exportId: string, key: string): Promise<string> {
  const ttl = downloadTtlSeconds(env);
  const credentials = r2Credentials(env);
  if (credentials) return presignR2(credentials, key, `${exportId}.csv.gz`, ttl);
  // The expiry is rounded up to the minute so a record's body (and ETag) stays the same within a minute.
  return signWorkerUrl(env, origin, exportId, Math.ceil((Date.now() / 1000 + ttl) / 60) * 60);
}
