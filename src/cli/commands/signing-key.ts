import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadOrCreateInstanceId } from '../../app/instance-id.js';
import { localPaths } from '../../app/local-paths.js';
import { systemClock } from '../../core/clock.js';
import { TollgateError } from '../../core/errors.js';
import { readAnchorFile } from '../../integrity/anchors.js';
import { announceRotation } from '../../integrity/announce-rotation.js';
import { generateSigningKey, installSigningKey } from '../../integrity/signing-key.js';
import { loadConfiguredSigningKey } from '../../integrity/signing-key-source.js';
import { configFor, globals, openExistingEventStore, println, type CliContext } from '../cli-context.js';

interface RotateOptions {
  out?: string;
}

export function registerSigningKey(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('signing-key')
    .description('the checkpoint signing key: where it comes from, and rotation that verify can follow');

  cmd
    .command('show')
    .description(
      'print the verifier key (public), where the private key comes from, and whether the anchors pinned it',
    )
    .action((_opts: unknown, sub: Command) => {
      const g = globals(sub);
      const config = configFor(ctx, g);
      const paths = localPaths(config);
      const loaded = load(config, paths);
      const anchors =
        paths.anchorFile && existsSync(paths.anchorFile) ? readAnchorFile(paths.anchorFile) : null;
      const pinned = anchors?.keys.some((k) => k.verifier_key === loaded.key.verifierKey) ?? false;
      const out = {
        verifier_key: loaded.key.verifierKey,
        source: loaded.source,
        key_file: loaded.source === 'file' || loaded.source === 'data-folder' ? loaded.keyPath : null,
        anchor_file: anchors?.path ?? null,
        pinned,
      };
      if (g.json) println(ctx.stdout, JSON.stringify(out));
      else {
        println(ctx.stdout, `verifier key: ${out.verifier_key}`);
        println(ctx.stdout, `private key from: ${out.source}${out.key_file ? ` (${out.key_file})` : ''}`);
        println(
          ctx.stdout,
          out.anchor_file === null
            ? 'anchors: none yet'
            : `anchors: ${out.anchor_file} — ${pinned ? 'pinned' : 'NOT pinned: verify will not trust this key'}`,
        );
      }
    });

  cmd
    .command('rotate')
    .description(
      'make a new signing key, announced in a checkpoint the current key signs (store and anchors); with the key from a variable or command, --out FILE receives the new key',
    )
    .option('--out <file>', 'write the new key here (0600) instead of replacing the key file')
    .action(async (opts: RotateOptions, sub: Command) => {
      const g = globals(sub);
      const config = configFor(ctx, g);
      const paths = localPaths(config);
      const current = load(config, paths);
      if ((current.source === 'env' || current.source === 'command') && !opts.out)
        throw new TollgateError('TG_ERR_USAGE', {
          option: 'out',
          reason: 'the key comes from a variable or command: give --out FILE and load the new key there',
        });
      const next = generateSigningKey(current.key.name);
      const { store, checkpoints } = await openExistingEventStore(config.db);
      let chains: { chain_id: string; tree_size: number }[];
      try {
        chains = await announceRotation({
          current: current.key,
          next,
          checkpoints,
          anchorFile: paths.anchorFile,
          clock: systemClock,
        });
      } finally {
        await store.close();
      }
      if (opts.out) writeFileSync(opts.out, next.privateKeyText() + '\n', { mode: 0o600, flag: 'wx' });
      else installSigningKey(current.keyPath, next);
      const result = {
        verifier_key: next.verifierKey,
        announced_on: chains,
        written_to: opts.out ?? current.keyPath,
      };
      if (g.json) println(ctx.stdout, JSON.stringify(result));
      else {
        println(ctx.stdout, `new verifier key: ${next.verifierKey}`);
        for (const c of chains)
          println(ctx.stdout, `  announced on chain ${c.chain_id} at tree size ${c.tree_size}`);
        println(ctx.stdout, `new key written to ${result.written_to}; restart the gateway to sign with it`);
      }
    });
}

function load(config: ReturnType<typeof configFor>, paths: ReturnType<typeof localPaths>) {
  const instanceId = config.instance_id ?? loadOrCreateInstanceId(paths.instanceId);
  return loadConfiguredSigningKey(config.checkpoints, {
    path: paths.signingKey,
    name: `tollgate-${instanceId}`,
  });
}
