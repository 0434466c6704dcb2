// The request inspector over HTTP, mounted by the app in sandbox mode only
// (`sandbox: true`): a page, its script and style, and three JSON routes.
// Outside sandbox mode none of them exists (404) and no request is kept.
//
//   GET  /sandbox/inspector               the page
//   GET  /sandbox/inspector/requests      the recent provisioning requests, newest first
//   GET  /sandbox/inspector/requests/:id  the report of one, by request id or correlation id
//   POST /sandbox/inspector/inspect       { submission, walletProviderId? } -> the dry run's report
import type { Hono } from 'hono';
import { HttpError, SchemaError, parseStrictJson } from '@pushprov/protocol';
import { readBodyWithLimit } from '../http/read-body.js';
import type { TokenService } from '../service/create-token-service.js';
import type { InspectionReport } from './inspect-submission.js';
import { INSPECTOR_ICON, INSPECTOR_PAGE, INSPECTOR_SCRIPT, INSPECTOR_STYLE } from './inspector-page.js';
import { type RecentRequests, mergeRecordedAnswer } from './recent-requests.js';

/** Where the inspector page lives. */
export const INSPECTOR_PATH = '/sandbox/inspector';

const JSON_TYPE = /^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i;

/** The page's headers: nothing from elsewhere, no framing, no caching. */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** What the app needs to record each provisioning request for the inspector. */
export interface RequestRecorder {
  readonly recent: RecentRequests;
  /** Runs the dry run on a body before the request runs (so step 12 sees the store as the request does). */
  before(request: Request, body: string, walletProviderId: string): Promise<void>;
  /** Records the request with its answer. */
  finish(request: Request, answer: { requestId: string; correlationId: string; status: number; code?: string | undefined; walletProviderId?: string | undefined }): void;
}

/**
 * The recorder of a sandbox app: a dry-run report per provisioning request,
 * merged with its answer into `recent`. The dry run's own failure never
 * touches the request.
 */
export function createRequestRecorder(service: TokenService, recent: RecentRequests): RequestRecorder {
  const pending = new WeakMap<Request, InspectionReport>();
  return {
    recent,
    async before(request, body, walletProviderId) {
      try {
        pending.set(request, await service.inspect({ submission: body, walletProviderId }));
      } catch {
        // The inspector is an aid: the request goes on without its report.
      }
    },
    finish(request, answer) {
      const dryRun = pending.get(request);
      pending.delete(request);
      const info = {
        requestId: answer.requestId,
        correlationId: answer.correlationId,
        at: new Date(service.clock.now()).toISOString(),
        status: answer.status,
        ...(answer.code === undefined ? {} : { code: answer.code }),
        ...(answer.walletProviderId === undefined ? {} : { walletProviderId: answer.walletProviderId }),
      };
      recent.add({ info, report: mergeRecordedAnswer(dryRun, info) });
    },
  };
}

/** Mounts the inspector's routes on a sandbox app. */
export function mountInspector(app: Hono<never>, service: TokenService, recent: RecentRequests, maxBodyBytes: number): void {
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } });
  app.get(INSPECTOR_PATH, () => new Response(INSPECTOR_PAGE, { headers: { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' } }));
  app.get(`${INSPECTOR_PATH}/app.js`, () => new Response(INSPECTOR_SCRIPT, { headers: { ...PAGE_HEADERS, 'content-type': 'text/javascript; charset=utf-8' } }));
  app.get(`${INSPECTOR_PATH}/app.css`, () => new Response(INSPECTOR_STYLE, { headers: { ...PAGE_HEADERS, 'content-type': 'text/css; charset=utf-8' } }));
  app.get(`${INSPECTOR_PATH}/icon.svg`, () => new Response(INSPECTOR_ICON, { headers: { ...PAGE_HEADERS, 'content-type': 'image/svg+xml' } }));
  app.get(`${INSPECTOR_PATH}/requests`, () => json({ requests: recent.list(), walletProviders: service.config.walletProviders.map((p) => p.id) }));
  app.get(`${INSPECTOR_PATH}/requests/:id`, (c) => {
    const found = recent.find(c.req.param('id'));
    if (!found) throw new HttpError('not_found', 'No recent request with this request id or correlation id');
    return json(found.report);
  });
  app.post(`${INSPECTOR_PATH}/inspect`, async (c) => {
    if (!JSON_TYPE.test(c.req.header('content-type') ?? '')) throw new HttpError('unsupported_media_type', 'The body must be application/json');
    // Bounded as the API's bodies are (twice: the submission may come as a JSON string inside it).
    const text = await readBodyWithLimit(c.req.raw, maxBodyBytes * 2);
    const body = parseStrictJson(text, { maxLength: maxBodyBytes * 2 }) as { submission?: unknown; walletProviderId?: unknown } | null;
    if (body === null || typeof body !== 'object' || !('submission' in body)) throw new SchemaError('invalid_message', 'Send { "submission": …, "walletProviderId"?: "…" }');
    const walletProviderId = typeof body.walletProviderId === 'string' && body.walletProviderId !== '' ? body.walletProviderId : undefined;
    return json(await service.inspect({ submission: body.submission, walletProviderId }));
  });
}
