// links.download: the token-free, expiring download URL of a Completed export — an HMAC-signed Worker URL,
// or an R2 presigned URL (aws4fetch) when R2 S3 credentials are set. The presigned URL's signature is
// recomputed here from the SigV4 rules, independently of aws4fetch.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { downloadLink, presignR2, signWorkerUrl, verifyWorkerUrl } from "../src/cdr-exports/signed-url";
import { BASE, CUSTOMER, call, customer, json, list, seedExport, type Tenant, tenant } from "./helpers/api";
import { bodyBytes, type CompletedExport, completedExport, withCdrs } from "./helpers/exports";
import { fetchWithVars } from "./helpers/login";

let t: Tenant;
let a: CompletedExport;
let b: CompletedExport;

beforeAll(async () => {
  t = await withCdrs(await tenant(), 40);
  a = await completedExport(t);
  b = await completedExport(t);
});

type ErrorDoc = { errors: { status: string; title: string; detail: string }[] };

function parts(link: string) {
  const url = new URL(link);
  return {
    url,
    id: url.pathname.split("/").at(-1) ?? "",
    expires: url.searchParams.get("expires") ?? "",
    grant: url.searchParams.get("grant") ?? "",
    signature: url.searchParams.get("signature") ?? "",
  };
}

function signedUrl(id: string, expires: string, grant: string, signature: string) {
  return `${CUSTOMER}/cdr-export-files/${id}?expires=${expires}&grant=${grant}&signature=${signature}`;
}

/** verifyWorkerUrl's verdict alone. */
async function verdict(
  id: string,
  expires: string,
  grant: string,
  signature: string,
  now?: number,
  e: Env = env,
) {
  return (await verifyWorkerUrl(e, id, { expires, grant, signature }, now)).verdict;
}

const OPERATOR = { kind: "operator" } as const;

async function forbidden(res: Response, detail: string) {
  expect(res.status).toBe(403);
  expect(res.headers.get("Content-Type")).toBe("application/vnd.api+json");
  const body = await json<ErrorDoc>(res);
  expect(body.errors).toEqual([{ status: "403", title: "Forbidden", detail }]);
}

/** Flips one bit of the signature's first byte: still canonical base64url, a different MAC. */
function flipFirstChar(signature: string): string {
  const c = signature[0] === "A" ? "B" : "A";
  return `${c}${signature.slice(1)}`;
}

describe("links.download on records", () => {
  it("is on a Completed export's show and list records, as a Worker URL that expires in the TTL", async () => {
    const link = a.links.download ?? "";
    const { url, id, expires, grant, signature } = parts(link);
    expect(`${url.origin}${url.pathname}`).toBe(`${CUSTOMER}/cdr-export-files/${a.id}`);
    expect(id).toBe(a.id);
    const ttl = Number(env.DOWNLOAD_URL_TTL_SECONDS);
    const left = Number(expires) - Date.now() / 1000;
    // Rounded up to the minute: at least the TTL, less than a minute more.
    expect(left).toBeGreaterThan(ttl - 5);
    expect(left).toBeLessThanOrEqual(ttl + 60);
    expect(signature).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The token behind the request: its API access, iat and session.
    expect(grant).toMatch(new RegExp(`^a${t.access.id}\\.\\d+\\.[A-Za-z0-9_-]{16,64}$`));
    expect(a.links.self).toBe(`${CUSTOMER}/cdr-exports/${a.id}`);

    const { body } = await list(t.auth);
    const listed = body.data.find((d) => d.id === a.id) as { links: Record<string, string> } | undefined;
    expect(listed?.links.download).toMatch(
      new RegExp(`^${CUSTOMER}/cdr-export-files/${a.id}\\?expires=\\d+&grant=[^&]+&signature=`),
    );
  });

  it("is absent on a Pending or Failed export", async () => {
    for (const status of ["Pending", "Failed"] as const) {
      const row = await seedExport(t.accountId, { status });
      const res = await customer(t.auth, "GET", `/cdr-exports/${row.uuid}`);
      const { data } = await json<{ data: { links: Record<string, string> } }>(res);
      expect(data.links).toEqual({ self: `${CUSTOMER}/cdr-exports/${row.uuid}` });
    }
  });
});

