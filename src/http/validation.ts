// The one zod hook: every schema failure becomes a 422 whose pointers follow the issue paths.
import type { z } from "zod";
import { validationError } from "../errors";

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, base = ""): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationError(
    result.error.issues.map((issue) => {
      const path = issue.path.map(String);
      const key = path.length ? (path[path.length - 1] as string) : "data";
      return { key, message: issue.message, pointer: `${base}${path.map((p) => `/${p}`).join("")}` };
    }),
  );
}
