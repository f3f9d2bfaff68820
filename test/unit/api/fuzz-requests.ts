/**
 * The request generators of fuzz.test.ts: keys (right, wrong, none), chat bodies (well-formed,
 * half-formed, junk) with hostile image references, multipart uploads, and any method on the
 * admin, conversation and image routes.
 */
import fc from 'fast-check';

export const USER = 'sk-fuzz-user-key-000';
export const ADMIN = 'sk-fuzz-admin-key-000';
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

const authHeader = fc.oneof(
  fc.constant<Record<string, string>>({}),
  fc.constant({ authorization: `Bearer ${USER}` }),
  fc.constant({ authorization: `Bearer ${ADMIN}` }),
  fc.constant({ 'x-api-key': USER }),
  fc
    .string({ maxLength: 40 })
    .map((s) => ({ authorization: `Bearer ${s.replace(/[\r\n]/g, '')}` })),
  fc
    .string({ maxLength: 30 })
    .map((s) => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` })),
);
const keyed = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ authorization: `Bearer ${USER}` }) },
  { weight: 1, arbitrary: authHeader },
);

const imageUrl = fc.oneof(
  fc.constant(`data:image/png;base64,${PNG.toString('base64')}`),
  fc.string({ maxLength: 60 }).map((s) => `data:image/png;base64,${s}`),
  fc.webUrl(),
  fc.constantFrom(
    'http://127.0.0.1/x.png',
    'http://[::1]/x',
    'http://169.254.169.254/',
    'file:///etc/passwd',
    'uploads/../../etc/passwd',
    'uploads/.owners/x',
    'javascript:alert(1)',
  ),
  fc.string({ maxLength: 80 }),
);
const part = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.string({ maxLength: 200 }) }),
  fc.record({
    type: fc.constant('image_url'),
    image_url: fc.oneof(
      imageUrl,
      fc.record({ url: imageUrl, detail: fc.string({ maxLength: 5 }) }),
    ),
  }),
  fc.record({ type: fc.string({ maxLength: 10 }), url: fc.string({ maxLength: 10 }) }),
);
const message = fc.record(
  {
    role: fc.oneof(
      fc.constantFrom('system', 'user', 'assistant', 'tool', 'developer'),
      fc.string({ maxLength: 8 }),
    ),
    content: fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.array(part, { maxLength: 6 }),
      fc.constant(null),
      fc.jsonValue(),
    ),
    name: fc.string({ maxLength: 10 }),
  },
  { requiredKeys: ['role'] },
);
const chatBody = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record(
        {
          model: fc.oneof(
            fc.constantFrom('gemini-2.5-flash', 'gemini-default'),
            fc.string({ maxLength: 20 }),
          ),
          messages: fc.array(message, { maxLength: 5 }),
          stream: fc.oneof(fc.boolean(), fc.jsonValue()),
          conversation_id: fc.oneof(fc.uuid(), fc.string({ maxLength: 140 }), fc.constant(null)),
          files: fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.constant('uploads/x.png')), {
            maxLength: 12,
          }),
          n: fc.oneof(fc.constant(1), fc.integer()),
        },
        { requiredKeys: ['messages'] },
      )
      .map((b) => JSON.stringify(b)),
  },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 500 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((s) => `{"messages":[${s}`) },
);
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/json; charset=utf-16',
      'application/json; charset=nope',
      'multipart/form-data; boundary=x',
      '',
    ),
  },
);

/** One request to send. */
export interface Sent {
  readonly method: string;
  readonly route: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Buffer;
}

function multipart(name: string, type: string, data: Buffer, boundary: string): Buffer {
  const safe = name.replace(/["\r\n]/g, '_');
  return Buffer.concat([
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="files"; filename="${safe}"\r\ncontent-type: ${type.replace(/[\r\n]/g, '')}\r\n\r\n`,
    ),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

/** POST /v1/chat/completions. */
export const chatRequest = fc
  .tuple(keyed, contentType, chatBody)
  .map(([auth, type, body]): Sent => ({
    method: 'POST',
    route: '/v1/chat/completions',
    headers: { ...auth, ...(type ? { 'content-type': type } : {}) },
    body,
  }));
/** POST /upload. */
export const uploadRequest = fc
  .tuple(
    keyed,
    fc.string({ maxLength: 120 }),
    fc.oneof(
      fc.constantFrom('image/png', 'application/pdf', 'text/plain', 'application/x-msdownload'),
      fc.string({ maxLength: 30 }),
    ),
    fc.oneof(
      fc.constant(PNG),
      fc.uint8Array({ maxLength: 20_000 }).map((a) => Buffer.from(a)),
    ),
    fc.oneof(
      fc.constant('b0undary'),
      fc.string({ minLength: 1, maxLength: 70 }).filter((b) => !/[\r\n"]/.test(b)),
    ),
    fc.boolean(),
  )
  .map(([auth, name, type, data, boundary, wellFormed]): Sent => ({
    method: 'POST',
    route: '/upload',
    headers: {
      ...auth,
      'content-type': `multipart/form-data; boundary=${boundary.replace(/[\r\n]/g, '')}`,
    },
    body: wellFormed ? multipart(name, type, data, boundary) : data,
  }));
/** Any method on admin, conversation, image, status and unknown routes. */
export const otherRequest = fc
  .tuple(
    authHeader,
    fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
    fc.oneof(
      fc.constantFrom(
        '/admin/session/refresh',
        '/admin/browser/screenshot',
        '/admin/cooldown/reset',
        '/conversations',
        '/metrics',
        '/health',
        '/ready',
        '/v1/models',
      ),
      fc.string({ maxLength: 60 }).map((s) => `/conversations/${encodeURIComponent(s)}`),
      fc.string({ maxLength: 60 }).map((s) => `/images/${s.replace(/[^\x21-\x7e]/g, '')}`),
      fc.webPath().map((p) => p || '/'),
    ),
    fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
  )
  .map(([auth, method, route, body]): Sent => ({
    method,
    route: route.startsWith('/') ? route : `/${route}`,
    headers: { ...auth, 'content-type': 'application/json' },
    ...(body === undefined || method === 'GET' ? {} : { body }),
  }));
