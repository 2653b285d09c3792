/**
 * The signing key outside the data folder (file, variable, command), doctor's warning when it sits
 * in the store's folder, and rotation announced by the old key that verify follows.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { CheckpointWriter } from '../../src/integrity/checkpoint-writer.js';
import { createChainer } from '../../src/integrity/hash-chain.js';
import { generateSigningKey, parseSigningKey } from '../../src/integrity/signing-key.js';
import { loadConfiguredSigningKey } from '../../src/integrity/signing-key-source.js';
import { openEventStore } from '../../src/store/open-event-store.js';
import { cli } from '../support/run-cli.js';
import { anchoredSite, gatewayWitness, type AnchoredSite } from './anchored-site.js';
import { sampleEvent } from './sample-events.js';

const roots: string[] = [];
afterEach(() => {
  while (roots.length) rmSync(roots.pop()!, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tg-signing-key-'));
  roots.push(d);
  return d;
}

const none = { signing_key_file: null, signing_key: null, signing_key_command: null };

describe('signing key sources', () => {
  it('a key file elsewhere (created 0600), the variable, or a command that prints it', () => {
    const dir = tmp();
    const defaults = { path: join(dir, 'default.key'), name: 'tollgate-gw-1' };
    const file = join(dir, 'elsewhere.key');
    const fromFile = loadConfiguredSigningKey({ ...none, signing_key_file: file }, defaults);
    expect(fromFile.source).toBe('file');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(() => statSync(defaults.path)).toThrow();

    const text = generateSigningKey('tollgate-gw-1').privateKeyText();
    const fromEnv = loadConfiguredSigningKey({ ...none, signing_key: text }, defaults);
    expect(fromEnv.source).toBe('env');
    expect(fromEnv.key.verifierKey).toBe(parseSigningKey(text).verifierKey);

    const script = join(dir, 'print-key.sh');
    writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' '${text}'\n`, { mode: 0o700 });
    const fromCommand = loadConfiguredSigningKey({ ...none, signing_key_command: script }, defaults);
    expect(fromCommand.source).toBe('command');
    expect(fromCommand.key.verifierKey).toBe(fromEnv.key.verifierKey);

    // A failing command: a clear error that carries neither the command's output nor the key.
    const failing = () =>
      loadConfiguredSigningKey({ ...none, signing_key_command: `echo ${text}; exit 3` }, defaults);
    expect(failing).toThrow(/TG_ERR_INTEGRITY_KEY_INVALID/);
    try {
      failing();
    } catch (err) {
      expect(String((err as Error).message) + JSON.stringify(err)).not.toContain(text.split('+')[4]!);
      expect((err as Error).cause).toBeUndefined();
    }
    // A key file others can read is refused.
    chmodSync(file, 0o644);
    expect(() => loadConfiguredSigningKey({ ...none, signing_key_file: file }, defaults)).toThrow(
      /TG_ERR_INTEGRITY_KEY_INVALID/,
    );
  });
});

describe('doctor', () => {
  it('warns when the signing key sits in the store’s folder and is writable; not when it is elsewhere', async () => {
    const s = await anchoredSite();
    roots.push(s.root);
    // Port 9 on 127.0.0.1: refused at once, the network checks fail fast.
    const args = [
      'doctor',
      '--db',
      s.db,
      '--upstream',
      'http://127.0.0.1:9/v1',
      '--timeout',
      '2000',
      '--json',
    ];
    const inStore = JSON.parse((await cli(args)).out) as {
      findings: { id: string; level: string; detail: string }[];
    };
    const key = inStore.findings.find((f) => f.id === 'integrity.key-location')!;
    expect(key.level).toBe('warn');
    expect(key.detail).toContain(s.keyPath);
    expect(inStore.findings.find((f) => f.id === 'integrity.anchors')!.level).toBe('ok');
    // Who can read the audit data: a store file opened to others is reported.
    chmodSync(dirname(s.db), 0o700);
    for (const f of [s.db, `${s.db}-wal`, `${s.db}-shm`, s.keyPath]) if (existsSync(f)) chmodSync(f, 0o600);
    const closed = JSON.parse((await cli(args)).out) as typeof inStore;
    expect(closed.findings.find((f) => f.id === 'integrity.data-modes')!.level).toBe('ok');
    chmodSync(s.db, 0o644);
    const opened = JSON.parse((await cli(args)).out) as typeof inStore;
    const modes = opened.findings.find((f) => f.id === 'integrity.data-modes')!;
    expect(modes.level).toBe('warn');
    expect(modes.detail).toContain(s.db);
    chmodSync(s.db, 0o600);

    const elsewhere = join(tmp(), 'checkpoint.key');
    const moved = JSON.parse(
      (await cli(args, { TOLLGATE_SIGNING_KEY_FILE: elsewhere })).out,
    ) as typeof inStore;
    expect(moved.findings.find((f) => f.id === 'integrity.key-location')!.level).toBe('ok');
  });
});

/** The gateway after a restart with `key`: 10 more events of gw-1, checkpointed and anchored. */
async function continueChain(s: AnchoredSite, key: ReturnType<typeof generateSigningKey>): Promise<void> {
  const { store, checkpoints } = await openEventStore(s.db);
  const clock = new ManualClock(Date.UTC(2026, 0, 2));
  const writer = await CheckpointWriter.resume(
    {
      chainId: 'gw-1',
      key,
      store: checkpoints,
      clock,
      everyEvents: 10,
      witnesses: [gatewayWitness(s.anchorFile, key, clock.now())],
    },
    store,
  );
  let head: AuditEvent | null = null;
  for await (const e of store.iterateChain('gw-1')) head = e;
  const chainer = createChainer({ chainId: 'gw-1', head: { seq: head!.seq!, hash: head!.hash! } });
  const events = Array.from({ length: 10 }, (_, i) => sampleEvent(100 + i));
  events.forEach((e) => chainer.link(e));
  await store.append(events);
  writer.recordWritten(events);
  await writer.close();
  await store.close();
}

