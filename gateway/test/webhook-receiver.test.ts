import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNonPublicAddress } from '@ketengraph/service-kit';
import { postSigned, receiverDispatcher } from '../src/events/webhooks/receiver.js';
import { checkUrl } from '../src/events/webhooks/selection.js';
import { generateSecret, signedHeaders } from '../src/events/webhooks/signing.js';

describe("webhook receivers must be public unless allowed (no calls into the gateway's own network)", () => {
  let server: Server;
  let port: number;
  let received = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      received++;
      request.resume();
      request.on('end', () => response.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('classifies loopback, private, link-local, shared and mapped addresses as non-public', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
    ]) {
      expect(isNonPublicAddress(address), address).toBe(true);
    }
    for (const address of ['8.8.8.8', '172.32.0.1', '145.97.1.1', '2001:4860:4860::8888', '::ffff:8.8.8.8'])
      expect(isNonPublicAddress(address), address).toBe(false);
  });

  it('refuses a literal non-public address or localhost at registration when not allowed', () => {
    for (const url of [
      'https://127.0.0.1/hook',
      'https://localhost/hook',
      'https://[::1]/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.5:8443/x',
    ]) {
      expect(() => checkUrl(url, false, false), url).toThrow(/public address/);
      expect(checkUrl(url, false, true)).toBe(new URL(url).href);
    }
    expect(checkUrl('https://partner.example/hook', false, false)).toBe('https://partner.example/hook');
  });

  it('refuses to connect to a name that resolves to a non-public address, and connects when allowed', async () => {
    const body = JSON.stringify({ type: 'test' });
    const headers = signedHeaders('msg_test', body, [generateSecret()]);
    // `localhost` passes as a name only if the check at connection time is skipped; it must not be.
    const url = `http://localhost:${port}/hook`;
    expect(await postSigned(url, body, headers, { timeoutMs: 2000, dispatcher: receiverDispatcher(false) })).toEqual({
      ok: false,
      error: 'non_public_address',
    });
    expect(received).toBe(0);
    expect(await postSigned(`http://127.0.0.1:${port}/hook`, body, headers, { timeoutMs: 2000, dispatcher: receiverDispatcher(true) })).toMatchObject({
      ok: true,
      status: 204,
    });
    expect(received).toBe(1);
  });
});
