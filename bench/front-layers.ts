/**
 * How much of express's router a worker request walks before its route handler: the layers whose
 * path is tested (Layer#match, routers' own layers included) and those that run (handleRequest),
 * counted on the real createWorkerHttp (the unit tests' fixture, drain switch on as in the worker
 * role) for a POST /v1/chat/completions and a few other requests.
 *
 * `node --import tsx bench/front-layers.ts`
 */
import { createRequire } from 'node:module';
import { createDrainSwitch, type ChatBackend } from '../src/api/index.ts';
import { startWorkerApp } from '../test/unit/api/app-fixture.ts';

interface RouterLayer {
  readonly route?: { readonly path: string };
  match: (this: RouterLayer, path: string) => boolean;
  handleRequest: (this: RouterLayer, ...args: unknown[]) => void;
}

// The Layer that express's own router uses, not a second copy.
const fromExpress = createRequire(createRequire(import.meta.url).resolve('express'));
const Layer = fromExpress('router/lib/layer.js') as { prototype: RouterLayer };

const KEY = 'sk-front-layers-0001';
let counting: { tested: number; ran: number; until: string } | null = null;
let counted: { tested: number; ran: number } | null = null;

const match = Layer.prototype.match;
Layer.prototype.match = function countedMatch(this: RouterLayer, path: string): boolean {
  const matched = match.call(this, path);
  if (counting) {
    counting.tested++;
    if (matched && this.route?.path === counting.until) {
      counted = { tested: counting.tested, ran: counting.ran };
      counting = null;
    }
  }
  return matched;
};
const handleRequest = Layer.prototype.handleRequest;
Layer.prototype.handleRequest = function countedHandle(this: RouterLayer, ...args: unknown[]) {
  if (counting) {
    counting.ran++;
  }
  handleRequest.apply(this, args);
};

// Never reached: the count stops when the route matches; anything after it may fail.
const backend = {} as ChatBackend;
const app = await startWorkerApp({
  name: 'front-layers',
  backend,
  userKey: KEY,
  deps: { drain: createDrainSwitch() },
});

const cases: readonly { method: string; path: string; route: string }[] = [
  { method: 'POST', path: '/v1/chat/completions', route: '/v1/chat/completions' },
  { method: 'POST', path: '/v1/messages', route: '/v1/messages' },
  { method: 'POST', path: '/v1beta/models/m:generateContent', route: '/v1beta/models/:action' },
  { method: 'GET', path: '/v1/models', route: '/v1/models' },
];
for (const c of cases) {
  counting = { tested: 0, ran: 0, until: c.route };
  counted = null;
  const res = await fetch(`${app.url}${c.path}`, {
    method: c.method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    ...(c.method === 'POST' ? { body: '{}' } : {}),
  });
  await res.arrayBuffer();
  const found = counted as { tested: number; ran: number } | null;
  console.log(
    `${`${c.method} ${c.path}`.padEnd(42)} ` +
      (found
        ? `layers tested ${found.tested}, run ${found.ran}`
        : 'no router layer (served by the fast path, or the route not reached)'),
  );
}
await app.close();
