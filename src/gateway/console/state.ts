/**
 * @module gateway/console/state
 * GET /console/state: everything the console shows, as one JSON document the script polls. The
 * registry's rows (as /api/nodes reports them) plus, per node, this gateway's 15-minute figures,
 * and the totals on top.
 */
import type { NodeSummary, NodesReport } from '../node-summary.ts';
import type { ConsoleStats, NodeFigures, TotalFigures } from './stats.ts';

/** One account's card. */
export type ConsoleNode = NodeSummary & {
  readonly figures: NodeFigures;
  /** The account's noVNC page, from GATEWAY_VNC_URL_TEMPLATE; null without one. */
  readonly vncUrl: string | null;
};

/** The body of GET /console/state. */
export interface ConsoleState {
  readonly nowMs: number;
  readonly registry: {
    readonly status: NodesReport['status'];
    readonly ageMs: number | null;
    readonly error: string | null;
  };
  readonly totals: TotalFigures & { readonly eligible: number; readonly total: number };
  readonly nodes: readonly ConsoleNode[];
}

/**
 * The account's noVNC URL: `{account}`, `{worker_id}` and `{node_host}` in the template are
 * replaced (URL-encoded). Null without a template, or when the result is not http(s).
 */
export function vncUrlOf(template: string | null | undefined, node: NodeSummary): string | null {
  if (!template) {
    return null;
  }
  let host = '';
  try {
    host = new URL(node.nodeUrl).hostname;
  } catch {
    // A node_url that is not a URL: {node_host} stays empty.
  }
  const url = template
    .replaceAll('{account}', encodeURIComponent(node.account ?? ''))
    .replaceAll('{worker_id}', encodeURIComponent(node.workerId ?? ''))
    .replaceAll('{node_host}', encodeURIComponent(host));
  return /^https?:\/\//i.test(url) ? url : null;
}

/** The console's state now. */
export function consoleState(
  report: NodesReport,
  stats: ConsoleStats,
  vncUrlTemplate: string | null | undefined,
  nowMs: number,
): ConsoleState {
  return {
    nowMs,
    registry: { status: report.status, ageMs: report.registryAgeMs, error: report.registryError },
    totals: { ...stats.totals(), eligible: report.eligible, total: report.total },
    nodes: report.nodes.map((n) => ({
      ...n,
      figures: stats.figures(n.nodeUrl),
      vncUrl: vncUrlOf(vncUrlTemplate, n),
    })),
  };
}
