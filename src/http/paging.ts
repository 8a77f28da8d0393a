// Page-number paging as jsonapi-resources does it: page[number], page[size], links and total count.
import { ApiError } from "../errors";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

type Page = { number: number; size: number; offset: number };

export function parsePage(query: URLSearchParams): Page {
  const number = pageParam(query, "number", 1, Number.MAX_SAFE_INTEGER);
  const size = pageParam(query, "size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  return { number, size, offset: (number - 1) * size };
}

function pageParam(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = query.get(`page[${name}]`);
  if (raw === null) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw ApiError.badRequest(
      "Invalid page value",
      `${raw} is not a valid value for ${name} page parameter.`,
      {
        parameter: `page[${name}]`,
      },
    );
  }
  return value;
}

/** links.first/last always; prev/next where they apply. Other query parameters are kept. */
export function pageLinks(url: URL, page: Page, total: number): Record<string, string> {
  const last = Math.max(1, Math.ceil(total / page.size));
  const at = (n: number) => {
    const u = new URL(url);
    u.searchParams.set("page[number]", String(n));
    u.searchParams.set("page[size]", String(page.size));
    return u.toString();
  };
  const links: Record<string, string> = { first: at(1) };
  if (page.number > 1) links.prev = at(Math.min(page.number - 1, last));
  if (page.number < last) links.next = at(page.number + 1);
  links.last = at(last);
  return links;
}