describe("GET the Worker URL", () => {
  it("downloads the file without any token: 200 and the same bytes as the authenticated download", async () => {
    const res = await call(a.links.download ?? "");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/gzip");
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="${a.id}.csv.gz"`);
    const bytes = await bodyBytes(res);
    expect(bytes).toEqual(a.bytes);
    const authenticated = await customer(t.auth, "GET", `/cdr-exports/${a.id}/download`);
    expect(await bodyBytes(authenticated)).toEqual(bytes);
  });

  it("serves ranges and HEAD like the authenticated download", async () => {
    const ranged = await call(a.links.download ?? "", { headers: { Range: "bytes=0-99" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("Content-Range")).toBe(`bytes 0-99/${a.bytes.length}`);
    expect(await bodyBytes(ranged)).toEqual(a.bytes.slice(0, 100));
    const head = await call(a.links.download ?? "", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("Content-Length")).toBe(String(a.bytes.length));
    expect((await bodyBytes(head)).length).toBe(0);
  });

  it("refuses an expired URL with 403 (signed with a past expiry)", async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const link = await signWorkerUrl(env, BASE, a.id, past, OPERATOR);
    await forbidden(await call(link), "The download link has expired.");
  });

  it("reports a valid URL as expired once its expiry has passed (verifyWorkerUrl with a later now)", async () => {
    const { id, expires, grant, signature } = parts(a.links.download ?? "");
    expect(await verdict(id, expires, grant, signature)).toBe("ok");
    expect(await verdict(id, expires, grant, signature, Number(expires) * 1000)).toBe("ok");
    expect(await verdict(id, expires, grant, signature, Number(expires) * 1000 + 1)).toBe("expired");
    expect(await verdict(id, expires, grant, signature, Date.now() + 86_400_000)).toBe("expired");
  });

  it("refuses a tampered signature with 403", async () => {
    const { id, expires, grant, signature } = parts(a.links.download ?? "");
    for (const tampered of [
      flipFirstChar(signature),
      signature.slice(0, -1),
      `${signature}A`,
      "not*base64",
    ]) {
      await forbidden(await call(signedUrl(id, expires, grant, tampered)), "The download link is not valid.");
    }
  });

  it("refuses another spelling of the same signature bytes (only canonical base64url is accepted)", async () => {
    const { id, expires, grant, signature } = parts(a.links.download ?? "");
    // 32 bytes take 43 characters: the last one carries 2 unused bits, which atob ignores.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(signature.at(-1) ?? "A");
    const sibling = `${signature.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(await verdict(id, expires, grant, sibling)).toBe("invalid");
    await forbidden(await call(signedUrl(id, expires, grant, sibling)), "The download link is not valid.");
  });

  it("refuses a tampered expiry with 403, also one pushed later", async () => {
    const { id, expires, grant, signature } = parts(a.links.download ?? "");
    for (const tampered of [String(Number(expires) + 3600), `0${expires}`, ""]) {
      await forbidden(
        await call(signedUrl(id, tampered, grant, signature)),
        "The download link is not valid.",
      );
    }
  });

  it("refuses a URL without expiry or signature with 403", async () => {
    await forbidden(await call(`${CUSTOMER}/cdr-export-files/${a.id}`), "The download link is not valid.");
    const { expires } = parts(a.links.download ?? "");
    await forbidden(
      await call(`${CUSTOMER}/cdr-export-files/${a.id}?expires=${expires}`),
      "The download link is not valid.",
    );
  });

  it("refuses export A's valid signature used with export B's id (403)", async () => {
    const { expires, grant, signature } = parts(a.links.download ?? "");
    await forbidden(
      await call(signedUrl(b.id, expires, grant, signature)),
      "The download link is not valid.",
    );
    // B's own link works.
    const own = await call(b.links.download ?? "");
    expect(own.status).toBe(200);
    expect(await bodyBytes(own)).toEqual(b.bytes);
  });

  it("refuses a URL signed with another key (DOWNLOAD_URL_SECRET set elsewhere)", async () => {
    const other = { ...env, DOWNLOAD_URL_SECRET: "some-other-secret" } as Env;
    const expires = Math.floor(Date.now() / 1000) + 600;
    const link = await signWorkerUrl(other, BASE, a.id, expires, OPERATOR);
    const { grant, signature } = parts(link);
    expect(await verdict(a.id, String(expires), grant, signature, undefined, other)).toBe("ok");
    expect(await verdict(a.id, String(expires), grant, signature)).toBe("invalid");
    await forbidden(await call(link), "The download link is not valid.");
  });

  it("answers 404 for an export deleted since the link was made, and for an unknown export", async () => {
    const c = await completedExport(t);
    const link = c.links.download ?? "";
    const del = await customer(t.auth, "DELETE", `/cdr-exports/${c.id}`);
    expect(del.status).toBe(204);
    const res = await call(link);
    expect(res.status).toBe(404);
    expect((await json<ErrorDoc>(res)).errors[0]?.title).toBe("Record not found");
    const unknown = crypto.randomUUID();
    const forged = await signWorkerUrl(env, BASE, unknown, Math.floor(Date.now() / 1000) + 600, OPERATOR);
    expect((await call(forged)).status).toBe(404);
  });

  it("answers 404 for a signed URL of an export that is not Completed", async () => {
    const row = await seedExport(t.accountId, { status: "Pending" });
    const link = await signWorkerUrl(env, BASE, row.uuid, Math.floor(Date.now() / 1000) + 600, OPERATOR);
    const res = await call(link);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });
});

// ---- R2 presigned URLs -------------------------------------------------------------------------------

const R2 = {
  R2_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
  R2_BUCKET_NAME: "cdr-exports",
  R2_ACCESS_KEY_ID: "AKIDEXAMPLE0123",
  R2_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};

const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function hmac(key: ArrayBuffer | Uint8Array, text: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, encoder.encode(text));
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ percent-encoded. */
function uriEncode(text: string): string {
  return [...encoder.encode(text)]
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");
}

/** The SigV4 query signature of a presigned GET, computed from the AWS rules (UNSIGNED-PAYLOAD, host only). */
async function expectedSignature(url: URL, secret: string): Promise<string> {
  const params = [...url.searchParams].filter(([k]) => k !== "X-Amz-Signature");
  const query = params
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonical = ["GET", url.pathname, query, `host:${url.host}\n`, "host", "UNSIGNED-PAYLOAD"].join("\n");
  const datetime = url.searchParams.get("X-Amz-Date") ?? "";
  const scope = (url.searchParams.get("X-Amz-Credential") ?? "").split("/").slice(1).join("/");
  const toSign = [
    "AWS4-HMAC-SHA256",
    datetime,
    scope,
    hex(await crypto.subtle.digest("SHA-256", encoder.encode(canonical))),
  ].join("\n");
  const [date, region, service] = scope.split("/") as [string, string, string];
  let key = await hmac(encoder.encode(`AWS4${secret}`), date);
  key = await hmac(key, region);
  key = await hmac(key, service);
  key = await hmac(key, "aws4_request");
  return hex(await hmac(key, toSign));
}

function expectPresigned(link: string, uuid: string, expires = "900") {
  const url = new URL(link);
  expect(`${url.origin}${url.pathname}`).toBe(
    `https://${R2.R2_ACCOUNT_ID}.r2.cloudflarestorage.com/${R2.R2_BUCKET_NAME}/exports/${uuid}.csv.gz`,
  );
  const q = url.searchParams;
  expect(q.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
  const credential = q.get("X-Amz-Credential") ?? "";
  expect(credential.startsWith(`${R2.R2_ACCESS_KEY_ID}/`)).toBe(true);
  expect(credential).toMatch(/^[^/]+\/\d{8}\/auto\/s3\/aws4_request$/);
  expect(q.get("X-Amz-Date")).toMatch(/^\d{8}T\d{6}Z$/);
  expect(credential.split("/")[1]).toBe(q.get("X-Amz-Date")?.slice(0, 8));
  expect(q.get("X-Amz-Expires")).toBe(expires);
  expect(q.get("X-Amz-SignedHeaders")).toBe("host");
  expect(q.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
  expect(q.get("response-content-disposition")).toBe(`attachment; filename="${uuid}.csv.gz"`);
  expect(q.get("response-content-type")).toBe("application/gzip");
  return url;
}

describe("R2 presigned links.download (aws4fetch)", () => {
  it("downloadLink presigns a GET on the bucket's S3 endpoint with the TTL and the file name", async () => {
    const uuid = crypto.randomUUID();
    const link = await downloadLink({ ...env, ...R2 } as Env, BASE, uuid, `exports/${uuid}.csv.gz`, OPERATOR);
    const url = expectPresigned(link, uuid);
    expect(url.searchParams.get("X-Amz-Signature")).toBe(
      await expectedSignature(url, R2.R2_SECRET_ACCESS_KEY),
    );
  });

  it("presignR2 takes the TTL given, and a different secret gives a different signature", async () => {
    const uuid = crypto.randomUUID();
    const credentials = {
      accountId: R2.R2_ACCOUNT_ID,
      accessKeyId: R2.R2_ACCESS_KEY_ID,
      secretAccessKey: R2.R2_SECRET_ACCESS_KEY,
      bucket: R2.R2_BUCKET_NAME,
    };
    const url = expectPresigned(
      await presignR2(credentials, `exports/${uuid}.csv.gz`, `${uuid}.csv.gz`, 120),
      uuid,
      "120",
    );
    expect(url.searchParams.get("X-Amz-Signature")).toBe(
      await expectedSignature(url, R2.R2_SECRET_ACCESS_KEY),
    );
    expect(url.searchParams.get("X-Amz-Signature")).not.toBe(await expectedSignature(url, "another-secret"));
  });

  it("falls back to the Worker URL when any R2 setting is missing", async () => {
    const uuid = crypto.randomUUID();
    for (const missing of Object.keys(R2)) {
      const e = { ...env, ...R2, [missing]: "" } as Env;
      const link = await downloadLink(e, BASE, uuid, `exports/${uuid}.csv.gz`, OPERATOR);
      expect(link.startsWith(`${CUSTOMER}/cdr-export-files/${uuid}?expires=`), missing).toBe(true);
    }
  });

  it("is what the show route returns as links.download when the R2 settings are set", async () => {
    const res = await fetchWithVars(
      new Request(`${CUSTOMER}/cdr-exports/${a.id}`, { headers: { Authorization: t.auth } }),
      R2,
    );
    expect(res.status).toBe(200);
    const { data } = await json<{ data: { links: Record<string, string> } }>(res);
    expectPresigned(data.links.download ?? "", a.id);
  });
});
