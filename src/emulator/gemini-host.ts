/**
 * gemini.google.com: the /app page (signed in with the account's model lists, guest, or a 302 to
 * /sorry under the `sorry` fault), StreamGenerate and batchexecute.
 */
import { guestAppPage, signedInAppPage, type PageModels } from './app-page.ts';
import { handleBatchExecute } from './batchexecute.ts';
import { handleGenerate } from './generate.ts';
import { redirect, send, sendHtml, type RequestContext } from './http-io.ts';
import { psidccCookies, toSetCookie } from './session-cookies.ts';
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
    setFreshPsidcc(ctx);
    await handleGenerate(ctx);
  } else if (path === BATCH_PATH) {
    setFreshPsidcc(ctx);
    await handleBatchExecute(ctx);
  } else if (path === '/') {
    redirect(ctx, 'https://gemini.google.com/app');
  } else if (isAppPath(path) && (ctx.req.method === 'GET' || ctx.req.method === 'HEAD')) {
    servePage(ctx);
  } else {
    send(ctx, 404, 'Not Found');
  }
}

/** Like Google: every signed-in call answers with new PSIDCC values, so clients see cookie churn. */
function setFreshPsidcc(ctx: RequestContext): void {
  if (ctx.identity.signedIn) {
    // Merged into whatever writeHead sends later; these routes set no other cookies.
    ctx.res.setHeader('set-cookie', psidccCookies().map(toSetCookie));
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
  }
  if (fault === 'sorry') {
    redirect(ctx, sorryUrl(ctx.url));
    return;
  }
  const html =
    signedIn && account && session
      ? signedInAppPage(
          account.email,
          session.snlm0e,
          fault === 'page_models_shape' ? 'unreadable' : pageModels(ctx, account.email),
        )
      : guestAppPage();
  sendHtml(ctx, 200, html, { 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate' });
}

/** The account's models as the page lists them: what otAQ7b offers now, split by thinking. */
function pageModels(ctx: RequestContext, email: string): PageModels {
  const offered = ctx.state.plans.modelsFor(email);
  return {
    fast: offered.filter((m) => !m.thinking).map((m) => m.id),
    thinking: offered.filter((m) => m.thinking).map((m) => m.id),
  };
}
