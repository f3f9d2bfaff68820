/**
 * Redaction by name and by shape: no per-value state, so it costs the same however many cookies
 * have rotated. Keys that name a secret are blanked; Google's cookie shapes, `NAME=value` pairs of
 * Google cookies, bearer credentials and URL passwords are replaced inside any string.
 */

/** What a secret is replaced with. */
export const REDACTED = '[REDACTED]';

/** Object keys whose values are secret, compared lower-cased with `-` and `_` dropped. */
const SECRET_KEY_NAMES = new Set([
  'cookie',
  'cookies',
  'setcookie',
  'authorization',
  'proxyauthorization',
  'at',
  'snlm0e',
  'password',
  'dbpassword',
  'apikey',
  'apikeys',
  'adminapikey',
  'adminapikeys',
  'xapikey',
  'connectionstring',
  'databaseurl',
  'secure1psid',
  'secure1psidts',
  'sid',
  'hsid',
  'ssid',
  'apisid',
  'sapisid',
  'sidcc',
  'nid',
  'aec',
]);

/** Whether a value under the object key `key` is secret. */
export function isSecretKey(key: string): boolean {
  const lower = key.toLowerCase();
  if (lower.startsWith('__secure-') || lower.startsWith('__host-')) {
    return true;
  }
  return SECRET_KEY_NAMES.has(lower.replace(/[-_]/g, ''));
}

// The tail class takes `.` too, so a shaped value glued to other text is covered to its end.
const SHAPED = String.raw`(?:g\.a000|sidts-|AKEyX)[\w.-]{8,}(?::\d+)?`;
const GOOGLE_COOKIE_NAMES = String.raw`(?:__Secure-|__Host-)[\w-]+|SID|HSID|SSID|APISID|SAPISID|SIDCC|NID|AEC|OSID|LSID`;

/**
 * One pass for every shape: a Google cookie value (`g.a000…` PSID, `sidts-…` PSIDTS, `AKEyX…`
 * PSIDCC/SIDCC and the `at` token), `NAME=value` of a Google cookie, `Bearer`/`Basic`
 * credentials, and the password in `scheme://user:password@host`.
 */
const SHAPES = new RegExp(
  `${SHAPED}|\\b(${GOOGLE_COOKIE_NAMES})=[^;\\s,"'&]+|\\b(Bearer|Basic) +[\\w.~+/=-]{6,}|(//[^\\s/:@]+:)[^\\s/@]+@`,
  'g',
);
const WHOLLY_SHAPED = new RegExp(`^${SHAPED}$`);

/** Whether the shape patterns alone catch `value` wherever it appears. */
export function isShapedSecret(value: string): boolean {
  return WHOLLY_SHAPED.test(value);
}

/** Replaces every secret shape inside `text`. */
export function redactShapes(text: string): string {
  return text.replace(
    SHAPES,
    (_match, cookieName?: string, scheme?: string, userinfo?: string) =>
      cookieName
        ? `${cookieName}=${REDACTED}`
        : scheme
          ? `${scheme} ${REDACTED}`
          : userinfo
            ? `${userinfo}${REDACTED}@`
            : REDACTED,
  );
}
