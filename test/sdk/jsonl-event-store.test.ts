import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonlEventStore } from '../../src/sdk/jsonl-event-store.js';
import { eventStoreContract } from '../contract/event-store.contract.js';
import { sampleEvent } from '../integrity/sample-events.js';

eventStoreContract('JSONL file (SDK)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-jsonl-'));
  return {
    store: new JsonlEventStore(join(dir, 'events.jsonl')),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('JSONL event store', () => {
  it('writes one line per event, owner-only, and no field can forge a line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-jsonl-'));
    try {
      const path = join(dir, 'events.jsonl');
      const s = new JsonlEventStore(path);
      const e = sampleEvent(1);
      e.user_agent = 'ua\n{"id":"forged"}\r\u2028\u2029\u0000';
      e.response = 'line one\nline two';
      await s.append([e, sampleEvent(2)]);
      const lines = readFileSync(path, 'utf8').split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[2]).toBe('');
      expect(lines[0]).not.toMatch(/[\u2028\u2029\r\u0000]/);
      expect(JSON.parse(lines[0]!)).toEqual(e);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      // A reopened store keeps idempotence from what the file already holds.
      await s.close();
      const again = new JsonlEventStore(path);
      await again.append([e]);
      expect(await again.count()).toBe(2);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
