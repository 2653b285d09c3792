/**
 * Doctor checks of the tamper evidence set-up: where the checkpoint signing key lives and whether
 * checkpoints are anchored outside the store (docs/integrity.md "Threat model").
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { anchorModeProblems } from '../integrity/anchors.js';
import type { SigningKeySourceKind } from '../integrity/signing-key-source.js';
import { ok, warn, type DoctorFinding } from './doctor-report.js';

export interface IntegritySetup {
  /** Where the signing key comes from. */
  keySource: SigningKeySourceKind;
  /** The key file (for `file` and `data-folder`). */
  keyFile: string | null;
  /** The folder of the store (SQLite file's folder) or the data folder. */
  storeDir: string;
  /** This store's anchor file, null when anchors are off. */
  anchorFile: string | null;
  /** The audit data paths (folder, store, WAL, secrets) that users other than the owner may open. */
  openToOthers?: readonly string[];
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Warnings (never failures: the gateway works either way) about the key and the anchors. */
export function checkIntegritySetup(s: IntegritySetup): DoctorFinding[] {
  const findings: DoctorFinding[] = [];
  const keyFile = s.keyFile === null ? null : resolve(s.keyFile);
  if (
    keyFile !== null &&
    dirname(keyFile) === resolve(s.storeDir) &&
    (!existsSync(keyFile) || writable(keyFile))
  ) {
    findings.push(
      warn(
        'integrity.key-location',
        'the checkpoint signing key sits in the store’s folder, writable by this user',
        `${keyFile}: whoever can rewrite the store can usually re-sign its checkpoints with this key`,
        'move it out (checkpoints.signing_key_file on another volume or owner, TOLLGATE_SIGNING_KEY, or checkpoints.signing_key_command), then run tollgate signing-key rotate',
      ),
    );
  } else {
    findings.push(ok('integrity.key-location', `checkpoint signing key from ${s.keySource}`));
  }
  if (s.anchorFile === null) {
    findings.push(
      warn(
        'integrity.anchors',
        'checkpoints are not anchored outside the store',
        'checkpoints.anchors is false: nothing outside the database vouches for it',
        'set checkpoints.anchors: true (the default) and checkpoints.anchor_dir on another volume or owner',
      ),
    );
  } else {
    const problems = anchorModeProblems(s.anchorFile);
    findings.push(
      problems.length > 0
        ? warn(
            'integrity.anchors',
            'the anchor folder or file is writable by group or others',
            problems.join('; '),
            `chmod 0700 ${dirname(s.anchorFile)} and 0600 its files (or hand the folder to another owner)`,
          )
        : ok('integrity.anchors', `checkpoints anchored in ${s.anchorFile}`),
    );
  }
  const open = s.openToOthers ?? [];
  findings.push(
    open.length > 0
      ? warn(
          'integrity.data-modes',
          'the audit data is readable by other users',
          `group or other permission bits on ${open.join(', ')}`,
          'chmod 0700 the data folder and 0600 the store, its WAL and the key files (docs/access-control.md)',
        )
      : ok('integrity.data-modes', 'the data folder and store files are 0700/0600'),
  );
  return findings;
}
