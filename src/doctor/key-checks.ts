/** Offline checks of an API key's shape: the mistakes that cause most 3 a.m. 401s. */
import { keyPrefix } from '../access/key-prefix.js';
import { PRESETS } from '../providers/presets.js';
import type { ProviderPreset } from '../providers/provider-preset.js';
import { fail, ok, type DoctorFinding } from './doctor-report.js';

/** Whitespace and invisible characters that survive copy-paste but break an Authorization header. */
const INVISIBLE = /[\s\u200B-\u200D\u2060\uFEFF]/u;
const INVISIBLE_ALL = /[\s\u200B-\u200D\u2060\uFEFF]/gu;

const CHAR_NAMES: Record<string, string> = {
  '\n': 'newline (\\n)',
  '\r': 'carriage return (\\r)',
  '\t': 'tab (\\t)',
  ' ': 'space',
  '\u00A0': 'no-break space (U+00A0)',
  '\u200B': 'zero-width space (U+200B)',
  '\u200C': 'zero-width non-joiner (U+200C)',
  '\u200D': 'zero-width joiner (U+200D)',
  '\u2060': 'word joiner (U+2060)',
  '\uFEFF': 'byte-order mark (U+FEFF)',
};

function charName(ch: string): string {
  return CHAR_NAMES[ch] ?? `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

const PLACEHOLDER =
  /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$|^<[^>]*>$|your[-_ ]?(api[-_ ]?)?key|api[-_]?key[-_]?here|changeme|placeholder|\.\.\./i;

/** True for template values: `${OPENAI_API_KEY}`, `<your key>`, `sk-...`, `sk-xxxxxxxx`, `sk-proj-****`. */
export function isPlaceholderKey(key: string): boolean {
  if (PLACEHOLDER.test(key)) return true;
  // After a type marker (sk-, sk-proj-, gsk_, …), nothing but x's or asterisks.
  const rest = key.replace(/^[A-Za-z]{2,5}[-_]([a-z0-9]{2,8}-)?/, '');
  return rest.length > 0 && /^[xX*]+$/.test(rest);
}

export interface KeyCheckResult {
  findings: DoctorFinding[];
  /** The key to probe with: quotes and whitespace removed, so the network checks can still say whether the key itself works. */
  probeKey: string;
}

/** Describes where whitespace sits in the key: "trailing newline (\n) at position 52 of 52". */
export function describeWhitespace(key: string): string[] {
  const chars = [...key];
  const where: string[] = [];
  let lead = 0;
  while (lead < chars.length && INVISIBLE.test(chars[lead]!)) lead++;
  let trail = chars.length;
  while (trail > lead && INVISIBLE.test(chars[trail - 1]!)) trail--;
  chars.forEach((ch, i) => {
    if (!INVISIBLE.test(ch)) return;
    const pos = i < lead ? 'leading' : i >= trail ? 'trailing' : 'embedded';
    where.push(`${pos} ${charName(ch)} at position ${i + 1} of ${chars.length}`);
  });
  return where;
}

/** The provider whose key format `key` matches most specifically (`sk-ant-` beats `sk-`). */
function providersByPrefix(key: string): { prefix: string; providers: ProviderPreset[] } | null {
  let best: { prefix: string; providers: ProviderPreset[] } | null = null;
  for (const p of PRESETS) {
    for (const prefix of p.keyPrefixes) {
      if (!key.startsWith(prefix)) continue;
      if (best === null || prefix.length > best.prefix.length) best = { prefix, providers: [p] };
      else if (prefix.length === best.prefix.length) best.providers.push(p);
    }
  }
  return best;
}

/** Checks a key's shape for `provider` (null when the upstream is unknown). */
export function checkKey(rawKey: string, provider: ProviderPreset | null): KeyCheckResult {
  const findings: DoctorFinding[] = [];
  if (rawKey.trim() === '') {
    findings.push(
      fail(
        'key.present',
        'No API key',
        rawKey === '' ? 'The key is empty.' : 'The key contains only whitespace.',
        'Set the key in the environment variable the gateway reads (or pass --key-env NAME) and check it is exported to this shell or service.',
      ),
    );
    return { findings, probeKey: '' };
  }
  findings.push(
    ok(
      'key.present',
      'API key is set',
      `${[...rawKey].length} characters, starts with ${keyPrefix(rawKey) || '(too short to show)'}…`,
    ),
  );

  let key = rawKey;
  const whitespace = describeWhitespace(key);
  if (whitespace.length > 0) {
    const shown =
      whitespace.slice(0, 4).join('; ') +
      (whitespace.length > 4 ? `; and ${whitespace.length - 4} more` : '');
    findings.push(
      fail(
        'key.whitespace',
        'Whitespace in the key',
        `${shown}. Providers compare keys byte for byte, so this key is rejected (or the header is refused) as it is. The checks below use the key with whitespace removed.`,
        "Remove it where the key is defined: a trailing newline usually comes from `echo KEY > file` (use `printf '%s' KEY`) or from reading a file with `$(cat file)` in a place that keeps it; a CRLF from a file edited on Windows.",
      ),
    );
    key = key.replace(INVISIBLE_ALL, '');
  } else {
    findings.push(ok('key.whitespace', 'No whitespace in the key'));
  }

  if (/^(["'`]).*\1$/s.test(key) && key.length >= 2) {
    findings.push(
      fail(
        'key.quotes',
        'The key is wrapped in quotes',
        'The quote characters are sent as part of the key.',
        'Remove the quotes: `docker --env-file` and systemd EnvironmentFile keep them literally, unlike a shell.',
      ),
    );
    key = key.slice(1, -1);
  }

  if (isPlaceholderKey(key)) {
    findings.push(
      fail(
        'key.placeholder',
        'The key is a placeholder',
        'It looks like a template value or an unexpanded variable, not a real key.',
        'Put the real key in the environment; if it reads like ${NAME}, the variable was not expanded by whatever loaded it.',
      ),
    );
  }

  if (key.startsWith('tg-')) {
    findings.push(
      fail(
        'key.prefix',
        'This is a Tollgate gateway key',
        'Keys starting with tg- are issued by Tollgate and only work against the gateway, never against a provider.',
        'Point the client at the gateway (e.g. http://127.0.0.1:8787/v1), or use the provider key here.',
      ),
    );
  } else if (provider !== null && provider.keyPrefixes.length > 0) {
    const match = providersByPrefix(key);
    const expected = provider.keyPrefixes.map((p) => `${p}…`).join(' or ');
    if (match !== null && !match.providers.includes(provider)) {
      const owner = match.providers.map((p) => p.id).join(' or ');
      findings.push(
        fail(
          'key.prefix',
          `The key looks like a key for ${owner}, not ${provider.id}`,
          `The key starts with ${match.prefix}, the prefix of ${owner} keys; ${provider.id} keys start with ${expected}.`,
          `Use a ${provider.id} key for ${provider.apiHosts[0] ?? provider.id}, or point the base URL at ${owner}.`,
        ),
      );
    } else if (match === null) {
      findings.push(
        fail(
          'key.prefix',
          `Unexpected prefix for ${provider.id}`,
          `The key starts with ${keyPrefix(key) || '(too short to show)'}; ${provider.id} keys start with ${expected}.`,
          `Check that you copied the whole key, and that it is a ${provider.id} key (not another provider's, or an organisation or project id).`,
        ),
      );
    } else {
      findings.push(ok('key.prefix', `Prefix matches ${provider.id}`, `starts with ${match.prefix}`));
    }
  } else {
    findings.push(
      ok(
        'key.prefix',
        'Prefix not checked',
        provider === null
          ? 'Unknown upstream: no expected key format.'
          : `${provider.id} keys have no fixed prefix.`,
      ),
    );
  }

  const min = provider?.minKeyLength ?? 20;
  const length = [...key].length;
  if (length < min) {
    findings.push(
      fail(
        'key.length',
        'The key is too short',
        `${length} characters; ${provider === null ? 'API keys are usually' : `${provider.id} keys are`} at least ${min}.`,
        'The key was probably truncated when copied (a terminal line wrap, a shell `$` in double quotes, a `#` taken as a comment in .env). Copy it again or create a new one.',
      ),
    );
  } else {
    findings.push(
      ok('key.length', 'Length is plausible', `${length} characters${key === rawKey ? '' : ' (as probed)'}`),
    );
  }
  return { findings, probeKey: key };
}
