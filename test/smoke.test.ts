import { env, exports } from "cloudflare:workers";
import { expect, it } from "vitest";

it("serves", async () => {
  const res = await exports.default.fetch("http://x/");
  expect(await res.text()).toBe("ok");
  const r = await env.DB.prepare("select count(*) as n from cdrs").first();
  expect(r).toEqual({ n: 0 });
});
