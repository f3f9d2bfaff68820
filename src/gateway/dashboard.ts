/**
 * @module gateway/dashboard
 * The node table as an HTML fragment (/dashboard/nodes, for scripts and old bookmarks; the
 * operator's console at `/` replaced the page around it), and the text helpers the console shares.
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
