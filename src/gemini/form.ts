/**
 * application/x-www-form-urlencoded bodies, byte for byte what `URLSearchParams#toString` writes.
 * URLSearchParams escapes through a per-character string builder that allocated ~9 KB per chat
 * request (the escaped JSON of f.req); `encodeURIComponent` builds the same flat string natively.
 */

// encodeURIComponent leaves these unescaped; the form serializer escapes all but `*`.
const FORM_EXTRA_RE = /[!'()~]/g;
const escapeExtra = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;

function encodeFormValue(value: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    // A lone surrogate: the form serializer writes U+FFFD for it, so fall back to it.
    return new URLSearchParams({ v: value }).toString().slice(2);
  }
  return encoded.replace(FORM_EXTRA_RE, escapeExtra).replaceAll('%20', '+');
}

/** The fields as a form body, in insertion order; the same string URLSearchParams would write. */
export function formBody(fields: Readonly<Record<string, string>>): string {
  return Object.entries(fields)
    .map(([name, value]) => `${encodeFormValue(name)}=${encodeFormValue(value)}`)
    .join('&');
}
