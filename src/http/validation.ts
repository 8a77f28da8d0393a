// The one zod hook: every schema failure becomes a 422 whose pointers follow the issue paths.
import type { z } from "zod";
import { validationError } from "../errors";

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, base = ""): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationError(
    result.error.issues.map((issue) => {
      const path = issue.path.map(String);
      // The key names the attribute (not an array index inside it): "allowed-ips - ...".
      const key = path[0] ?? "data";
      const pointer = `${base}${path.map((p) => `/${p.replaceAll("~", "~0").replaceAll("/", "~1")}`).join("")}`;
      return { key, message: issue.message, pointer };
    }),
  );
}