describe('rotation announced by the old key', () => {
  it('signing-key rotate: verify follows it from the anchors, and from --keys holding only the old key', async () => {
    const s = await anchoredSite();
    roots.push(s.root);
    const old = s.key;
    const r = await cli(['signing-key', 'rotate', '--db', s.db]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('announced on chain gw-1 at tree size 60');
    const next = parseSigningKey(readFileSync(s.keyPath, 'utf8'));
    expect(next.verifierKey).not.toBe(old.verifierKey);
    expect(statSync(s.keyPath).mode & 0o777).toBe(0o600);

    await continueChain(s, next);
    const v = await cli(['verify', '--db', s.db]);
    expect(v.out).toContain('chain gw-1: intact — 70 events');
    expect(v.code).toBe(0);
    // An auditor who only ever received the first verifier key follows the announcement.
    const oldOnly = join(tmp(), 'old.pub');
    writeFileSync(oldOnly, old.verifierKey + '\n');
    const f = await cli(['verify', '--db', s.db, '--keys', oldOnly]);
    expect(f.code).toBe(0);
    const show = await cli(['signing-key', 'show', '--db', s.db]);
    expect(show.out).toContain(`verifier key: ${next.verifierKey}`);
    expect(show.out).toMatch(/— pinned$/m);
  });

  it('a key swapped in without the announcement is not followed', async () => {
    const s = await anchoredSite();
    roots.push(s.root);
    const swapped = generateSigningKey('tollgate-gw-1');
    writeFileSync(s.keyPath, swapped.privateKeyText() + '\n', { mode: 0o600 });
    await continueChain(s, swapped);
    const v = await cli(['verify', '--db', s.db]);
    expect(v.code).toBe(1);
    expect(v.out).toContain('CHECKPOINT FORGED at checkpoint at tree size 70');
    expect(v.out).toContain('the signing key was replaced');
  });

  it('with the key from a variable, rotate needs --out and writes the new key there', async () => {
    const s = await anchoredSite();
    roots.push(s.root);
    const env = { TOLLGATE_SIGNING_KEY: readFileSync(s.keyPath, 'utf8').trim() };
    expect((await cli(['signing-key', 'rotate', '--db', s.db], env)).code).toBe(2);
    const out = join(tmp(), 'next.key');
    const r = await cli(['signing-key', 'rotate', '--db', s.db, '--out', out], env);
    expect(r.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    await continueChain(s, parseSigningKey(readFileSync(out, 'utf8')));
    expect((await cli(['verify', '--db', s.db])).code).toBe(0);
  });
});
