// Password hashing (PBKDF2-SHA256 via WebCrypto) and verification, including legacy bcrypt digests.
import bcrypt from "bcryptjs";

export const PBKDF2_ITERATIONS = 100_000; // production workerd caps PBKDF2 at 100,000 iterations
export const MIN_PASSWORD_LENGTH = 8;

const SCHEME = "pbkdf2_sha256";
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/**
 * The highest bcrypt cost imported or verified. bcrypt runs in JavaScript here (no native code in a Worker):
 * cost 10 takes ~2.5x the CPU of a PBKDF2 check, cost 12 ~10x — every wrong guess would cost up to 0.8 s
 * of CPU, and the slower answer would tell such logins apart from unknown ones.
 */
export const MAX_BCRYPT_COST = 10;

/**
 * A fixed dummy hash to verify against when the login does not exist, so timing is the same.
 * Its salt and key are random bytes with no known password behind them.
 */
export const DUMMY_PASSWORD_HASH = `${SCHEME}$${PBKDF2_ITERATIONS}$c74b2YSySgjpT43s0wU0fw==$4l4AFneP0f/1Bd4uhX5+oAET1v7gcd3X4sYFnvN4tGs=`;

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** Strict base64: only text that re-encodes to itself, so a stored hash has exactly one spelling. */
function fromBase64(text: string): Uint8Array | null {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return toBase64(bytes) === text ? bytes : null;
}

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
}

/** "pbkdf2_sha256$<iterations>$<salt b64>$<hash b64>", random 16-byte salt, 32-byte key. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const key = await pbkdf2(password, salt, PBKDF2_ITERATIONS);
  return `${SCHEME}$${PBKDF2_ITERATIONS}$${toBase64(salt)}$${toBase64(key)}`;
}

type ParsedPbkdf2 = { iterations: number; salt: Uint8Array; key: Uint8Array };

function parsePbkdf2(stored: string): ParsedPbkdf2 | null {
  const parts = stored.split("$");
  if (parts.length !== 4 || parts[0] !== SCHEME) return null;
  const [, iterationsText = "", saltText = "", keyText = ""] = parts;
  if (!/^[1-9][0-9]{0,5}$/.test(iterationsText)) return null;
  const iterations = Number(iterationsText);
  // Production workerd throws above this, so a larger count could never verify anyway.
  if (iterations > PBKDF2_ITERATIONS) return null;
  const salt = fromBase64(saltText);
  const key = fromBase64(keyText);
  if (salt === null || salt.length === 0 || key === null || key.length !== KEY_BYTES) return null;
  return { iterations, salt, key };
}

const DUMMY = parsePbkdf2(DUMMY_PASSWORD_HASH) as ParsedPbkdf2;

/** The cost of a well-formed bcrypt digest ($2a$, $2b$, $2y$, cost 04..31, 60 chars), else null. */
export function bcryptCost(text: string): number | null {
  const match = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(text);
  const cost = Number(match?.[1]);
  return match && cost >= 4 && cost <= 31 ? cost : null;
}

/** True for a bcrypt digest this Worker verifies: well-formed, cost at most MAX_BCRYPT_COST. */
export function isBcryptDigest(text: string): boolean {
  const cost = bcryptCost(text);
  return cost !== null && cost <= MAX_BCRYPT_COST;
}

/**
 * Verifies against a stored hash in constant time. PBKDF2 hashes and bcrypt digests (imported from the
 * legacy system) are accepted; anything else fails. needsRehash asks the caller to store a fresh
 * hashPassword() result, and is only set after a successful match.
 */
export async function verifyPassword(
  password: string,
  stored: string,
): Promise<{ ok: boolean; needsRehash: boolean }> {
  if (isBcryptDigest(stored)) {
    const ok = await bcrypt.compare(password, stored).catch(() => false);
    return { ok, needsRehash: ok };
  }
  const parsed = parsePbkdf2(stored);
  // A hash that cannot verify (a bcrypt digest above the cap, an unknown format) still costs a full PBKDF2
  // check, so such a login answers no faster than an unknown one.
  const target = parsed ?? DUMMY;
  const derived = await pbkdf2(password, target.salt, target.iterations);
  const ok = parsed !== null && crypto.subtle.timingSafeEqual(derived, parsed.key);
  return { ok, needsRehash: ok && parsed.iterations !== PBKDF2_ITERATIONS };
}
