import { BlockList, isIP } from 'node:net';

/**
 * Which addresses a per-job webhook may connect to: none in the special-purpose ranges of the IANA IPv4 and IPv6
 * Special-Purpose Address Registries (RFC 6890, https://www.iana.org/assignments/iana-ipv4-special-registry and
 * …/iana-ipv6-special-registry) that lead inside: private, loopback, link-local, shared (100.64.0.0/10, where Alibaba
 * Cloud's own metadata service answers at 100.100.100.200:
 * https://www.alibabacloud.com/help/en/ecs/user-guide/overview-of-ecs-instance-metadata), unique-local, multicast,
 * reserved, and the IPv6 forms that carry an IPv4 address (IPv4-mapped ::ffff:0:0/96, which node:net's BlockList
 * matches against the IPv4 rules; NAT64 64:ff9b::/96 and 64:ff9b:1::/48; 6to4 2002::/16; Teredo 2001::/32).
 */
const RULES: ReadonlyArray<[subnet: string, prefix: number, family: 'ipv4' | 'ipv6', kind: string]> = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', "shared: the cloud's internal services"],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'reserved'],
  ['192.0.2.0', 24, 'ipv4', 'reserved'],
  ['192.88.99.0', 24, 'ipv4', 'reserved'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'reserved'],
  ['198.51.100.0', 24, 'ipv4', 'reserved'],
  ['203.0.113.0', 24, 'ipv4', 'reserved'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['::', 96, 'ipv6', 'reserved'],
  ['64:ff9b::', 96, 'ipv6', 'NAT64, an IPv4 address inside'],
  ['64:ff9b:1::', 48, 'ipv6', 'NAT64, an IPv4 address inside'],
  ['100::', 64, 'ipv6', 'reserved'],
  ['2001::', 32, 'ipv6', 'Teredo, an IPv4 address inside'],
  ['2001:db8::', 32, 'ipv6', 'reserved'],
  ['2002::', 16, 'ipv6', '6to4, an IPv4 address inside'],
  ['fc00::', 7, 'ipv6', 'unique-local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local (private)'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

/** Made on the first check: most runs deliver no per-job webhook, and a cold start should not pay for them. */
let lists: { list: BlockList; kind: string }[] | undefined;

/** The kind of range an IP address is in when it leads inside (`loopback`, `private` …), or undefined for a public one. */
export function internalRangeOf(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  lists ??= RULES.map(([subnet, prefix, ruleFamily, kind]) => {
    const list = new BlockList();
    list.addSubnet(subnet, prefix, ruleFamily);
    return { list, kind };
  });
  return lists.find(({ list }) => list.check(address, type))?.kind;
}
