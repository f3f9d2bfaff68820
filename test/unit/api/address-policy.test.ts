import { describe, expect, it } from 'vitest';
import { addressRange, isPublicAddress } from '../../../src/api/address-policy.ts';

describe('isPublicAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    // v4-mapped v6 is judged as the v4 address inside.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    // NAT64 and 6to4 can carry an inner v4 address; refused too.
    ['64:ff9b::7f00:1', 'rfc6052'],
    ['2002:7f00:1::', '6to4'],
    // The IPv4-compatible form (a URL writes [::127.0.0.1] as [::7f00:1]): refused whole.
    ['::7f00:1', 'ipv4Compatible'],
    ['[::7f00:1]', 'ipv4Compatible'],
    ['::a00:1', 'ipv4Compatible'],
    ['::808:808', 'ipv4Compatible'],
    ['2001:db8::1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    // Odd v4 spellings still parse to what they are.
    ['2130706433', 'loopback'],
    ['0x7f.1', 'loopback'],
  ])('%s is refused (%s)', (address, range) => {
    expect(addressRange(address)).toBe(range);
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '2606:4700::1111', '::ffff:8.8.8.8'])(
    '%s is public',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  it.each(['localhost', 'example.com', '', '::gg', '999.1.1.1'])(
    '%s is not an address at all',
    (text) => {
      expect(isPublicAddress(text)).toBe(false);
    },
  );
});
