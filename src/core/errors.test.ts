import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, TollgateError } from './errors.js';

describe('error catalog', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Map<string, string>();
  for (const line of doc.split('\n')) {
    const m = /^\| `(TG_ERR_[A-Z0-9_]+)` \| (\d+) \|/.exec(line);
    if (m) documented.set(m[1]!, m[2]!);
  }

  it('documents every code in docs/errors.md with its HTTP status', () => {
    for (const [code, { http }] of Object.entries(ERROR_CATALOG)) {
      expect(documented.get(code), code).toBe(String(http));
    }
  });

  it('documents no code that does not exist', () => {
    for (const code of documented.keys()) expect(Object.keys(ERROR_CATALOG)).toContain(code);
  });

  it('puts the code, never the detail, in the message', () => {
    const err = new TollgateError('TG_ERR_UPSTREAM_TIMEOUT', { event_id: 'abc' });
    expect(err.message).toBe('TG_ERR_UPSTREAM_TIMEOUT: the upstream did not answer in time');
    expect(err.httpStatus).toBe(504);
  });
});
