import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, upstreamRequestHeaders } from './hop-by-hop-headers.js';

describe('upstreamRequestHeaders', () => {
  it('drops hop-by-hop, Connection-listed, x-tollgate-* and forwarding headers', () => {
    const out = upstreamRequestHeaders([
      'Host',
      'evil.example',
      'Connection',
      'keep-alive, X-Secret-Hop',
      'X-Secret-Hop',
      '1',
      'Keep-Alive',
      'timeout=5',
      'Transfer-Encoding',
      'chunked',
      'Content-Length',
      '10',
      'X-Tollgate-User',
      'alice',
      'X-Forwarded-For',
      '10.0.0.1',
      'X-Forwarded-Host',
      'evil.example',
      'X-Original-URL',
      '/v1/admin',
      'X-Rewrite-URL',
      '/v1/admin',
      'Authorization',
      'Bearer sk-test',
      'Content-Type',
      'application/json',
    ]);
    expect(out).toEqual({
      authorization: 'Bearer sk-test',
      'content-type': 'application/json',
      'accept-encoding': 'identity',
    });
  });
});

describe('clientResponseHeaders', () => {
  it('keeps end-to-end headers and drops framing when the body changes', () => {
    const out = clientResponseHeaders(
      {
        'content-type': 'text/event-stream',
        'content-length': '5',
        connection: 'close',
        'x-ratelimit-remaining-requests': '9',
      },
      true,
    );
    expect(out).toEqual({ 'content-type': 'text/event-stream', 'x-ratelimit-remaining-requests': '9' });
  });
});
