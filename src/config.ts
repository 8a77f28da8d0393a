// The Worker's settings: every var and secret of `Env` parsed once (zod), with its default, range and meaning.
import { z } from "zod";
import { GZIP_LEVELS, type GzipLevel } from "./file-format/gzip-member";
import { log } from "./log";

/**
 * Invalid values. A tunable that is set but out of range falls back to its default, with one warning per
 * isolate naming the var: a typo in a tuning knob must not take the API down (each module read its var so
 * before). Two things fail loud instead, as a ConfigError (a 500 whose cause is in the log): a missing
 * CUSTOMER_V1_JWT_SECRET (wrangler refuses to deploy without it; locally it comes from .dev.vars), and a
 * CUSTOMER_V1_TOKEN_LIFETIME that is not a number of seconds, on every request that issues a token:
 * falling back there would silently issue tokens that never expire.
 */
const warned = new Set<string>();

function fallback<T>(name: string, value: T) {
  return (ctx: { input: unknown }): T => {
    const unset = ctx.input === undefined || (typeof ctx.input === "string" && ctx.input.trim() === "");
    if (!unset && !warned.has(name)) {
      warned.add(name);
      log("warn", "invalid configuration value, using the default", {
        name,
        value: ctx.input,
        default: value,
      });
    }
    return value;
  };
}

/** A positive integer (Number() of the text, so " 60 " is 60); the default otherwise. */
const positiveInt = (name: string, value: number) =>
  z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).catch(fallback(name, value));

/** A positive number, fractions allowed (days, minutes). */
const positiveNumber = (name: string, value: number) =>
  z.coerce.number().positive().finite().catch(fallback(name, value));

/** "true" is on; anything else is off ("TRUE" included, as the var has always been read). */
const flag = (name: string) =>
  z
    .enum(["true", "false", ""])
    .transform((v) => v === "true")
    .catch(fallback(name, false));

/** Trimmed text, the default when empty or unset. */
const text = (value: string) =>
  z
    .string()
    .optional()
    .transform((v) => v?.trim() || value);

/** A comma-separated list: entries trimmed, empty ones dropped. */
const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

const optionalSecret = z
  .string()
  .optional()
  .transform((v) => v || undefined);

/**
 * CORS origins in the serialized form browsers send ("https://portal.example.com"), so an entry written
 * with a trailing slash, a path or upper case still matches. Entries that are not URLs are kept as written
 * (and can only match an identical Origin header; "*" is such an entry, never a wildcard).
 */
function originOf(entry: string): string {
  try {
    const { origin } = new URL(entry);
    return origin === "null" ? entry : origin;
  } catch {
    return entry;
  }
}

export class ConfigError extends Error {}

