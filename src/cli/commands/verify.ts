import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { localPaths } from '../../app/local-paths.js';
import { parseDurationMs } from '../../core/duration.js';
import { TollgateError } from '../../core/errors.js';
import { formatAnchorReport } from '../../integrity/anchor-check.js';
import { readAnchorFile } from '../../integrity/anchors.js';
import { trustedKeys, verifyWithAnchors } from '../../integrity/anchored-verify.js';
import { buildInclusionProof } from '../../integrity/inclusion-proof.js';
import { parseVerifierKeys, readKeyring } from '../../integrity/signing-key.js';
import type { VerifyOptions } from '../../integrity/verify.js';
import { formatVerifyReport } from '../../integrity/verify-report-format.js';
import { readWitnessFile } from '../../integrity/witness.js';
import { readEvidenceFile } from './evidence.js';
import { checkEvidenceBundle } from '../../integrity/evidence-check.js';
import { formatEvidenceReport } from '../../integrity/evidence-report-format.js';
import {
  readVerifiedCheckpoints,
  recordVerifiedCheckpoints,
  verifiedCheckpointsPath,
  type VerifiedCheckpoint,
} from '../../integrity/verified-checkpoints.js';
import { configFor, globals, openExistingEventStore, println, type CliContext } from '../cli-context.js';
import { createProgress, type Progress } from '../format/progress.js';

interface VerifyCliOptions {
  from?: string;
  event?: string;
  chain?: string;
  keys?: string;
  witness?: string;
  anchors?: string;
  maxCheckpointAge?: string;
  strict?: boolean;
  evidence?: string;
  allowUnsigned?: boolean;
  sinceCheckpoint?: boolean;
}

/** `--strict` without a configured or given maximum checkpoint age uses this one. */
const STRICT_MAX_AGE_MS = 86_400_000;

