/**
 * Child-process fixture for the NODE_EXTRA_CA_CERTS test: one GET through createHttpClient with
 * no CA option, so only Node's own store (plus NODE_EXTRA_CA_CERTS) decides trust.
 * argv: <url> <host resolver rules>. Prints one JSON line.
 */
import { createHttpClient } from '../../../../src/gemini/http.ts';

const [url = '', rules = ''] = process.argv.slice(2);
const http = createHttpClient({ hostResolverRules: rules });
try {
  const res = await http.request(url);
  console.log(JSON.stringify({ ok: true, status: res.status, body: await res.text() }));
} catch (err) {
  const e = err as { code?: string; cause?: { code?: string } };
  console.log(JSON.stringify({ ok: false, code: e.code ?? e.cause?.code ?? String(err) }));
} finally {
  await http.close();
}
