/**
 * What the stack prints once it serves: the URLs, a request to paste, and (with --real) how to
 * sign the browsers in to Google. Pure.
 */
import path from 'node:path';
import { serviceUrls } from './stack-layout.ts';
import type { StackOptions, StackPorts } from './stack-options.ts';

/** The line tests (and people) wait for; printed last. */
export const READY_LINE = 'stack ready';

/** A path as short as it can be shown: relative to `cwd` when inside it. */
function shown(p: string, cwd: string): string {
  const rel = path.relative(cwd, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

/** How the report shows the keys: the generated ones in full, the environment's by name. */
export interface ReportKeys {
  /** A user key to paste, or null when they came from API_KEYS (not echoed). */
  readonly user: string | null;
  readonly admin: string | null;
  /** Where they are kept, or null. */
  readonly file: string | null;
}

function curlLines(gateway: string, keys: ReportKeys): string[] {
  const auth = `-H 'Authorization: Bearer ${keys.user ?? '<one of API_KEYS>'}'`;
  return [
    `  curl ${gateway}/v1/chat/completions ${auth} \\`,
    `    -H 'Content-Type: application/json' \\`,
    `    -d '{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hello"}]}'`,
  ];
}

/** How to sign the --real browsers in, with or without a display. */
export function realSignInHints(
  options: StackOptions,
  ports: StackPorts,
  keys: ReportKeys,
): string[] {
  const urls = serviceUrls(ports);
  const cdp = ports.cdp.map((p) => `127.0.0.1:${p}`).join(', ');
  const common = [
    `  A worker serves once its Chromium is signed in; it notices by itself within seconds.`,
    `  Check: curl ${urls.workers[0] ?? ''}/health  ("login_state":"logged_in")`,
    `  Screenshot of a worker's tab (admin key): curl -H 'Authorization: Bearer ${keys.admin ?? '<one of ADMIN_API_KEYS>'}' \\`,
    `    ${urls.workers[0] ?? ''}/admin/browser/screenshot > tab.png`,
  ];
  if (options.display !== null) {
    return [
      `Sign in: each worker has a Chromium window (DISPLAY ${options.display}) on gemini.google.com;`,
      `  sign each one in to its own Google account and leave it open.`,
      ...common,
    ];
  }
  return [
    `Sign in: DISPLAY is not set, so the Chromiums run headless. Either`,
    `  - open chrome://inspect in a Chrome on this machine, "Configure…" and add ${cdp},`,
    `    then "inspect" each gemini.google.com tab and sign in through the DevTools screencast; or`,
    `  - stop and rerun with a display: DISPLAY=:0 npm run stack -- --real (or under xvfb-run + VNC).`,
    ...common,
  ];
}

function keyLines(keys: ReportKeys, cwd: string): string[] {
  if (keys.user === null) {
    return ['  API keys    from API_KEYS / ADMIN_API_KEYS in the environment'];
  }
  return [
    `  user key    ${keys.user}`,
    `  admin key   ${keys.admin ?? ''}   (screenshots, cooldown resets, every conversation)`,
    ...(keys.file
      ? [`              kept in ${shown(keys.file, cwd)}; delete it for new ones`]
      : []),
  ];
}

/** The lines printed once the gateway lists every worker, ending with READY_LINE. */
export function readyReport(
  options: StackOptions,
  ports: StackPorts,
  context: { readonly cwd: string; readonly keys: ReportKeys },
): string[] {
  const urls = serviceUrls(ports);
  const mode = options.real ? 'real Google (--real)' : 'the Gemini emulator';
  const logs = path.join(shown(options.dir, context.cwd), 'logs');
  return [
    '',
    `gemini-kasm is running: ${options.workers} worker(s) against ${mode}; state in ${shown(options.dir, context.cwd)}`,
    `  API base    ${urls.gateway}/v1   (any OpenAI client, with the user key)`,
    ...keyLines(context.keys, context.cwd),
    `  console     ${urls.gateway}/   (sign in with the admin key)`,
    ...urls.workers.map(
      (u, i) => `  worker${i + 1}     ${u}/health   (Chromium CDP ${urls.cdp[i] ?? ''})`,
    ),
    `  PostgreSQL  ${urls.database}   Redis ${urls.redis}`,
    `  logs        tail -f ${logs}/*.log`,
    '',
    'Try it:',
    ...curlLines(urls.gateway, context.keys),
    '',
    ...(options.real ? [...realSignInHints(options, ports, context.keys), ''] : []),
    'Ctrl-C stops everything.',
    READY_LINE,
  ];
}
