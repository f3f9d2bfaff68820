import { describe, expect, it } from 'vitest';
import { escapeHtml, formatDuration, renderNodeTable } from '../../../src/gateway/dashboard.ts';
import { reportNodes } from '../../../src/gateway/node-summary.ts';
import { node } from './helpers.ts';

const NOW = 1_800_000_000_000;

describe('dashboard', () => {
  it('escapes HTML metacharacters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
  });

  it('formats durations', () => {
    expect(formatDuration(null)).toBe('-');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(185_000)).toBe('3 m 05 s');
    expect(formatDuration(2 * 3600_000 + 7 * 60_000)).toBe('2 h 07 m');
  });

  it('renders every node field, escaped', () => {
    const evil = '<script>alert(1)</script>';
    const n = node(
      {
        nodeUrl: `http://x/"><img src=x onerror=alert(1)>`,
        workerId: evil,
        account: evil,
        status: '429_LIMIT',
        cooldownUntilMs: NOW + 125_000,
        cooldownReason: evil,
        loginState: evil,
        version: evil,
        currentTasks: 3,
        lastHeartbeatMs: NOW - 4000,
        weight: 2.5,
      },
      NOW,
    );
    const report = reportNodes(
      { nodes: [n], fetchedAtMs: NOW, error: null },
      NOW,
      15_000,
      new Map([[n.nodeUrl, 2]]),
    );
    const table = renderNodeTable(report);
    expect(table).not.toContain('<script>alert');
    expect(table).not.toContain('<img');
    expect(table).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(table).toContain('<td data-col="status">429_LIMIT</td>');
    expect(table).toContain('<td data-col="state">cooling</td>');
    expect(table).toContain('<td data-col="cooldown">2 m 05 s (&lt;script&gt;');
    expect(table).toContain('<td data-col="in-flight">2</td>');
    expect(table).toContain('<td data-col="current-tasks">3</td>');
    expect(table).toContain('<td data-col="heartbeat">4 s ago</td>');
    expect(table).toContain('<td data-col="weight">2.5</td>');
    expect(table).toContain('<strong data-summary="eligible">0</strong>');
  });

  it('says when no node registered and when the registry is unreachable', () => {
    const report = reportNodes(
      { nodes: [], fetchedAtMs: NOW - 3000, error: 'connect ECONNREFUSED 10.0.0.5:5432' },
      NOW,
      15_000,
      new Map(),
    );
    const table = renderNodeTable(report);
    expect(table).toContain('No node has registered.');
    expect(table).toContain('registry unreachable');
    // PostgreSQL's own words (addresses) stay in the log, not on a public page.
    expect(table).not.toContain('10.0.0.5');
  });
});
