import { describe, expect, it } from 'vitest';
import { diagnoseNetworkError, errorCodes } from '../../src/doctor/network-error-diagnosis.js';

// The loopback tests in run-doctor.test.ts produce most codes for real; these cover the ones a
// test on 127.0.0.1 cannot produce (a dropped SYN, an unreachable network).
const fetchFailed = (cause: unknown) => Object.assign(new TypeError('fetch failed'), { cause });

describe('diagnoseNetworkError', () => {
  it('finds codes down the cause chain and inside AggregateError', () => {
    const agg = Object.assign(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]), {
      code: 'ECONNREFUSED',
    });
    expect(errorCodes(fetchFailed(agg))).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
  });

  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', 'net.timeout', 'Connect timeout'],
    ['ETIMEDOUT', 'net.timeout', 'Connect timeout'],
    ['UND_ERR_HEADERS_TIMEOUT', 'net.timeout', 'No response in time'],
    ['EHOSTUNREACH', 'net.connect', 'No route to the host'],
    ['ECONNRESET', 'net.connect', 'Connection closed by the other side'],
    ['CERT_NOT_YET_VALID', 'net.tls', 'TLS: certificate not yet valid'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'net.tls', 'TLS: certificate chain cannot be verified'],
    ['EAI_AGAIN', 'net.dns', 'DNS: could not resolve h.example right now'],
    ['SOMETHING_ELSE', 'net.connect', 'Request failed'],
  ])('%s → %s "%s"', (code, id, title) => {
    expect(diagnoseNetworkError(fetchFailed({ code }), 'h.example', 1000)).toMatchObject({
      id,
      title,
      level: 'fail',
    });
  });

  it('an abort from the overall deadline is a timeout', () => {
    expect(diagnoseNetworkError(new DOMException('x', 'TimeoutError'), 'h', 5)).toMatchObject({
      id: 'net.timeout',
    });
  });
});
