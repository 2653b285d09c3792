import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { storeIdentity } from '../../app/chain-state-files.js';
import { localPaths } from '../../app/local-paths.js';
import { configWithoutSecrets } from '../../config/config-without-secrets.js';
import type { TollgateConfig } from '../../config/config.js';
import { TollgateError } from '../../core/errors.js';
import { verifyWithAnchors } from '../../integrity/anchored-verify.js';
import { readAnchorFile } from '../../integrity/anchors.js';
import { digestOf, type EvidenceBundle } from '../../integrity/evidence-bundle.js';
import { buildEvidenceBundle } from '../../integrity/evidence-build.js';
import { holdsFrom } from '../../retention/hold-record.js';
import { readKeyring, type SigningKey } from '../../integrity/signing-key.js';
import { loadConfiguredSigningKey } from '../../integrity/signing-key-source.js';
import { configFor, globals, openExistingEventStore, println, type CliContext } from '../cli-context.js';
import { parseTimeBound } from '../duration.js';

interface EvidenceCliOptions {
  since: string;
  out?: string;
  unsigned?: boolean;
}

export function registerEvidence(program: Command, ctx: CliContext): void {
  program
    .command('evidence')
    .description(
      'write one signed evidence bundle for an auditor: chain heads, signed checkpoints with consistency proofs, anchors, keys and rotations, the verify result, prune and hold records, the admin and dashboard events of the window with inclusion proofs, and the configuration without secrets; check it offline with `tollgate verify --evidence FILE`',
    )
    .requiredOption('--out <file>', 'the bundle file to write (JSON, mode 0600; refuses to overwrite)')
    .option('--since <when>', 'start of the window: a duration back from now (90d) or an ISO date', '90d')
    .option('--unsigned', 'write the bundle without a signature when the signing key is not at hand')
    .action(async (opts: EvidenceCliOptions, cmd: Command) => {
      const g = globals(cmd);
      const config = configFor(ctx, g);
      const paths = localPaths(config);
      const nowMs = ctx.now();
      const sinceMs = parseTimeBound(opts.since, nowMs);
      const out = opts.out!;
      if (existsSync(out))
        throw new TollgateError('TG_ERR_USAGE', { option: 'out', reason: 'the file exists' });
      const signer = opts.unsigned ? null : loadSigner(config, paths);
      const keyring = readKeyring(config.checkpoints.signing_key_file ?? paths.signingKey);
      const anchorFile = paths.anchorFile;
      const anchors = anchorFile && existsSync(anchorFile) ? readAnchorFile(anchorFile) : null;
      const { store, checkpoints } = await openExistingEventStore(config.db);
      let bundle: EvidenceBundle;
      let trusted: string[];
      try {
        const {
          report,
          anchors: anchorReport,
          keys,
        } = await verifyWithAnchors({
          store,
          checkpoints,
          anchorFile,
          keys: null,
          keyring,
          nowMs,
          maxAgeMs: config.checkpoints.max_age_ms,
          strict: false,
        });
        trusted = keys.map((k) => k.verifierKey);
        bundle = await buildEvidenceBundle({
          store,
          checkpoints,
          anchors,
          keyring,
          verify: { ...report, anchors: anchorReport },
          config: configWithoutSecrets(config),
          storeId: storeIdentity(config.db),
          sinceMs,
          nowMs,
          signer,
          activeHolds: (records) =>
            holdsFrom(records)
              .filter((h) => h.released_at === null)
              .map((h) => ({ ...h })),
        });
      } finally {
        await store.close();
      }
      const text = JSON.stringify(bundle, null, 1) + '\n';
      writeFileSync(out, text, { mode: 0o600, flag: 'wx' });
      const s = bundle.sections;
      const summary = {
        file: out,
        bytes: Buffer.byteLength(text),
        sha256: createHash('sha256').update(text).digest('hex'),
        manifest_digest: digestOf(bundle.manifest),
        window: bundle.manifest.window,
        chains: s.chains.length,
        checkpoints: s.chains.reduce((n, c) => n + c.checkpoints.length, 0),
        anchored_checkpoints: s.anchors.checkpoints.length,
        access_events: s.access_log.length,
        prune_records: s.prunes.length,
        hold_records: s.holds.records.length,
        verify_ok: s.verify.ok,
        signer: signer?.verifierKey ?? null,
      };
      const warnings: string[] = [];
      if (!s.verify.ok) warnings.push('the store FAILED verify: the bundle records it (exit 1)');
      if (signer === null)
        warnings.push('the bundle is not signed (--unsigned): send its sha256 to the auditor by another way');
      else if (!trusted.includes(signer.verifierKey))
        warnings.push(
          'the signing key is not one the anchors trust (pinned or announced): the auditor will not trust the bundle signature',
        );
      if (g.json) println(ctx.stdout, JSON.stringify({ ...summary, warnings }));
      else {
        println(ctx.stdout, `evidence: wrote ${out} (${summary.bytes} bytes, sha256 ${summary.sha256})`);
        println(ctx.stdout, `  window: ${summary.window.since} → ${summary.window.until}`);
        println(
          ctx.stdout,
          `  ${summary.chains} chain(s), ${summary.checkpoints} signed checkpoint(s), ${summary.anchored_checkpoints} anchored; ${summary.access_events} access event(s), ${summary.prune_records} prune record(s), ${summary.hold_records} hold record(s)`,
        );
        println(ctx.stdout, `  verify at export: ${s.verify.ok ? 'OK' : 'FAILED'}`);
        println(
          ctx.stdout,
          `  signed by: ${summary.signer ?? 'nobody (--unsigned)'}; manifest digest ${summary.manifest_digest}`,
        );
        for (const w of warnings) println(ctx.stdout, `  warning: ${w}`);
        println(ctx.stdout, `check it anywhere with: tollgate verify --evidence ${out} [--keys FILE]`);
      }
      if (!s.verify.ok) process.exitCode = 1;
    });
}

/**
 * The configured signing key, without creating one: a bundle is signed by the key that signs the
 * checkpoints, or by nothing (`--unsigned`).
 */
function loadSigner(config: TollgateConfig, paths: ReturnType<typeof localPaths>): SigningKey {
  const c = config.checkpoints;
  const keyFile = c.signing_key_file ?? paths.signingKey;
  if (!c.signing_key && !c.signing_key_command && !existsSync(keyFile))
    throw new TollgateError('TG_ERR_USAGE', {
      option: 'unsigned',
      reason: `no signing key at ${keyFile} (nor TOLLGATE_SIGNING_KEY or checkpoints.signing_key_command): give the key, or --unsigned`,
    });
  // The name is used only when a key is created, which the check above rules out.
  return loadConfiguredSigningKey(c, { path: keyFile, name: 'tollgate' }).key;
}

/** Reads a bundle file for `verify --evidence`: JSON, or null with what is wrong. */
export function readEvidenceFile(path: string): { raw: unknown; error: string | null } {
  if (!existsSync(path))
    throw new TollgateError('TG_ERR_USAGE', { option: 'evidence', reason: 'no such file' });
  try {
    return { raw: JSON.parse(readFileSync(path, 'utf8')) as unknown, error: null };
  } catch (err) {
    return { raw: null, error: `not JSON (${err instanceof SyntaxError ? err.message : 'unreadable'})` };
  }
}