export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description(
      'check hash chains, Merkle roots and signed checkpoints against the anchors outside the store; exit 1 on damage, saying what and where, for the first bad event and every later one',
    )
    .option('--from <file>', 'a trusted checkpoint note (file) to verify from')
    .option('--event <id>', 'print an inclusion proof for this event that a third party can check')
    .option('--chain <id>', 'only this chain')
    .option('--keys <file>', 'verifier keys to trust (default: the keys pinned in the anchor file)')
    .option(
      '--witness <file>',
      'a witness file or shipped log of checkpoints (JSON lines) the store must agree with',
    )
    .option('--anchors <file>', "the anchor file (default: this store's file in checkpoints.anchor_dir)")
    .option(
      '--max-checkpoint-age <duration>',
      "fail when a chain's newest checkpoint is older (e.g. 2h; default: checkpoints.max_age_ms)",
    )
    .option(
      '--since-checkpoint',
      'verify only the events after the newest checkpoint an earlier verify found intact (recorded beside the anchors); events before it are not re-checked',
    )
    .option(
      '--strict',
      'exit 1 on accounted gaps, on chains no anchor covers, and on a chain without a recent checkpoint (max age 1d unless set)',
    )
    .option(
      '--evidence <file>',
      'check an evidence bundle (tollgate evidence) offline, without the store: digests, signature, checkpoints, proofs, anchors',
    )
    .option(
      '--allow-unsigned',
      'with --evidence: accept a bundle exported with --unsigned (a warning, not a failure)',
    )
    .action(async (opts: VerifyCliOptions, cmd: Command) => {
      const g = globals(cmd);
      if (opts.evidence) return verifyEvidence(ctx, opts, g.json === true);
      const config = configFor(ctx, g);
      const paths = localPaths(config);
      let maxAgeMs = config.checkpoints.max_age_ms;
      if (opts.maxCheckpointAge !== undefined) {
        maxAgeMs = parseDurationMs(opts.maxCheckpointAge);
        if (maxAgeMs === null || maxAgeMs <= 0)
          throw new TollgateError('TG_ERR_USAGE', { option: 'max-checkpoint-age' });
      }
      if (opts.strict && maxAgeMs === null) maxAgeMs = STRICT_MAX_AGE_MS;
      if (opts.anchors && !existsSync(opts.anchors))
        throw new TollgateError('TG_ERR_USAGE', { option: 'anchors', reason: 'no such file' });
      const anchorFile = opts.anchors ?? paths.anchorFile;
      if (opts.sinceCheckpoint && (opts.from || opts.event))
        throw new TollgateError('TG_ERR_USAGE', {
          option: 'since-checkpoint',
          reason: 'not with --from or --event',
        });
      if (opts.sinceCheckpoint && anchorFile === null)
        throw new TollgateError('TG_ERR_USAGE', {
          option: 'since-checkpoint',
          reason:
            'the verified checkpoints are recorded beside the anchors: turn anchors on or pass --anchors',
        });
      // Where verify records the checkpoints it found intact (beside the anchor file, outside the store).
      const verifiedFile = anchorFile !== null ? verifiedCheckpointsPath(anchorFile) : null;
      const verified =
        verifiedFile !== null ? readVerifiedCheckpoints(verifiedFile) : new Map<string, VerifiedCheckpoint>();
      const keyring = readKeyring(config.checkpoints.signing_key_file ?? paths.signingKey);
      const given = opts.keys ? parseVerifierKeys(readFileSync(opts.keys, 'utf8')) : null;
      // Every replica's chain and checkpoints, in SQLite or in the shared PostgreSQL.
      const { store, checkpoints } = await openExistingEventStore(config.db);
      try {
        if (opts.event) {
          const anchors = anchorFile && existsSync(anchorFile) ? readAnchorFile(anchorFile) : null;
          const { keys } = await trustedKeys({ keys: given, keyring, checkpoints }, anchors);
          const proof = await buildInclusionProof(store, checkpoints, keys, opts.event);
          println(ctx.stdout, JSON.stringify(proof, null, 2));
          return;
        }
        const options: VerifyOptions = {};
        if (opts.from) options.from = readFileSync(opts.from, 'utf8');
        if (opts.chain) options.chainId = opts.chain;
        if (opts.sinceCheckpoint)
          options.since = new Map([...verified.values()].map((v) => [v.chain_id, v.note]));
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
        // Signed checkpoints need a key to check them against; a store that has none (an SDK's
        // store without checkpoints) is still verified link by link, and said to have none.
        if (
          given === null &&
          keyring.length === 0 &&
          (anchorFile === null || !existsSync(anchorFile)) &&
          (await checkpoints.chains()).length > 0
        )
          throw new TollgateError('TG_ERR_INTEGRITY_BROKEN', {
            reason: 'no verifier keys: pass --keys or run from the data folder',
          });
        const { report, anchors } = await verifyWithAnchors({
          store,
          checkpoints,
          anchorFile,
          keys: given,
          keyring,
          nowMs: ctx.now(),
          maxAgeMs,
          strict: opts.strict === true,
          options,
        });
        for (const line of progress.values()) line.end();
        if (verifiedFile !== null && existsSync(dirname(verifiedFile))) {
          try {
            recordVerifiedCheckpoints(verifiedFile, report, ctx.now(), verified);
          } catch {
            ctx.stderr.write(`warning: could not record the verified checkpoints in ${verifiedFile}\n`);
          }
        }
        if (g.json) println(ctx.stdout, JSON.stringify({ ...report, anchors }));
        else {
          const text = formatVerifyReport(report).split('\n');
          const summary = text.pop()!;
          println(ctx.stdout, [...text, ...formatAnchorReport(anchors), summary].join('\n'));
        }
        if (!report.ok) process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
}

/** `verify --evidence FILE`: the bundle alone (and `--keys`); no config, store or data folder is read. */
function verifyEvidence(ctx: CliContext, opts: VerifyCliOptions, json: boolean): void {
  const file = opts.evidence!;
  const keys = opts.keys ? parseVerifierKeys(readFileSync(opts.keys, 'utf8')) : null;
  const { raw, error } = readEvidenceFile(file);
  const report = checkEvidenceBundle(error === null ? raw : { format: null, error }, file, {
    keys,
    allowUnsigned: opts.allowUnsigned === true,
  });
  if (error !== null) {
    report.problems[0] = { where: file, what: error };
    report.checks[0] = { name: 'format', ok: false, detail: error };
  }
  println(ctx.stdout, json ? JSON.stringify(report) : formatEvidenceReport(report));
  if (!report.ok) process.exitCode = 1;
}
