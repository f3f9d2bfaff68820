/** The API keys the bench starts its workers and gateways with, and its requests' headers. */

/** The key the bench's workers and gateways accept: a real key check is part of every request. */
export const BENCH_API_KEY = 'gk-bench-user-key';

/** The bench's admin key: it reads a gateway's node table (which nodes it routes to). */
export const BENCH_ADMIN_KEY = 'gk-bench-admin-key';

/** Headers of a bench chat request. */
export const BENCH_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  authorization: `Bearer ${BENCH_API_KEY}`,
};
