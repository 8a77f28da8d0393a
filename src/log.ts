// Structured logs: one JSON line per event, never carrying secrets.
export function log(
  level: "info" | "warn" | "error",
  message: string,
  fields: Record<string, unknown> = {},
): void {
  const line = JSON.stringify({ level, message, time: new Date().toISOString(), ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** Drizzle's query errors list the bound parameters (personal data, password hashes): keep only the SQL. */
function redact(message: string): string {
  return message.startsWith("Failed query:") ? (message.split("\nparams:")[0] ?? message) : message;
}

export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const cause = error.cause instanceof Error ? redact(error.cause.message) : undefined;
  const frames = (error.stack ?? "").split("\n").filter((l) => l.trimStart().startsWith("at "));
  return { error: redact(error.message), ...(cause ? { cause } : {}), stack: frames.slice(0, 10).join("\n") };
}
