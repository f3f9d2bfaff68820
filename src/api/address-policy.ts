/**
 * Which addresses an image URL may reach: public unicast only. ipaddr.js names the range of an
 * address; anything but `unicast` (loopback, private, link-local, CGNAT, multicast, unique-local,
 * unspecified, reserved, NAT64 and 6to4 forms that can embed an inner v4 address) is refused,
 * and a v4-mapped v6 address is judged as the v4 address it carries. The deprecated
 * IPv4-compatible form (::/96, e.g. `[::7f00:1]`, which is how a URL spells `[::127.0.0.1]`)
 * is refused whole: ipaddr.js calls it unicast, and a host that routes ::/96 reaches the v4
 * address inside.
 */
import ipaddr from 'ipaddr.js';

const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96') as [ipaddr.IPv6, number];

/** The address without IPv6 brackets or a zone id. */
function bare(address: string): string {
  return address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
}

/** True for an IP literal (v4 in any form ipaddr.js reads, or v6). */
export function isIpLiteral(host: string): boolean {
  return ipaddr.isValid(bare(host));
}

/** The ipaddr.js range name of an address (v4-mapped v6 unwrapped), or null when not an IP. */
export function addressRange(address: string): string | null {
  const text = bare(address);
  if (!ipaddr.isValid(text)) {
    return null;
  }
  let ip = ipaddr.parse(text);
  if (ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress()) {
    ip = ip.toIPv4Address();
  }
  if (ip instanceof ipaddr.IPv6 && ip.range() === 'unicast' && ip.match(IPV4_COMPATIBLE)) {
    return 'ipv4Compatible';
  }
  return ip.range();
}

/** True only for a public unicast address; false for anything else, and for non-addresses. */
export function isPublicAddress(address: string): boolean {
  return addressRange(address) === 'unicast';
}
