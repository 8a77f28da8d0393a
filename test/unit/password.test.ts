// Unit tests for PBKDF2 password hashing and legacy bcrypt verification.
import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import {
  bcryptCost,
  DUMMY_PASSWORD_HASH,
  hashPassword,
  isBcryptDigest,
  MAX_BCRYPT_COST,
  MIN_PASSWORD_LENGTH,
  PBKDF2_ITERATIONS,
  verifyPassword,
} from "../../src/auth/password";

const fail = { ok: false, needsRehash: false };

/** Re-encodes a base64 field after flipping one bit of its first byte. */
function flipFirstBit(b64: string): string {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  return btoa(String.fromCharCode(...bytes));
}

describe("hashPassword / verifyPassword (PBKDF2)", () => {
  it("stores the scheme, iteration count, 16-byte salt and 32-byte key", async () => {
    const stored = await hashPassword("correct horse battery staple");
    const parts = stored.split("$");
    expect(parts).toHaveLength(4);
    expect(parts[0]).toBe("pbkdf2_sha256");
    expect(parts[1]).toBe(String(PBKDF2_ITERATIONS));
    expect(Number(parts[1])).toBeLessThanOrEqual(100_000);
    expect(atob(parts[2] ?? "")).toHaveLength(16);
    expect(atob(parts[3] ?? "")).toHaveLength(32);
  });

  it("round-trips", async () => {
    const stored = await hashPassword("correct horse battery staple");
    expect(await verifyPassword("correct horse battery staple", stored)).toEqual({
      ok: true,
      needsRehash: false,
    });
  });

  it("round-trips non-ASCII passwords", async () => {
    const stored = await hashPassword("пароль-密码-🔑");
    expect(await verifyPassword("пароль-密码-🔑", stored)).toEqual({ ok: true, needsRehash: false });
    expect((await verifyPassword("пароль-密码-", stored)).ok).toBe(false);
  });

  it("rejects a wrong password", async () => {
    const stored = await hashPassword("correct horse battery staple");
    expect(await verifyPassword("correct horse battery stapl", stored)).toEqual(fail);
    expect(await verifyPassword("Correct horse battery staple", stored)).toEqual(fail);
    expect(await verifyPassword("", stored)).toEqual(fail);
  });

  it("uses a fresh salt each time", async () => {
    const a = await hashPassword("same password");
    const b = await hashPassword("same password");
    expect(a).not.toBe(b);
    expect(a.split("$")[2]).not.toBe(b.split("$")[2]);
    expect((await verifyPassword("same password", a)).ok).toBe(true);
    expect((await verifyPassword("same password", b)).ok).toBe(true);
  });

  it("rejects a tampered hash", async () => {
    const stored = await hashPassword("tamper-proof");
    const [scheme, iterations, salt = "", key = ""] = stored.split("$");
    const tamperedKey = [scheme, iterations, salt, flipFirstBit(key)].join("$");
    const tamperedSalt = [scheme, iterations, flipFirstBit(salt), key].join("$");
    const otherCount = [scheme, "99999", salt, key].join("$");
    for (const bad of [tamperedKey, tamperedSalt, otherCount]) {
      expect(await verifyPassword("tamper-proof", bad)).toEqual(fail);
    }
  });

  it("asks for a rehash of a valid hash with another iteration count", async () => {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode("old-hash-pw"),
      "PBKDF2",
      false,
      ["deriveBits"],
    );
    const bits = await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt, iterations: 1000 },
      key,
      256,
    );
    const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
    const stored = `pbkdf2_sha256$1000$${b64(salt)}$${b64(new Uint8Array(bits))}`;
    expect(await verifyPassword("old-hash-pw", stored)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword("old-hash-pw!", stored)).toEqual(fail);
  });

  it("refuses iteration counts outside 1..100000 without running PBKDF2", async () => {
    const stored = await hashPassword("iterations");
    const [, , salt, key] = stored.split("$");
    for (const iterations of ["0", "100001", "1000000", "-1", "01", "1e5", "", " 1000", "1000.0"]) {
      expect(await verifyPassword("iterations", `pbkdf2_sha256$${iterations}$${salt}$${key}`)).toEqual(fail);
    }
  });

  it("rejects malformed PBKDF2 strings", async () => {
    const stored = await hashPassword("malformed");
    const [, iterations, salt = "", key = ""] = stored.split("$");
    const cases = [
      `pbkdf2_sha1$${iterations}$${salt}$${key}`,
      `pbkdf2_sha256$${iterations}$${salt}`,
      `pbkdf2_sha256$${iterations}$${salt}$${key}$`,
      `pbkdf2_sha256$${iterations}$$${key}`,
      `pbkdf2_sha256$${iterations}$${salt}$${key.slice(0, -4)}`,
      `pbkdf2_sha256$${iterations}$${salt}$${key.replace(/=+$/, "")}`,
      `pbkdf2_sha256$${iterations}$${salt}$ ${key}`,
      `pbkdf2_sha256$${iterations}$${salt}$${key}AAAA`,
      `PBKDF2_SHA256$${iterations}$${salt}$${key}`,
    ];
    for (const bad of cases) expect(await verifyPassword("malformed", bad)).toEqual(fail);
  });
});

