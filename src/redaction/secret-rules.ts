/**
 * Secret detectors for token formats with a fixed prefix.
 *
 * The formats come from gitleaks' published rules (https://github.com/gitleaks/gitleaks,
 * `config/gitleaks.toml` and `cmd/generate/config/rules/*.go`, MIT License, Copyright (c)
 * 2019 Zachary Rice). The code is ours; what carries over are facts about key formats
 * (prefixes, alphabets, lengths), entropy thresholds and the published example keys that
 * must not count as leaks.
 *
 * Patterns are RE2 syntax, compiled once with re2js (linear-time matching, no
 * backtracking). Each has a literal prefix, which re2js uses to skip ahead, so a clean
 * prompt costs a few microseconds per rule. Group 1 is the secret; the text around it is
 * only context (word boundaries).
 */
import { RE2JS } from 're2js';
import type { Detector, Finding, SecretType } from './detector.js';
import { shannonEntropy } from './entropy.js';
import { isPlaceholderValue } from './placeholder-values.js';

/** A token format: one RE2 pattern whose group 1 is the secret, plus gitleaks' filters. */
export interface TokenRule {
  type: SecretType;
  /** gitleaks rule ids this rule is derived from. */
  derivedFrom: readonly string[];
  pattern: string;
  /** Minimum Shannon entropy of the secret (gitleaks' `entropy`); filters `AKIAXXXXXXXXXXXXXXXX`. */
  minEntropy?: number;
  /** Published example values that are not leaks (gitleaks' per-rule allowlists). */
  allowValues?: readonly string[];
  /** Suffix that marks documentation examples (`…EXAMPLE` for AWS). */
  allowSuffix?: string;
  /** Literals every match starts with (or contains first); found with one native scan. */
  prefixes: readonly string[];
  /** How far past a prefix a match can end (characters); bounds the window re2js reads. */
  window: number;
}

// Token characters may not continue past the end of a match: a longer run is another thing.
const END = '(?:[^A-Za-z0-9_-]|$)';

/** The token rules, in priority order: on the same start offset the earlier rule wins. */
export const TOKEN_RULES: readonly TokenRule[] = [
  {
    type: 'anthropic_key',
    prefixes: ['sk-ant-'],
    window: 1024,
    derivedFrom: ['anthropic-api-key', 'anthropic-admin-api-key', 'anthropic-oauth-token'],
    // api03/admin01 keys are 93 characters then "AA"; OAuth tokens have no published length.
    pattern: `\\b(sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{93}AA|sk-ant-(?:oat01|ort01)-[A-Za-z0-9_-]{40,})${END}`,
  },
  {
    type: 'openai_key',
    prefixes: ['sk-'],
    window: 1024,
    derivedFrom: ['openai-api-key'],
    // gitleaks requires the "T3BlbkFJ" marker (base64 of "OpenAI"); we also take the prefixed
    // project/service-account/admin forms and 48-character legacy keys without it.
    pattern: `\\b(sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{40,}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}|sk-[A-Za-z0-9]{32,64})${END}`,
    minEntropy: 3,
  },
  {
    type: 'aws_access_key',
    prefixes: ['A3T', 'AKIA', 'ASIA', 'ABIA', 'ACCA'],
    window: 21,
    derivedFrom: ['aws-access-token'],
    pattern: '\\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\\b',
    minEntropy: 3,
    allowSuffix: 'EXAMPLE',
  },
  {
    type: 'github_token',
    prefixes: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
    window: 94,
    derivedFrom: [
      'github-pat',
      'github-oauth',
      'github-app-token',
      'github-refresh-token',
      'github-fine-grained-pat',
    ],
    pattern: '\\b((?:ghp|gho|ghu|ghs|ghr)_[0-9A-Za-z]{36}|github_pat_[0-9A-Za-z_]{82})\\b',
    minEntropy: 3,
  },
  {
    type: 'slack_token',
    prefixes: ['xox', 'xapp-', 'hooks.slack.com'],
    window: 512,
    derivedFrom: [
      'slack-bot-token',
      'slack-legacy-bot-token',
      'slack-user-token',
      'slack-app-token',
      'slack-config-access-token',
      'slack-config-refresh-token',
      'slack-legacy-token',
      'slack-legacy-workspace-token',
      'slack-webhook-url',
    ],
    pattern:
      '(' +
      [
        '(?:https?://)?hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}',
        'xoxe\\.xox[bp]-\\d-[A-Za-z0-9]{163,166}',
        'xoxe-\\d-[A-Za-z0-9]{146}',
        'xox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9-]{28,34}',
        'xoxb-[0-9]{10,13}-[0-9]{10,13}[A-Za-z0-9-]*',
        'xoxb-[0-9]{8,14}-[A-Za-z0-9]{18,26}',
        'xapp-\\d-[A-Za-z0-9]+-\\d+-[a-z0-9]+',
        'xox[os]-\\d+-\\d+-\\d+-[A-Fa-f0-9]+',
        // gitleaks stops after the first segment; the rest of the token is secret too.
        'xox[ar]-(?:\\d-)?[0-9A-Za-z]{8,48}(?:-[0-9A-Za-z]{1,64}){0,6}',
      ].join('|') +
      ')',
    minEntropy: 2,
  },
  {
    type: 'google_api_key',
    prefixes: ['AIza'],
    window: 40,
    derivedFrom: ['gcp-api-key'],
    pattern: `\\b(AIza[A-Za-z0-9_-]{35})${END}`,
    minEntropy: 4,
    // Example keys shipped in firebase/firebase-android-sdk (gitleaks' allowlist).
    allowValues: [
      'AIzaSyabcdefghijklmnopqrstuvwxyz1234567',
      'AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs',
      'AIzaSyCkEhVjf3pduRDt6d1yKOMitrUEke8agEM',
      'AIzaSyDMAScliyLx7F0NPDEJi1QmyCgHIAODrlU',
      'AIzaSyD3asb-2pEZVqMkmL6M9N6nHZRR_znhrh0',
      'AIzayDNSXIbFmlXbIE6mCzDLQAqITYefhixbX4A',
      'AIzaSyAdOS2zB6NCsk1pCdZ4-P6GBdi_UUPwX7c',
      'AIzaSyASWm6HmTMdYWpgMnjRBjxcQ9CKctWmLd4',
      'AIzaSyANUvH9H9BsUccjsu2pCmEkOPjjaXeDQgY',
      'AIzaSyA5_iVawFQ8ABuTZNUdcwERLJv_a_p4wtM',
      'AIzaSyA4UrcGxgwQFTfaI3no3t7Lt1sjmdnP5sQ',
      'AIzaSyDSb51JiIcB6OJpwwMicseKRhhrOq1cS7g',
      'AIzaSyBF2RrAIm4a0mO64EShQfqfd2AFnzAvvuU',
      'AIzaSyBcE-OOIbhjyR83gm4r2MFCu4MJmprNXsw',
      'AIzaSyB8qGxt4ec15vitgn44duC5ucxaOi4FmqE',
      'AIzaSyA8vmApnrHNFE0bApF4hoZ11srVL_n0nvY',
    ],
  },
  {
    type: 'stripe_key',
    prefixes: ['sk_', 'rk_', 'whsec_'],
    window: 112,
    derivedFrom: ['stripe-access-token'],
    // Secret and restricted keys; publishable `pk_` keys are public by design. Plus webhook secrets.
    pattern: `\\b((?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99}|whsec_[A-Za-z0-9]{32,64})${END}`,
    minEntropy: 2,
  },
  {
    type: 'jwt',
    prefixes: ['eyJ'],
    window: 16384,
    derivedFrom: ['jwt'],
    // Header and payload are base64url JSON objects, so both start with "eyJ" ('{"').
    pattern:
      '\\b(eyJ[A-Za-z0-9_-]{15,}\\.eyJ[A-Za-z0-9_/\\\\-]{15,}\\.(?:[A-Za-z0-9_/\\\\-]{10,}={0,2})?)(?:[^A-Za-z0-9_=/-]|$)',
    minEntropy: 3,
  },
];

