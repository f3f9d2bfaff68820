/**
 * @module gateway/console/client
 * The console's browser script: polls /console/state every second, keeps one card per account up
 * to date, and runs the card's actions (POST with the session's CSRF token). Bundled by esbuild
 * with uPlot; no framework.
 */
import './console.css';
import './cards.css';
import type { ConsoleState } from '../state.ts';
import { createCard, type Card } from './cards.ts';

const POLL_MS = 1000;
const csrfToken = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? '';
const nodesEl = document.getElementById('nodes') as HTMLElement;
const updatedEl = document.getElementById('updated') as HTMLElement;
const registryEl = document.getElementById('registry') as HTMLElement;
const cards = new Map<string, Card>();
let pollTimer: number | undefined;

function summary(name: string, text: string): void {
  const target = document.querySelector(`[data-summary="${name}"]`);
  if (target && target.textContent !== text) {
    target.textContent = text;
  }
}

function render(state: ConsoleState, receivedAtMs: number): void {
  const t = state.totals;
  summary('eligible', String(t.eligible));
  summary('total', String(t.total));
  summary('rpm', String(t.requestsPerMin));
  summary(
    'failed-over',
    t.requests > 0 ? `${((100 * t.failedOver) / t.requests).toFixed(1)} % (${t.failedOver})` : '-',
  );
  summary('sends', `${t.upstreamSends} / ${t.requests}`);
  registryEl.dataset['status'] = state.registry.status;
  registryEl.textContent =
    state.registry.error !== null
      ? `⚠ Registry unreachable: showing rows read ${Math.round((state.registry.ageMs ?? 0) / 1000)} s ago.`
      : state.nodes.length === 0
        ? 'No node has registered.'
        : `Figures: this gateway's last 15 minutes. Registry read ${state.registry.ageMs ?? '-'} ms ago.`;
  const seen = new Set<string>();
  for (const node of state.nodes) {
    seen.add(node.nodeUrl);
    let card = cards.get(node.nodeUrl);
    if (!card) {
      card = createCard(node);
      cards.set(node.nodeUrl, card);
      nodesEl.append(card.element);
      card.update(node, receivedAtMs);
      void loadScreenshot(card.element);
    } else {
      card.update(node, receivedAtMs);
    }
  }
  for (const [url, card] of cards) {
    if (!seen.has(url)) {
      card.element.remove();
      cards.delete(url);
    }
  }
}

async function poll(): Promise<void> {
  try {
    const res = await fetch('/console/state', { cache: 'no-store', credentials: 'same-origin' });
    if (res.status === 401) {
      // The session ended (sign-out elsewhere, a revoked key, a gateway restart): sign in again.
      window.location.assign('/');
      return;
    }
    if (!res.ok) {
      updatedEl.textContent = `⚠ Refresh failed: HTTP ${res.status}`;
    } else {
      render((await res.json()) as ConsoleState, Date.now());
      updatedEl.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    }
  } catch {
    updatedEl.textContent = '⚠ Refresh failed: the gateway is unreachable';
  }
  window.clearTimeout(pollTimer);
  pollTimer = window.setTimeout(() => void poll(), POLL_MS);
}

function loadScreenshot(card: HTMLElement): Promise<void> {
  const img = card.querySelector('img');
  const status = card.querySelector('.thumb-status');
  const nodeUrl = card.dataset['node'] ?? '';
  if (!img || !status) {
    return Promise.resolve();
  }
  status.textContent = 'Loading screenshot…';
  return new Promise((resolve) => {
    img.onload = () => {
      img.hidden = false;
      status.textContent = `Screenshot taken ${new Date().toLocaleTimeString()}`;
      resolve();
    };
    img.onerror = () => {
      img.hidden = true;
      status.textContent = 'No screenshot: the worker has no browser attached, or did not answer.';
      resolve();
    };
    img.src = `/console/nodes/screenshot?node=${encodeURIComponent(nodeUrl)}&at=${Date.now()}`;
  });
}

const DONE: Record<string, (result: Record<string, unknown>) => string> = {
  'refresh-session': (r) =>
    `Session refreshed: login state ${typeof r['login_state'] === 'string' ? r['login_state'] : 'unknown'}.`,
  'reset-cooldown': () => 'Cooldown reset.',
  drain: () => 'Draining: no new requests; the ones in flight finish.',
  undrain: () => 'Undrained: taking requests again.',
};

async function runAction(
  card: HTMLElement,
  button: HTMLButtonElement,
  action: string,
): Promise<void> {
  const nodeUrl = card.dataset['node'] ?? '';
  const account = card.querySelector('[data-col="account"]')?.textContent ?? nodeUrl;
  const outcome = card.querySelector<HTMLElement>('.outcome');
  const say = (ok: boolean, text: string) => {
    if (outcome) {
      outcome.dataset['ok'] = String(ok);
      outcome.textContent = `${new Date().toLocaleTimeString()} ${text}`;
    }
  };
  // Draining turns traffic away: it takes a second click on the same button, within 10 s.
  if (action === 'drain' && button.dataset['confirming'] !== 'true') {
    button.dataset['confirming'] = 'true';
    button.textContent = 'Confirm drain';
    say(true, `Click "Confirm drain" to stop new requests to ${account}; those in flight finish.`);
    window.setTimeout(() => {
      if (button.dataset['confirming'] === 'true') {
        delete button.dataset['confirming'];
        button.textContent = 'Drain';
      }
    }, 10_000);
    return;
  }
  delete button.dataset['confirming'];
  button.disabled = true;
  say(true, 'Working…');
  try {
    const res = await fetch('/console/nodes/action', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
      body: JSON.stringify({ node: nodeUrl, action }),
    });
    const body = (await res.json().catch(() => ({}))) as {
      result?: Record<string, unknown>;
      error?: { message?: string };
    };
    if (res.ok) {
      say(true, DONE[action]?.(body.result ?? {}) ?? 'Done.');
    } else {
      say(false, body.error?.message ?? `HTTP ${res.status}`);
    }
  } catch {
    say(false, 'The gateway is unreachable.');
  } finally {
    button.disabled = false;
    void poll();
  }
}

nodesEl.addEventListener('click', (event) => {
  const button = (event.target as Element).closest<HTMLButtonElement>('button[data-action]');
  const card = button?.closest<HTMLElement>('article[data-node]');
  if (!button || !card) {
    return;
  }
  const action = button.dataset['action'] ?? '';
  if (action === 'screenshot') {
    void loadScreenshot(card);
  } else {
    void runAction(card, button, action);
  }
});

let resizeTimer: number | undefined;
window.addEventListener('resize', () => {
  window.clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => cards.forEach((c) => c.charts.resize()), 150);
});
window.setInterval(() => cards.forEach((c) => c.tick()), 1000);
void poll();
