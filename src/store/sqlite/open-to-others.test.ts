import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openToOthers } from './open-to-others.js';

describe('openToOthers', () => {
  it('names the existing paths with any group or other permission', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-perm-'));
    try {
      const open = join(dir, 'open.db');
      const closed = join(dir, 'closed.db');
      writeFileSync(open, '');
      writeFileSync(closed, '');
      chmodSync(open, 0o644);
      chmodSync(closed, 0o600);
      chmodSync(dir, 0o755);
      expect(openToOthers([dir, open, closed, join(dir, 'missing'), 'postgres://x/y'])).toEqual([dir, open]);
      chmodSync(dir, 0o700);
      expect(openToOthers([dir, closed])).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
