/**
 * TRUST_PROXY as express's `trust proxy` reads it. Off by default: X-Forwarded-For/-Host/-Proto
 * are then ignored, and req.ip and req.protocol are the socket's own.
 */

/** A hop count when numeric, else a comma list of addresses, subnets or loopback/uniquelocal. */
export function trustProxyValue(value: string | false): string | number | false {
  if (value === false) {
    return false;
  }
  return /^\d+$/.test(value) ? Number(value) : value;
}
