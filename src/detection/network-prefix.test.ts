import { describe, expect, it } from 'vitest';
import { networkPrefix } from './network-prefix.js';

describe('networkPrefix', () => {
  it.each([
    ['198.51.100.7', '198.51.100.0/24'],
    ['010.001.002.003', '10.1.2.0/24'],
    ['::ffff:203.0.113.9', '203.0.113.0/24'],
    ['2001:db8:aa:1::5', '2001:db8:aa::/48'],
    ['2001:0DB8:00AA:ffff:0:0:0:1', '2001:db8:aa::/48'],
    ['::1', '0:0:0::/48'],
    ['fe80::1%eth0', 'fe80:0:0::/48'],
    ['2001:db8::192.0.2.1', '2001:db8:0::/48'],
  ])('%s → %s', (ip, net) => {
    expect(networkPrefix(ip)).toBe(net);
  });

  it.each(['', 'example.com', '256.1.1.1', '1.2.3', '1:2:3:4:5:6:7:8:9', '1::2::3', 'gggg::1'])(
    'rejects %j',
    (ip) => {
      expect(networkPrefix(ip)).toBeNull();
    },
  );
});
