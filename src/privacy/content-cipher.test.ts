import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { blankEvent } from '../core/audit-event.js';
import { ManualClock } from '../core/clock.js';
import { isTollgateError } from '../core/errors.js';
import { eventHash } from '../integrity/canonical-json.js';
import { createRedactor } from '../redaction/redactor.js';
import { createContentCipher, isEncryptedContent } from './content-cipher.js';
import { InMemoryDataKeyStore } from './data-key-store.js';
import { eraseSubject } from './erase-subject.js';
import { loadMasterKey } from './master-key.js';
import { SqliteDataKeyStore } from '../store/sqlite/sqlite-data-key-store.js';

const clock = new ManualClock();

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return isTollgateError(err) ? err.code : 'other';
  }
  return undefined;
}

describe('content cipher', () => {
  it('round-trips per person, with a fresh IV each time and no user id in the stored form', async () => {
    const c = createContentCipher({ masterKey: randomBytes(32), store: new InMemoryDataKeyStore(), clock });
    const a1 = c.encryptFor('alice@example.com', 'hello');
    const a2 = c.encryptFor('alice@example.com', 'hello');
    const b = c.encryptFor('bob', 'hello');
    expect(a1).not.toBe(a2);
    expect(a1.split(':')[2]).toBe(a2.split(':')[2]); // same data key
    expect(a1.split(':')[2]).not.toBe(b.split(':')[2]);
    expect(a1).not.toContain('alice');
    expect(isEncryptedContent(a1)).toBe(true);
    expect(await c.decryptContent(a1)).toBe('hello');
    expect(await c.decryptContent(c.encryptFor(null, 'anon'))).toBe('anon');
  });

  it('detects tampering and a wrong master key', async () => {
    const store = new InMemoryDataKeyStore();
    const c = createContentCipher({ masterKey: randomBytes(32), store, clock });
    const stored = c.encryptFor('u', 'amount: 100');
    const parts = stored.split(':');
    const body = Buffer.from(parts[4]!, 'base64');
    body[0]! ^= 1;
    parts[4] = body.toString('base64');
    await expect(c.decryptContent(parts.join(':'))).rejects.toMatchObject({ code: 'TG_ERR_CRYPTO_DECRYPT' });
    const other = createContentCipher({ masterKey: randomBytes(32), store, clock });
    await expect(other.decryptContent(stored)).rejects.toMatchObject({ code: 'TG_ERR_CRYPTO_DECRYPT' });
  });

  it('loads a master key from a base64 string or a file, and refuses a wrong size', () => {
    const key = randomBytes(32);
    expect(loadMasterKey({ base64: key.toString('base64') }).equals(key)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'tg-mk-'));
    writeFileSync(join(dir, 'raw'), key);
    writeFileSync(join(dir, 'b64'), key.toString('base64') + '\n');
    expect(loadMasterKey({ file: join(dir, 'raw') }).equals(key)).toBe(true);
    expect(loadMasterKey({ file: join(dir, 'b64') }).equals(key)).toBe(true);
    expect(codeOf(() => loadMasterKey({ base64: 'c2hvcnQ=' }))).toBe('TG_ERR_CRYPTO_KEY_MISSING');
    expect(codeOf(() => loadMasterKey({ file: join(dir, 'missing') }))).toBe('TG_ERR_CRYPTO_KEY_MISSING');
  });
});

describe('erasure (crypto-shredding)', () => {
  it("makes one person's content unreadable, leaves others readable and stored events byte-identical", async () => {
    const db = new Database(':memory:');
    const store = new SqliteDataKeyStore(db);
    const cipher = createContentCipher({ masterKey: randomBytes(32), store, clock });
    const redactor = createRedactor({ mode: 'encrypted' }, { encryptor: cipher });
    const events = ['alice', 'bob', 'alice'].map((user, i) => {
      const e = {
        ...blankEvent({ id: `e${i}`, timestamp: '2026-01-01T00:00:00.000Z', source: 'sdk' }),
        user_id: user,
      };
      redactor.apply(e, { prompt: `question from ${user}`, response: `answer for ${user}` });
      return e;
    });
    const before = events.map((e) => eventHash(e));

    const result = await eraseSubject(store, 'alice', clock);
    expect(result).toMatchObject({ userId: 'alice', subject: 'user:alice', keysDestroyed: 1 });
    expect(events[0]!.prompt).toContain(`:${result.keyId}:`);

    expect(events.map((e) => eventHash(e))).toEqual(before); // the chain hashes the stored form, unchanged
    expect(await cipher.decryptContent(events[0]!.prompt!)).toBeNull();
    expect(await cipher.decryptContent(events[2]!.response!)).toBeNull();
    expect(await cipher.decryptContent(events[1]!.prompt!)).toBe('question from bob');
    expect((await eraseSubject(store, 'alice', clock)).keysDestroyed).toBe(0);
    await expect(eraseSubject(store, '', clock)).rejects.toMatchObject({ code: 'TG_ERR_USAGE' });

    // A returning person gets a new key; old content stays unreadable.
    const later = cipher.encryptFor('alice', 'new question');
    expect(await cipher.decryptContent(later)).toBe('new question');
    expect(await cipher.decryptContent(events[0]!.prompt!)).toBeNull();
  });
});