describe("bcrypt digests", () => {
  it("verifies a bcrypt digest and asks for a rehash", async () => {
    const digest = await bcrypt.hash("legacy-password", 4);
    expect(isBcryptDigest(digest)).toBe(true);
    expect(await verifyPassword("legacy-password", digest)).toEqual({ ok: true, needsRehash: true });
  });

  it("accepts the $2a$ and $2y$ spellings", async () => {
    const digest = await bcrypt.hash("legacy-password", 4);
    for (const variant of ["$2a$", "$2y$"]) {
      const other = variant + digest.slice(4);
      expect(isBcryptDigest(other)).toBe(true);
      expect(await verifyPassword("legacy-password", other)).toEqual({ ok: true, needsRehash: true });
    }
  });

  it("rejects a wrong password without asking for a rehash", async () => {
    const digest = await bcrypt.hash("legacy-password", 4);
    expect(await verifyPassword("legacy-passwort", digest)).toEqual(fail);
    expect(await verifyPassword("", digest)).toEqual(fail);
  });

  it("recognises only well-formed digests of cost 4..10 (MAX_BCRYPT_COST)", async () => {
    expect(MAX_BCRYPT_COST).toBe(10);
    const digest = await bcrypt.hash("x", 4);
    const body = digest.slice(7);
    expect(isBcryptDigest(`$2b$10$${body}`)).toBe(true);
    expect(isBcryptDigest(`$2b$11$${body}`)).toBe(false);
    expect(isBcryptDigest(`$2b$12$${body}`)).toBe(false);
    expect(isBcryptDigest(`$2b$13$${body}`)).toBe(false);
    expect(isBcryptDigest(`$2b$31$${body}`)).toBe(false);
    expect(isBcryptDigest(`$2b$03$${body}`)).toBe(false);
    expect(isBcryptDigest(`$2b$4$${body}`)).toBe(false);
    expect(isBcryptDigest(`$2x$04$${body}`)).toBe(false);
    expect(isBcryptDigest(`$2$04$${body}`)).toBe(false);
    expect(isBcryptDigest(`$2b$04$${body.slice(1)}`)).toBe(false);
    expect(isBcryptDigest(`$2b$04$${body}A`)).toBe(false);
    expect(isBcryptDigest(`$2b$04$${body.slice(1)}+`)).toBe(false);
    expect(isBcryptDigest(` ${digest}`)).toBe(false);
    expect(isBcryptDigest(await hashPassword("not bcrypt"))).toBe(false);
  });

  it("does not verify a real digest above the cap (cost 11), even with the right password", async () => {
    const digest = await bcrypt.hash("expensive", 11);
    expect(await bcrypt.compare("expensive", digest)).toBe(true);
    expect(await verifyPassword("expensive", digest)).toEqual(fail);
  });

  it("reads the cost of any well-formed digest, for the operator API's message", async () => {
    const body = (await bcrypt.hash("x", 4)).slice(7);
    expect(bcryptCost(`$2a$12$${body}`)).toBe(12);
    expect(bcryptCost(`$2y$31$${body}`)).toBe(31);
    expect(bcryptCost(`$2b$03$${body}`)).toBeNull();
    expect(bcryptCost(`$2b$32$${body}`)).toBeNull();
    expect(bcryptCost("not-a-digest")).toBeNull();
  });
});

describe("unknown formats", () => {
  it.each([
    "",
    "garbage",
    "correct horse battery staple",
    "$",
    "$$$",
    "pbkdf2_sha256",
    "pbkdf2_sha256$$$",
    "argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
    "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
    "5f4dcc3b5aa765d61d8327deb882cf99",
  ])("rejects stored %j", async (stored) => {
    expect(await verifyPassword("correct horse battery staple", stored)).toEqual(fail);
  });
});

describe("timing: a login that cannot match costs what an unknown one does", () => {
  /** The median wall time of `runs` verifications (workerd's clock advances locally). */
  async function median(stored: string, runs = 5): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await verifyPassword("some guess", stored);
      times.push(performance.now() - start);
    }
    return times.sort((a, b) => a - b)[Math.floor(runs / 2)] ?? 0;
  }

  it("an unusable stored hash (a digest above the cap, garbage) runs a full PBKDF2 check", async () => {
    const unknownLogin = await median(DUMMY_PASSWORD_HASH);
    const overCap = `$2b$12$${(await bcrypt.hash("x", 4)).slice(7)}`;
    for (const stored of [overCap, "garbage", ""]) {
      expect(await median(stored), stored).toBeGreaterThan(unknownLogin / 2);
    }
  });
});

describe("DUMMY_PASSWORD_HASH", () => {
  it("is a PBKDF2 hash with the current iteration count, so it costs what a real one does", () => {
    const parts = DUMMY_PASSWORD_HASH.split("$");
    expect(parts[0]).toBe("pbkdf2_sha256");
    expect(parts[1]).toBe(String(PBKDF2_ITERATIONS));
    expect(atob(parts[2] ?? "")).toHaveLength(16);
    expect(atob(parts[3] ?? "")).toHaveLength(32);
  });

  it.each([
    "",
    "password",
    "password1",
    "12345678",
    "123456789",
    "qwertyui",
    "letmein!",
    "admin",
    "correct horse battery staple",
  ])("never verifies %j", async (password) => {
    expect(await verifyPassword(password, DUMMY_PASSWORD_HASH)).toEqual(fail);
  });
});

it("requires passwords of at least 8 characters", () => {
  expect(MIN_PASSWORD_LENGTH).toBe(8);
});
