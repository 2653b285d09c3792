/**
 * The demo's evidence bundle: `tollgate evidence` of the demo store, made in memory, checked as
 * `tollgate verify --evidence` checks it, then checked again with one event edited, to show what
 * an auditor sees in either case.
 */
import { existsSync } from 'node:fs';
import { storeIdentity } from '../../app/chain-state-files.js';
import { localPaths } from '../../app/local-paths.js';
import type { RunningTollgate } from '../../app/start-tollgate.js';
import { configWithoutSecrets } from '../../config/config-without-secrets.js';
import type { TollgateConfig } from '../../config/config.js';
import { verifyWithAnchors } from '../../integrity/anchored-verify.js';
import { readAnchorFile } from '../../integrity/anchors.js';
import type { EvidenceBundle } from '../../integrity/evidence-bundle.js';
import { buildEvidenceBundle } from '../../integrity/evidence-build.js';
import { checkEvidenceBundle } from '../../integrity/evidence-check.js';

/** Lines for the demo's output. */
export async function demoEvidence(
  tg: RunningTollgate,
  config: TollgateConfig,
  nowMs: number,
): Promise<string[]> {
  const anchorFile = localPaths(config).anchorFile;
  const keyring = [tg.signingKey.verifier()];
  const { report, anchors: anchorReport } = await verifyWithAnchors({
    store: tg.store,
    checkpoints: tg.checkpoints,
    anchorFile,
    keys: null,
    keyring,
    nowMs,
    maxAgeMs: null,
    strict: false,
  });
  const bundle = await buildEvidenceBundle({
    store: tg.store,
    checkpoints: tg.checkpoints,
    anchors: anchorFile && existsSync(anchorFile) ? readAnchorFile(anchorFile) : null,
    keyring,
    verify: { ...report, anchors: anchorReport },
    config: configWithoutSecrets(config),
    storeId: storeIdentity(config.db),
    sinceMs: nowMs - 90 * 86_400_000,
    nowMs,
    signer: tg.signingKey,
  });
  const text = JSON.stringify(bundle);
  const s = bundle.sections;
  const checked = checkEvidenceBundle(JSON.parse(text), 'evidence.json', { keys: keyring });
  const lines = [
    `  ${s.chains.length} chain(s), ${s.chains.reduce((n, c) => n + c.checkpoints.length, 0)} signed checkpoint(s), ${s.access_log.length} admin and dashboard event(s) with their proofs, ${Math.round(text.length / 1024)} KB, signed by ${tg.signingKey.name}`,
    `  verify --evidence: ${checked.ok ? `OK — ${checked.checks.length} checks passed` : `FAILED — ${checked.problems[0]?.what ?? ''}`}`,
  ];
  // An auditor's view of a forged bundle: an admin event edited, or else the configuration.
  const forged = JSON.parse(text) as EvidenceBundle;
  const target = forged.sections.access_log[0];
  let what: string;
  if (target) {
    target.event.request_source = 'someone-else';
    what = 'one admin event edited';
  } else {
    forged.sections.config.failure_policy = 'fail-closed';
    what = 'its configuration edited';
  }
  const bad = checkEvidenceBundle(forged, 'evidence.json', { keys: keyring });
  const p = bad.problems.find((x) => x.where.startsWith('access_log')) ?? bad.problems[0];
  if (p) lines.push(`  the same bundle with ${what}: FAIL ${p.where}: ${p.what}`);
  return lines;
}
