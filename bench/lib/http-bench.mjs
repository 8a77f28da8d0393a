// Requests/s and latency percentiles of one route under load (autocannon, in this process).
import { writeFileSync } from "node:fs";
import autocannon from "autocannon";

/** Runs autocannon; returns req/s (mean), latency p50/p99 (ms), status counts; raw result to `rawFile`. */
export async function loadTest({
  title,
  url,
  method = "GET",
  headers = {},
  body,
  connections,
  seconds,
  rawFile,
}) {
  const result = await autocannon({
    title,
    url,
    method,
    headers,
    body,
    connections,
    duration: seconds,
    // One request at a time per connection, as a client waiting for each answer does.
    pipelining: 1,
  });
  if (rawFile) writeFileSync(rawFile, JSON.stringify(result, null, 2));
  return {
    title,
    method,
    url,
    connections,
    seconds,
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statusCodes: result.statusCodeStats,
  };
}
