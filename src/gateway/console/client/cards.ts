/**
 * @module gateway/console/client/cards
 * One card per account, built once and then updated in place from each state poll (text only:
 * registry values are never parsed as HTML). Buttons carry data-action; main.ts handles clicks.
 */
import { formatDuration } from '../../dashboard.ts';
import type { ConsoleNode } from '../state.ts';
import { createCharts, type NodeCharts } from './charts.ts';

const FACTS: readonly (readonly [col: string, label: string, wide?: boolean])[] = [
  ['status', 'Status'],
  ['login', 'Login'],
  ['cooldown', 'Cooldown'],
  ['in-flight', 'In flight'],
  ['current-tasks', 'Worker tasks'],
  ['queue', 'Queued'],
  ['rpm', 'Requests / min'],
  ['errors', 'Errors (15 min)'],
  ['latency', 'p50 / p95'],
  ['heartbeat', 'Heartbeat'],
  ['weight', 'Weight'],
  ['version', 'Version'],
  ['tier', 'Tier'],
  ['models', 'Models', true],
  ['drift', 'Protocol drift', true],
  ['last-error', 'Last error', true],
];

/** A rendered card and what updates it. */
export interface Card {
  readonly element: HTMLElement;
  update(node: ConsoleNode, receivedAtMs: number): void;
  /** Rewrites the cooldown countdown from the last state, at the current time. */
  tick(): void;
  readonly charts: NodeCharts;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text = '',
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    e.setAttribute(k, v);
  }
  e.textContent = text;
  return e;
}

/** "candidate_shape 2, envelope_unknown 1" (largest first), or "none". */
function driftText(byKind: Readonly<Record<string, number>>): string {
  const kinds = Object.entries(byKind)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return kinds.length === 0 ? 'none' : kinds.map(([kind, n]) => `${kind} ${n}`).join(', ');
}

const ms = (v: number | null): string => (v === null ? '-' : `${Math.round(v)} ms`);

/** "3 m 05 s (usage_limit)", or "-" when not cooling. */
function cooldownText(node: ConsoleNode, elapsedMs: number): string {
  const left = node.cooldownRemainingMs - elapsedMs;
  if (node.cooldownRemainingMs <= 0 || left <= 0) {
    return '-';
  }
  return `${formatDuration(left)}${node.cooldownReason ? ` (${node.cooldownReason})` : ''}`;
}

/** Builds the card of one account. */
export function createCard(first: ConsoleNode): Card {
  const name = first.account ?? first.workerId ?? first.nodeUrl;
  const article = el('article', { class: 'node', 'data-node': first.nodeUrl });
  const header = el('header');
  header.append(
    el('h2', { 'data-col': 'account' }),
    el('span', { class: 'state', 'data-col': 'state' }),
  );
  const where = el('p', { class: 'where' });
  where.append(
    el('span', { 'data-col': 'node' }),
    document.createTextNode(' · '),
    el('small', {}, first.nodeUrl),
  );
  const facts = el('dl', { class: 'facts' });
  const cells = new Map<string, HTMLElement>();
  for (const [col, label, wide] of FACTS) {
    const item = el('div', wide ? { class: 'wide' } : {});
    const dd = el('dd', { 'data-col': col });
    item.append(el('dt', {}, label), dd);
    facts.append(item);
    cells.set(col, dd);
  }
  const charts = createCharts(first.figures.series);
  const thumb = el('div', { class: 'thumb' });
  const img = el('img', { alt: `Screenshot of the Gemini tab of ${name}`, hidden: '' });
  const thumbStatus = el('span', { class: 'thumb-status', role: 'status' });
  thumb.append(
    img,
    el('button', { type: 'button', 'data-action': 'screenshot' }, 'Refresh screenshot'),
    thumbStatus,
  );
  const actions = el('div', { class: 'actions' });
  const drain = el('button', { type: 'button', 'data-action': 'drain' }, 'Drain');
  const vnc = el(
    'a',
    { class: 'button', 'data-action': 'vnc', target: '_blank', rel: 'noopener noreferrer' },
    'Open VNC',
  );
  actions.append(
    el('button', { type: 'button', 'data-action': 'refresh-session' }, 'Refresh session'),
    el('button', { type: 'button', 'data-action': 'reset-cooldown' }, 'Reset cooldown'),
    drain,
    vnc,
  );
  const outcome = el('p', { class: 'outcome', role: 'status', 'aria-live': 'polite' });
  article.append(header, where, facts, charts.element, thumb, actions, outcome);

  let last = first;
  let receivedAt = Date.now();
  const set = (col: string, text: string) => {
    const cell =
      col === 'account' || col === 'state' || col === 'node'
        ? article.querySelector<HTMLElement>(`[data-col="${col}"]`)
        : cells.get(col);
    if (cell && cell.textContent !== text) {
      cell.textContent = text;
    }
  };
  const card: Card = {
    element: article,
    charts,
    tick() {
      set('cooldown', cooldownText(last, Date.now() - receivedAt));
    },
    update(node, receivedAtMs) {
      last = node;
      receivedAt = receivedAtMs;
      const f = node.figures;
      article.dataset['state'] = node.state;
      set('account', node.account ?? '-');
      set('state', node.state);
      set('node', node.workerId ?? '-');
      set('status', node.status);
      set('login', node.loginState ?? 'unknown');
      card.tick();
      set('in-flight', String(node.inFlight));
      set('current-tasks', String(node.currentTasks));
      set('queue', node.queueWaiting === null ? '-' : String(node.queueWaiting));
      set('rpm', String(f.requestsPerMin));
      set('errors', f.errorPct === null ? '-' : `${f.errorPct.toFixed(1)} %`);
      set('latency', `${ms(f.p50Ms)} / ${ms(f.p95Ms)}`);
      set(
        'heartbeat',
        node.heartbeatAgeMs === null ? 'never' : `${formatDuration(node.heartbeatAgeMs)} ago`,
      );
      set('weight', String(node.weight));
      set('version', node.version ?? '-');
      set('tier', node.tier ?? '-');
      set('models', node.models.length > 0 ? node.models.join(', ') : '-');
      set('drift', driftText(node.protocolDrift));
      set(
        'last-error',
        f.lastError
          ? `${new Date(f.lastError.atMs).toLocaleTimeString()}: ${f.lastError.text}`
          : '',
      );
      const draining = node.state === 'draining';
      if (drain.dataset['confirming'] !== 'true' || draining) {
        delete drain.dataset['confirming'];
        drain.dataset['action'] = draining ? 'undrain' : 'drain';
        drain.textContent = draining ? 'Undrain' : 'Drain';
      }
      if (node.vncUrl) {
        vnc.href = node.vncUrl;
        vnc.hidden = false;
      } else {
        vnc.removeAttribute('href');
        vnc.hidden = true;
      }
      charts.update(f.series);
    },
  };
  return card;
}
