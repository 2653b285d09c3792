import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureAdminToken, verifyAdminToken } from './admin-token.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tg-admin-'));
  dirs.push(d);
  return d;
}

describe('ensureAdminToken', () => {
  it('creates the token once, mode 0600, and reads it back afterwards', () => {
    const path = join(tempDir(), 'data', 'admin-token');
    const first = ensureAdminToken({ path });
    expect(first.created).toBe(true);
    expect(first.source).toBe('file');
    expect(first.token).toMatch(/^tga-[0-9A-Za-z]{43}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe(first.token + '\n');

    const second = ensureAdminToken({ path });
    expect(second).toEqual({ token: first.token, created: false, source: 'file', fileTooOpen: false });
  });

  it('flags an existing token file others can read', () => {
    const path = join(tempDir(), 'admin-token');
    writeFileSync(path, 'tga-existing\n');
    chmodSync(path, 0o644);
    expect(ensureAdminToken({ path })).toMatchObject({ token: 'tga-existing', fileTooOpen: true });
  });

  it('prefers a configured token and writes no file', () => {
    const path = join(tempDir(), 'admin-token');
    expect(ensureAdminToken({ path, configured: ' cfg-token ' })).toEqual({
      token: 'cfg-token',
      created: false,
      source: 'configured',
      fileTooOpen: false,
    });
    expect(() => statSync(path)).toThrow();
  });

  it('refuses an empty token file', () => {
    const path = join(tempDir(), 'admin-token');
    writeFileSync(path, '\n');
    expect(() => ensureAdminToken({ path })).toThrow(
      expect.objectContaining({ code: 'TG_ERR_CONFIG_INVALID' }),
    );
  });
});

describe('verifyAdminToken', () => {
  it('accepts the exact token only', () => {
    expect(verifyAdminToken('tga-abc', 'tga-abc')).toBe(true);
    expect(verifyAdminToken('tga-abc', 'tga-abd')).toBe(false);
    expect(verifyAdminToken('tga-abc', 'tga-ab')).toBe(false); // different length: no throw
    expect(verifyAdminToken('tga-abc', 'tga-abcd')).toBe(false);
    expect(verifyAdminToken('tga-abc', '')).toBe(false);
    expect(verifyAdminToken('tga-abc', null)).toBe(false);
    expect(verifyAdminToken('', '')).toBe(false);
  });
});
