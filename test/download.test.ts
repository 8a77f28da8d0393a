// GET/HEAD /cdr-exports/{uuid}/download: the gzip file as stored, single byte ranges, ETag revalidation.
import { beforeAll, describe, expect, it } from "vitest";
import { customer, json, seedExport, type Tenant, tenant } from "./helpers/api";
import { gunzipText } from "./helpers/cdrs";
import { HEADER } from "./helpers/expected-csv";
import { bodyBytes, type CompletedExport, completedExport, withCdrs } from "./helpers/exports";

let t: Tenant;
let file: CompletedExport;
let size: number;
let etag: string;

beforeAll(async () => {
  t = await withCdrs(await tenant(), 80);
  file = await completedExport(t);
  size = file.bytes.length;
  const res = await get();
  etag = res.headers.get("ETag") ?? "";
  await res.arrayBuffer();
});

function get(headers: Record<string, string> = {}, method = "GET", id = file.id) {
  return customer(t.auth, method, `/cdr-exports/${id}/download`, undefined, headers);
}

describe("download: the whole file", () => {
  it("answers 200 with the stored bytes, which gunzip to the CSV", async () => {
    expect(size).toBeGreaterThan(200);
    const res = await get();
    expect(res.status).toBe(200);
    const bytes = await bodyBytes(res);
    expect(bytes).toEqual(file.bytes);
    expect(res.headers.get("Content-Length")).toBe(String(size));
    const text = await gunzipText(bytes);
    expect(text.startsWith(HEADER)).toBe(true);
    expect(text.split("\n").length - 2).toBe(80);
  });

  it("labels it application/gzip, as an attachment named <uuid>.csv.gz, without Content-Encoding", async () => {
    const res = await get();
    await res.arrayBuffer();
    expect(res.headers.get("Content-Type")).toBe("application/gzip");
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="${file.id}.csv.gz"`);
    expect(res.headers.get("Content-Encoding")).toBeNull();
    expect(res.headers.get("Accept-Ranges")).toBe("bytes");
    expect(res.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("carries a strong ETag (R2's) and revalidates with If-None-Match to 304 without a body", async () => {
    expect(etag).toMatch(/^"[^"]+"$/);
    const res = await get({ "If-None-Match": etag });
    expect(res.status).toBe(304);
    expect(await res.text()).toBe("");
    expect(res.headers.get("ETag")).toBe(etag);
  });

  it("answers 304 for a weak or listed match and for *, 200 for another tag", async () => {
    for (const header of [`W/${etag}`, `"other", ${etag}`, "*"]) {
      const res = await get({ "If-None-Match": header });
      expect(res.status, header).toBe(304);
      await res.arrayBuffer();
    }
    const res = await get({ "If-None-Match": '"something-else"' });
    expect(res.status).toBe(200);
    expect(await bodyBytes(res)).toEqual(file.bytes);
  });
});

describe("download: byte ranges", () => {
  it("answers bytes=0-99 with 206, Content-Range, Content-Length 100 and the first 100 bytes", async () => {
    const res = await get({ Range: "bytes=0-99" });
    expect(res.status).toBe(206);
    expect(res.headers.get("Content-Range")).toBe(`bytes 0-99/${size}`);
    expect(res.headers.get("Content-Length")).toBe("100");
    expect(res.headers.get("Content-Type")).toBe("application/gzip");
    expect(res.headers.get("ETag")).toBe(etag);
    expect(await bodyBytes(res)).toEqual(file.bytes.slice(0, 100));
  });

  it("answers a suffix range bytes=-10 with the last 10 bytes", async () => {
    const res = await get({ Range: "bytes=-10" });
    expect(res.status).toBe(206);
    expect(res.headers.get("Content-Range")).toBe(`bytes ${size - 10}-${size - 1}/${size}`);
    expect(res.headers.get("Content-Length")).toBe("10");
    expect(await bodyBytes(res)).toEqual(file.bytes.slice(size - 10));
  });

  it("answers an open-ended range bytes=5- with everything from byte 5", async () => {
    const res = await get({ Range: "bytes=5-" });
    expect(res.status).toBe(206);
    expect(res.headers.get("Content-Range")).toBe(`bytes 5-${size - 1}/${size}`);
    expect(res.headers.get("Content-Length")).toBe(String(size - 5));
    expect(await bodyBytes(res)).toEqual(file.bytes.slice(5));
  });

  it("clamps a range past the end to the file, and a suffix longer than the file to all of it", async () => {
    const past = await get({ Range: `bytes=${size - 3}-${size + 1000}` });
    expect(past.status).toBe(206);
    expect(past.headers.get("Content-Range")).toBe(`bytes ${size - 3}-${size - 1}/${size}`);
    expect(await bodyBytes(past)).toEqual(file.bytes.slice(size - 3));
    const all = await get({ Range: `bytes=-${size + 50}` });
    expect(all.status).toBe(206);
    expect(all.headers.get("Content-Range")).toBe(`bytes 0-${size - 1}/${size}`);
    expect(await bodyBytes(all)).toEqual(file.bytes);
  });

  it("answers a single byte range in the middle exactly", async () => {
    const res = await get({ Range: "bytes=17-17" });
    expect(res.status).toBe(206);
    expect(res.headers.get("Content-Range")).toBe(`bytes 17-17/${size}`);
    expect(await bodyBytes(res)).toEqual(file.bytes.slice(17, 18));
  });

  it("answers a range starting at the size with 416 and Content-Range bytes */size", async () => {
    const res = await get({ Range: `bytes=${size}-` });
    expect(res.status).toBe(416);
    expect(res.headers.get("Content-Range")).toBe(`bytes */${size}`);
    expect(await res.text()).toBe("");
    const zero = await get({ Range: "bytes=-0" });
    expect(zero.status).toBe(416);
    expect(zero.headers.get("Content-Range")).toBe(`bytes */${size}`);
    await zero.arrayBuffer();
  });

  it("ignores malformed, multiple and other-unit ranges (200 with the whole file)", async () => {
    for (const range of ["bytes=10-5", "bytes=0-1,5-6", "items=0-5", "bytes=abc", "bytes=-"]) {
      const res = await get({ Range: range });
      expect(res.status, range).toBe(200);
      expect(await bodyBytes(res)).toEqual(file.bytes);
    }
  });

  it("honours a Range under If-Range with the current ETag, and sends the whole file for another", async () => {
    const same = await get({ Range: "bytes=0-9", "If-Range": etag });
    expect(same.status).toBe(206);
    expect(await bodyBytes(same)).toEqual(file.bytes.slice(0, 10));
    for (const validator of ['"stale"', `W/${etag}`, "Wed, 21 Oct 2015 07:28:00 GMT"]) {
      const res = await get({ Range: "bytes=0-9", "If-Range": validator });
      expect(res.status, validator).toBe(200);
      expect(res.headers.get("Content-Range")).toBeNull();
      expect(await bodyBytes(res)).toEqual(file.bytes);
    }
  });

  it("prefers If-None-Match over Range (304)", async () => {
    const res = await get({ Range: "bytes=0-9", "If-None-Match": etag });
    expect(res.status).toBe(304);
    expect(await res.text()).toBe("");
  });
});

describe("download: HEAD", () => {
  it("answers HEAD with the headers and Content-Length of the file and no body", async () => {
    const res = await get({}, "HEAD");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Length")).toBe(String(size));
    expect(res.headers.get("Content-Type")).toBe("application/gzip");
    expect(res.headers.get("Accept-Ranges")).toBe("bytes");
    expect(res.headers.get("ETag")).toBe(etag);
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="${file.id}.csv.gz"`);
    expect((await bodyBytes(res)).length).toBe(0);
  });

  it("answers HEAD with a Range as 206 with its Content-Range and length", async () => {
    const res = await get({ Range: "bytes=0-99" }, "HEAD");
    expect(res.status).toBe(206);
    expect(res.headers.get("Content-Range")).toBe(`bytes 0-99/${size}`);
    expect(res.headers.get("Content-Length")).toBe("100");
    expect((await bodyBytes(res)).length).toBe(0);
  });
});

describe("download: no file", () => {
  it("answers 404 with an empty body for a Pending or Failed export (no file yet, or ever)", async () => {
    for (const status of ["Pending", "Failed"] as const) {
      const row = await seedExport(t.accountId, { status });
      const res = await get({}, "GET", row.uuid);
      expect(res.status, status).toBe(404);
      expect(await res.text()).toBe("");
    }
  });

  it("answers 404 Record not found for another customer's export", async () => {
    const stranger = await tenant();
    const res = await customer(stranger.auth, "GET", `/cdr-exports/${file.id}/download`);
    expect(res.status).toBe(404);
    const body = await json<{ errors: { title: string }[] }>(res);
    expect(body.errors[0]?.title).toBe("Record not found");
  });
});