const schema = z.object({
  /** Where exports created now read CDRs: "d1" or "postgres"; another value is kept and fails the export. */
  CDR_SOURCE: text("d1"),
  /** The CDR table of the postgres source: Yeti's cdr.cdr. */
  CDR_PG_SCHEMA: text("cdr"),
  CDR_PG_TABLE: text("cdr"),
  /** A direct PostgreSQL connection string used instead of the Hyperdrive binding CDR_DB. */
  CDR_PG_CONNECTION_STRING: optionalSecret,
  /** Token lifetime in seconds; empty = tokens without `exp` (as Yeti issues them). */
  CUSTOMER_V1_TOKEN_LIFETIME: z
    .string()
    .optional()
    .transform((v): number | null | "invalid" => {
      const raw = (v ?? "").trim();
      if (!raw) return null;
      const seconds = Number(raw);
      return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : "invalid";
    }),
  /** HS256 key of customer API v1 tokens (a required secret). */
  CUSTOMER_V1_JWT_SECRET: z.string(),
  /** CDR columns left out of customer exports. */
  CUSTOMER_HIDDEN_COLUMNS: list,
  /** Operator bearer tokens; more than one while rotating. */
  ADMIN_API_TOKEN: list,
  /** "true": the client address comes from X-Real-IP when CF-Connecting-IP is absent. */
  TRUST_PROXY: flag("TRUST_PROXY"),
  /** Customer portals allowed by CORS (with credentials); none by default. */
  CORS_ALLOWED_ORIGINS: list.transform((entries) => entries.map(originOf)),
  /** Lifetime of `links.download` URLs. */
  DOWNLOAD_URL_TTL_SECONDS: positiveInt("DOWNLOAD_URL_TTL_SECONDS", 900),
  /** HMAC key of Worker-signed download URLs; absent = derived from CUSTOMER_V1_JWT_SECRET (HKDF). */
  DOWNLOAD_URL_SECRET: optionalSecret,
  /** With the two R2 secrets: `links.download` is an R2 presigned URL. */
  R2_ACCOUNT_ID: optionalSecret,
  R2_ACCESS_KEY_ID: optionalSecret,
  R2_SECRET_ACCESS_KEY: optionalSecret,
  /** The bucket's name for those presigned URLs (wrangler.toml: cdr-exports); empty = no presigned URLs. */
  R2_BUCKET_NAME: optionalSecret,
  /** Completed exports older than this many days are deleted. */
  EXPORT_RETENTION_DAYS: positiveNumber("EXPORT_RETENTION_DAYS", 7),
  /** "true" also allows http:// callback URLs (local testing). */
  CALLBACK_ALLOW_HTTP: flag("CALLBACK_ALLOW_HTTP"),
  /** DNS-over-HTTPS (JSON API) resolver that vets callback hosts; must be https (checked on use). */
  CALLBACK_DNS_RESOLVER: text("https://cloudflare-dns.com/dns-query"),
  /** HMAC keys of callback signatures; none = callbacks are unsigned. */
  CALLBACK_SIGNING_SECRET: list,
  /** R2 multipart part size (raised to R2's 5 MiB minimum by the part writer). */
  EXPORT_PART_SIZE_BYTES: positiveInt("EXPORT_PART_SIZE_BYTES", 8 * 1024 * 1024),
  /** CDRs per D1 query: 4,000 keeps the heap under 64 MiB (bench/RESULTS.md). */
  EXPORT_PAGE_ROWS: positiveInt("EXPORT_PAGE_ROWS", 4000),
  /** gzip level 1-9 of the export file: 1 meets the throughput target within 1.2x the size (bench/RESULTS.md). */
  EXPORT_GZIP_LEVEL: z.coerce
    .number()
    .refine((n): n is GzipLevel => (GZIP_LEVELS as readonly number[]).includes(n))
    .catch(fallback<GzipLevel>("EXPORT_GZIP_LEVEL", 1)),
  /** Rows, and milliseconds of wall time, one invocation writes before it checkpoints. */
  EXPORT_BUDGET_ROWS: positiveInt("EXPORT_BUDGET_ROWS", 2_000_000),
  EXPORT_BUDGET_MS: positiveInt("EXPORT_BUDGET_MS", 120_000),
  /** A slice's claim, renewed while it writes. */
  EXPORT_LEASE_SECONDS: positiveInt("EXPORT_LEASE_SECONDS", 60),
  /** A Pending export without progress this long is re-enqueued by the sweeper. */
  EXPORT_STUCK_MINUTES: positiveNumber("EXPORT_STUCK_MINUTES", 3),
  /** "true": text values that would start a spreadsheet formula get a leading '. */
  EXPORT_NEUTRALISE_FORMULAS: flag("EXPORT_NEUTRALISE_FORMULAS"),
  /** "false": the ingest stores no cdrs.csv_tail (less storage; exports render the text in SQLite). */
  CDR_STORE_CSV_TAIL: z
    .enum(["true", "false", ""])
    .transform((v) => v !== "false")
    .catch(fallback("CDR_STORE_CSV_TAIL", true)),
  /** Attempts of one slice before the export is Failed (queue max_retries + 1). */
  EXPORT_MAX_ATTEMPTS: positiveInt("EXPORT_MAX_ATTEMPTS", 6),
});

export type Config = z.infer<typeof schema>;

const parsed = new WeakMap<Env, Config>();

/** The settings of `env`, parsed on first use and kept for as long as the env object lives. */
export function config(env: Env): Config {
  let settings = parsed.get(env);
  if (!settings) {
    const result = schema.safeParse(env);
    if (!result.success) {
      const problems = result.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ");
      throw new ConfigError(`invalid configuration: ${problems}`);
    }
    settings = result.data;
    parsed.set(env, settings);
  }
  return settings;
}