class TokenRuleDetector {
  readonly type: SecretType;
  private readonly re: RE2JS;
  private readonly allow: ReadonlySet<string>;

  constructor(readonly rule: TokenRule) {
    this.type = rule.type;
    this.re = RE2JS.compile(rule.pattern);
    this.allow = new Set(rule.allowValues ?? []);
  }

  /** Runs the pattern over text[from, to) (one character of context either side). */
  findIn(text: string, from: number, to: number, out: Finding[]): void {
    const m = this.re.matcher(text.slice(from, to));
    while (m.find()) {
      if (m.start(1) < 0) continue;
      const start = from + m.start(1);
      const end = from + m.end(1);
      const value = text.slice(start, end);
      if (this.rule.minEntropy !== undefined && shannonEntropy(value) < this.rule.minEntropy) continue;
      if (this.allow.has(value)) continue;
      if (this.rule.allowSuffix !== undefined && value.endsWith(this.rule.allowSuffix)) continue;
      if (isPlaceholderValue(value)) continue;
      out.push({ type: this.type, start, end });
    }
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * All enabled token rules behind one prefix scan. A clean prompt costs one pass of a native
 * regex that is a plain alternation of literals (no quantifiers: at most Σ|prefix| steps per
 * position, so linear); re2js then reads only windows after the prefixes it found, merged so
 * no character is read twice by the same rule.
 */
class TokenRulesDetector implements Detector {
  readonly type: SecretType = 'openai_key';
  private readonly prefixScan: RegExp;
  private readonly byPrefix = new Map<string, TokenRuleDetector[]>();

  constructor(private readonly rules: readonly TokenRuleDetector[]) {
    for (const r of rules) {
      for (const p of r.rule.prefixes) this.byPrefix.set(p, [...(this.byPrefix.get(p) ?? []), r]);
    }
    const literals = [...this.byPrefix.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.prefixScan = new RegExp(literals.join('|'), 'g');
  }

  find(text: string, out: Finding[]): void {
    const windows = new Map<TokenRuleDetector, [number, number][]>();
    this.prefixScan.lastIndex = 0;
    for (let m = this.prefixScan.exec(text); m !== null; m = this.prefixScan.exec(text)) {
      const at = m.index;
      // A prefix inside a longer literal ("sk-ant-" also starts with "sk-") serves every rule sharing it.
      for (const [prefix, rules] of this.byPrefix) {
        if (!text.startsWith(prefix, at)) continue;
        for (const r of rules) {
          // A little context before: the \b check, and "https://" before hooks.slack.com.
          const from = Math.max(0, at - 9);
          const to = Math.min(text.length, at + r.rule.window + 1);
          const list = windows.get(r) ?? [];
          const last = list[list.length - 1];
          if (last && from <= last[1]) last[1] = Math.max(last[1], to);
          else list.push([from, to]);
          windows.set(r, list);
        }
      }
    }
    for (const [r, list] of windows) for (const [from, to] of list) r.findIn(text, from, to, out);
  }
}

/** Compiles the token rules whose type is enabled (once, at redactor construction). */
export function createTokenDetectors(enabled: (type: SecretType) => boolean): Detector[] {
  const rules = TOKEN_RULES.filter((r) => enabled(r.type)).map((r) => new TokenRuleDetector(r));
  return rules.length === 0 ? [] : [new TokenRulesDetector(rules)];
}
