import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { localPaths } from '../../app/local-paths.js';
import { TollgateError } from '../../core/errors.js';
import { buildInclusionProof } from '../../integrity/inclusion-proof.js';
import { parseVerifierKeys, readKeyring } from '../../integrity/signing-key.js';
import { verifyChains, type VerifyOptions } from '../../integrity/verify.js';
import { formatVerifyReport } from '../../integrity/verify-report-format.js';
import { readWitnessFile } from '../../integrity/witness.js';
import { configFor, globals, openExistingEventStore, println, type CliContext } from '../cli-context.js';
import { createProgress, type Progress } from '../format/progress.js';

interface VerifyCliOptions {
  from?: string;
  event?: string;
  chain?: string;
  keys?: string;
  witness?: string;
  strict?: boolean;
}

export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description(
      'check hash chains, Merkle roots and signed checkpoints; exit 1 on damage, naming the first bad event and every later one',
    )
    .option('--from <file>', 'a trusted checkpoint note (file) to verify from')
    .option('--event <id>', 'print an inclusion proof for this event that a third party can check')
    .option('--chain <id>', 'only this chain')
    .option('--keys <file>', 'verifier keys to trust (default: the keyring in the data folder)')
    .option('--witness <file>', 'a witness file of checkpoints (JSON lines) the store must agree with')
    .option(
      '--strict',
      'exit 1 on accounted gaps too (events the writer could not store, named by chained gap records); without it they are warnings',
    )
    .action(async (opts: VerifyCliOptions, cmd: Command) => {
      const g = globals(cmd);
      const config = configFor(ctx, g);
      const keys = opts.keys
        ? parseVerifierKeys(readFileSync(opts.keys, 'utf8'))
        : readKeyring(localPaths(config).signingKey);
      // Every replica's chain and checkpoints, in SQLite or in the shared PostgreSQL.
      const { store, checkpoints } = await openExistingEventStore(config.db);
      try {
        if (opts.event) {
          const proof = await buildInclusionProof(store, checkpoints, keys, opts.event);
          println(ctx.stdout, JSON.stringify(proof, null, 2));
          return;
        }
        const options: VerifyOptions = {};
        if (opts.from) options.from = readFileSync(opts.from, 'utf8');
        if (opts.chain) options.chainId = opts.chain;
        if (opts.strict) options.strict = true;
        if (opts.witness) options.witnessNotes = await readWitnessFile(opts.witness);
        // On a terminal (stderr), never with --json: a progress line per chain.
        const progress = new Map<string, Progress>();
        if (!g.json) {
          options.onProgress = (p) => {
            let line = progress.get(p.chain_id);
            if (!line) {
              for (const other of progress.values()) other.end();
              line = createProgress(ctx.stderr, { label: `verifying chain ${p.chain_id}`, now: ctx.now });
              progress.set(p.chain_id, line);
            }
            line.update(p.events, p.total);
          };
          options.progressEvery = 10_000;
        }
        if (keys.length === 0)
          throw new TollgateError('TG_ERR_INTEGRITY_BROKEN', {
            reason: 'no verifier keys: pass --keys or run from the data folder',
          });
        const report = await verifyChains(store, checkpoints, keys, options);
        for (const line of progress.values()) line.end();
        println(ctx.stdout, g.json ? JSON.stringify(report) : formatVerifyReport(report));
        if (!report.ok) process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}
