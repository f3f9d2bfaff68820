/**
 * @module gateway/dashboard
 * The status page at `/`: server-rendered HTML, no framework. A small inline script fetches the
 * freshly rendered node table every 2 s and swaps it in, so all rendering (and all escaping)
 * happens here, once. Without JavaScript, a meta refresh reloads the page.
 */
import type { NodeSummary, NodesReport } from './node-summary.ts';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML content and double- or single-quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** "850 ms", "12 s", "3 m 05 s", "2 h 07 m"; "-" for null. */
export function formatDuration(ms: number | null): string {
  if (ms === null) {
    return '-';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const s = Math.floor(ms / 1000);
  if (s < 60) {
    return `${s} s`;
  }
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 3600) {
    return `${Math.floor(s / 60)} m ${pad(s % 60)} s`;
  }
  return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} m`;
}

const COLUMNS = [
  'Node',
  'Account',
  'Status',
  'State',
  'Login',
  'Cooldown',
  'In flight',
  'Worker tasks',
  'Queue',
  'Heartbeat',
  'Weight',
  'Version',
] as const;

function cell(col: string, text: string, cls = ''): string {
  const classAttr = cls ? ` class="${escapeHtml(cls)}"` : '';
  return `<td data-col="${escapeHtml(col)}"${classAttr}>${escapeHtml(text)}</td>`;
}

function renderRow(n: NodeSummary): string {
  const cooldown =
    n.cooldownRemainingMs > 0
      ? `${formatDuration(n.cooldownRemainingMs)}${n.cooldownReason ? ` (${n.cooldownReason})` : ''}`
      : '-';
  return [
    `<tr data-node="${escapeHtml(n.nodeUrl)}" class="state-${escapeHtml(n.state)}">`,
    `<td data-col="node">${escapeHtml(n.workerId ?? '-')}<br><small>${escapeHtml(n.nodeUrl)}</small></td>`,
    cell('account', n.account ?? '-'),
    cell('status', n.status),
    cell('state', n.state),
    cell('login', n.loginState ?? 'unknown'),
    cell('cooldown', cooldown),
    cell('in-flight', String(n.inFlight)),
    cell('current-tasks', String(n.currentTasks)),
    cell('queue', n.queueWaiting === null ? '-' : String(n.queueWaiting)),
    cell(
      'heartbeat',
      n.heartbeatAgeMs === null ? 'never' : `${formatDuration(n.heartbeatAgeMs)} ago`,
    ),
    cell('weight', String(n.weight)),
    cell('version', n.version ?? '-'),
    '</tr>',
  ].join('');
}

/** The live part of the page: the summary line and the node table. */
export function renderNodeTable(report: NodesReport): string {
  const registry =
    report.registryError !== null
      ? `registry unreachable, showing rows read ${formatDuration(report.registryAgeMs)} ago`
      : `registry read ${formatDuration(report.registryAgeMs)} ago`;
  const rows =
    report.nodes.length > 0
      ? report.nodes.map(renderRow).join('\n')
      : `<tr><td colspan="${COLUMNS.length}">No node has registered.</td></tr>`;
  return [
    `<p id="summary" data-status="${escapeHtml(report.status)}">`,
    `<strong data-summary="eligible">${report.eligible}</strong> of `,
    `<strong data-summary="total">${report.total}</strong> nodes can serve; `,
    `${escapeHtml(registry)}.</p>`,
    '<table><thead><tr>',
    COLUMNS.map((c) => `<th>${escapeHtml(c)}</th>`).join(''),
    `</tr></thead><tbody>\n${rows}\n</tbody></table>`,
  ].join('');
}

const STYLE = `
body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{padding:.35rem .5rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{background:#f4f4f4}small{color:#666}
.state-eligible td[data-col=state]{color:#176b2c;font-weight:600}
.state-cooling td[data-col=state],.state-login_required td[data-col=state]{color:#a15c00;font-weight:600}
.state-stale td[data-col=state],.state-offline td[data-col=state]{color:#b00020;font-weight:600}
#updated{color:#666}`;

// Replaces the table with the server's latest rendering; keeps the old one if a fetch fails.
const SCRIPT = `
const live = document.getElementById('live');
const updated = document.getElementById('updated');
async function tick() {
  try {
    const res = await fetch('dashboard/nodes', { cache: 'no-store' });
    if (res.ok) {
      live.innerHTML = await res.text();
      updated.textContent = 'updated ' + new Date().toLocaleTimeString();
    } else {
      updated.textContent = 'refresh failed: HTTP ' + res.status;
    }
  } catch (err) {
    updated.textContent = 'refresh failed: gateway unreachable';
  }
  setTimeout(tick, 2000);
}
setTimeout(tick, 2000);`;

/** The whole page; `nonce` must match the response's Content-Security-Policy. */
export function renderDashboard(report: NodesReport, nonce: string): string {
  const n = escapeHtml(nonce);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gemini-kasm gateway</title>
<noscript><meta http-equiv="refresh" content="5"></noscript>
<style nonce="${n}">${STYLE}</style></head>
<body><h1>gemini-kasm gateway</h1>
<div id="live">${renderNodeTable(report)}</div>
<p id="updated">refreshes every 2 s</p>
<script nonce="${n}">${SCRIPT}</script>
</body></html>`;
}

/** The Content-Security-Policy that lets only the page's own nonce'd style and script run. */
export function dashboardCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
