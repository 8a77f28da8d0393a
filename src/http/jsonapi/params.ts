// A query string read the way Rails builds `params` (`fields[cdr-exports]=a` → a hash, `filter=foo` → a
// string, the last of repeated keys wins), and the Ruby readings the gem applies to the values.

/** One top-level query parameter: a string, or a hash of the bracketed keys (`name[key]=value`). */
export type Param = string | Record<string, string>;

export function railsParams(query: URLSearchParams): Map<string, Param> {
  const params = new Map<string, Param>();
  for (const [name, value] of query) {
    const nested = /^([^[\]]+)\[([^[\]]*)\]$/.exec(name);
    if (!nested) {
      params.set(name, value);
      continue;
    }
    const [, outer, inner] = nested as unknown as [string, string, string];
    const current = params.get(outer);
    const hash = typeof current === "object" ? current : {};
    // `name[]=v` is an array in Rails; iterated as a hash, its values are the keys.
    if (inner === "") hash[value] = "";
    else hash[inner] = value;
    params.set(outer, hash);
  }
  return params;
}

/** ActiveSupport's `underscore` (the dasherized key formatter's `unformat`): `rows-count` → `rows_count`. */
export function underscore(key: string): string {
  return key
    .replace(/([A-Z\d]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/([a-z\d])([A-Z])/g, "$1_$2")
    .replaceAll("-", "_")
    .toLowerCase();
}

/** ActiveSupport's `dasherize` of an underscored key (the key formatter's `format`). */
export function dasherize(key: string): string {
  return key.replaceAll("_", "-");
}

/** Ruby's `String#to_i`: leading blanks, a sign, digits (single underscores between them); else 0. */
export function rubyToI(raw: string): number {
  const match = /^[\s]*([+-]?)(\d+(?:_\d+)*)/.exec(raw);
  if (!match) return 0;
  const value = Number((match[2] as string).replaceAll("_", ""));
  const bounded = Math.min(value, Number.MAX_SAFE_INTEGER);
  return match[1] === "-" ? -bounded : bounded;
}

/**
 * Ruby's `CSV.parse_line` for one line: comma-separated fields, double-quoted fields with `""` for a quote,
 * an empty field as null; null for an empty line; the raw value as its one field when it is malformed.
 */
export function csvLine(raw: string): (string | null)[] | null {
  if (raw === "") return null;
  const fields: (string | null)[] = [];
  let i = 0;
  for (;;) {
    if (raw[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        if (i >= raw.length) return [raw];
        if (raw[i] === '"') {
          if (raw[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += raw[i];
        i++;
      }
      if (i < raw.length && raw[i] !== ",") return [raw];
      fields.push(value);
    } else {
      const end = raw.indexOf(",", i);
      const value = end === -1 ? raw.slice(i) : raw.slice(i, end);
      if (value.includes('"')) return [raw];
      fields.push(value === "" ? null : value);
      i = end === -1 ? raw.length : end;
    }
    if (i >= raw.length) return fields;
    i++; // the comma
    if (i >= raw.length) {
      fields.push(null);
      return fields;
    }
  }
}

/** Ruby's `CGI.escape`, which `Hash#to_query` applies to keys and values. */
function cgiEscape(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll("%20", "+");
}

type QueryValue = string | { [key: string]: QueryValue };

/** Rails' `Hash#to_query`: `ns[key]=value` pairs, CGI-escaped, sorted at every level. */
export function toQuery(hash: Record<string, QueryValue>, namespace?: string): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(hash)) {
    const name = namespace ? `${namespace}[${key}]` : key;
    if (typeof value === "string") parts.push(`${cgiEscape(name)}=${cgiEscape(value)}`);
    else if (Object.keys(value).length) parts.push(toQuery(value, name));
  }
  return parts.sort().join("&");
}
