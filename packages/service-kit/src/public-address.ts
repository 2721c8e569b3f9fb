/**
 * Outbound calls to addresses partners register (webhook receivers, EPDs) must not reach inside
 * the chain's network unless allowed: loopback, private, link-local (cloud metadata), shared and
 * unspecified ranges are refused, checked where the connection is made, after DNS, so a name that
 * resolves (or later re-resolves) to an internal address is refused too.
 */
import { lookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const)
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');

export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it is.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return NON_PUBLIC.check(mapped, 'ipv4');
  return NON_PUBLIC.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * A `lookup` for an undici Agent's `connect` that refuses non-public addresses with
 * `ERR_NON_PUBLIC_ADDRESS`; `what` names the callee in the error ("receiver", "EPD").
 */
export function publicOnlyLookup(what: string) {
  return (
    hostname: string,
    options: LookupOptions,
    callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      if (addresses.some((entry) => isNonPublicAddress(entry.address))) {
        return callback(Object.assign(new Error(`${what} address is not public`), { code: 'ERR_NON_PUBLIC_ADDRESS' }), []);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
