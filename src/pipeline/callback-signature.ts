// Callback signatures: HMAC-SHA256 of `<timestamp>.<body>` under CALLBACK_SIGNING_SECRET, so a receiver can tell ours from forgeries.

import { config } from "../config";

export const TIMESTAMP_HEADER = "X-Yeti-Timestamp";
export const SIGNATURE_HEADER = "X-Yeti-Signature";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    keys.set(secret, key);
  }
  return key;
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The headers that sign `body`: `X-Yeti-Timestamp: <unix seconds>` and `X-Yeti-Signature: v1=<hex>`, one
 * `v1=` per secret of the comma-separated CALLBACK_SIGNING_SECRET (two during a rotation). None when unset.
 */
export async function signatureHeaders(
  env: Env,
  body: string,
  now = Date.now(),
): Promise<Record<string, string>> {
  const secrets = config(env).CALLBACK_SIGNING_SECRET;
  if (!secrets.length) return {};
  const timestamp = String(Math.floor(now / 1000));
  const signed = encoder.encode(`${timestamp}.${body}`);
  const signatures = await Promise.all(
    secrets.map(
      async (secret) => `v1=${hex(await crypto.subtle.sign("HMAC", await hmacKey(secret), signed))}`,
    ),
  );
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signatures.join(",") };
}
