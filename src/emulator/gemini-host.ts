/**
 * gemini.google.com: the /app page (signed in, guest, or a 302 to /sorry under the `sorry`
 * fault), StreamGenerate and batchexecute.
 */
import { guestAppPage, signedInAppPage } from './app-page.ts';
import { handleBatchExecute } from './batchexecute.ts';
import { handleGenerate } from './generate.ts';
import { redirect, send, sendHtml, type RequestContext } from './http-io.ts';
import { sorryUrl } from './www-host.ts';

/** The StreamGenerate path. */
export const GENERATE_PATH =
  '/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate';
/** The batchexecute path. */
export const BATCH_PATH = '/_/BardChatUi/data/batchexecute';

/** Handles requests for gemini.google.com. */
export async function handleGemini(ctx: RequestContext): Promise<void> {
  const path = ctx.url.pathname;
  if (path === GENERATE_PATH) {
    await handleGenerate(ctx);
  } else if (path === BATCH_PATH) {
    await handleBatchExecute(ctx);
  } else if (path === '/') {
    redirect(ctx, 'https://gemini.google.com/app');
  } else if (isAppPath(path) && (ctx.req.method === 'GET' || ctx.req.method === 'HEAD')) {
    servePage(ctx);
  } else {
    send(ctx, 404, 'Not Found');
  }
}

/** /app and /app/<chat id>. */
export function isAppPath(path: string): boolean {
  return path === '/app' || path.startsWith('/app/');
}

function servePage(ctx: RequestContext): void {
  const { account, session, signedIn } = ctx.identity;
  const fault = ctx.state.faults.take({ email: account?.email ?? null, kind: 'app' });
  if (fault) {
    ctx.record.fault = fault;
    redirect(ctx, sorryUrl(ctx.url));
    return;
  }
  const html =
    signedIn && account && session
      ? signedInAppPage(account.email, session.snlm0e)
      : guestAppPage();
  sendHtml(ctx, 200, html, { 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate' });
}
