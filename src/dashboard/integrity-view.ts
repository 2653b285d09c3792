import type { IntegrityStatus } from '../admin/integrity-monitor.js';
import { formatDuration } from '../core/duration.js';
import type { GapReason } from '../integrity/gap-record.js';
import type { AccountedGap } from '../integrity/verify.js';
import { html, type SafeHtml } from './html-template.js';
import { int, shortTime } from './value-format.js';

/** The integrity view: chains, their newest checkpoints, the last verify and a button to run one. */
export function integrityView(s: IntegrityStatus, csrf: string): SafeHtml {
  const v = s.last_verify;
  return html`<section aria-labelledby="verify-h">
      <h2 id="verify-h">Last verification</h2>
      ${
        v === null
          ? html`<p class="notice" id="verify-result">
              Not run since the gateway started.
              <span class="muted"
                >It recomputes every hash, every Merkle root and every checkpoint signature.</span
              >
            </p>`
          : html`<p
              class="notice${v.report.ok ? '' : ' error'}"
              id="verify-result"
              data-ok="${String(v.report.ok)}"
            >
              ${
                v.report.ok
                  ? html`<strong class="ok">✔ PASSED</strong>`
                  : html`<strong class="bad">✘ FAILED</strong>`
              }
              — ${int(v.report.events_checked)} events and ${int(v.report.checkpoints_checked)} checkpoints
              checked in ${int(Math.round(v.report.duration_ms))} ms, finished ${shortTime(v.finished)} (run
              by
              ${v.actor}).${
                v.report.accounted_gaps > 0
                  ? gapSummary(v.report.chains.flatMap((c) => c.accounted_gaps))
                  : ''
              }${
                v.report.first_damage
                  ? html`<br />First damage: <strong>${v.report.first_damage.kind}</strong> in chain
                      <span class="mono">${v.report.first_damage.chain_id}</span
                      >${v.report.first_damage.seq !== null ? ` at seq ${v.report.first_damage.seq}` : ''} —
                      ${v.report.first_damage.detail}`
                  : ''
              }
            </p>`
      }
      <p class="muted" id="anchors">
        ${
          s.anchors.file === null
            ? html`<span class="warn">Anchors are off:</span> nothing outside the store vouches for it.`
            : html`Anchors:
                <span class="mono">${s.anchors.file}</span
                >${v !== null ? ` — ${v.anchors.anchored_checkpoints} anchored checkpoint(s), ${v.anchors.pinned_keys} pinned key(s)` : ''}.`
        }
        ${s.anchors.max_age_ms !== null ? html`Maximum checkpoint age: ${formatDuration(s.anchors.max_age_ms)}.` : ''}
        ${v !== null ? v.anchors.warnings.map((w) => html`<br /><span class="warn">${w}</span>`) : ''}
      </p>
      <form method="post" action="/ui/verify">
        <input type="hidden" name="csrf" value="${csrf}" /><button type="submit">Run verify now</button>
        <span class="muted"
          >${
            s.verify_running
              ? 'A verification is running: reload this page to see its result when it ends.'
              : 'Takes about a second per 100,000 events.'
          }</span
        >
      </form>
    </section>
    <section aria-labelledby="chains-h">
      <h2 id="chains-h">Chains</h2>
      ${
        s.chains.length === 0
          ? html`<p class="muted">No chained events yet.</p>`
          : html`<table aria-label="Chains">
              <thead>
                <tr>
                  <th scope="col">Chain</th>
                  <th scope="col" class="num">Events</th>
                  <th scope="col">Head</th>
                  <th scope="col">Last checkpoint</th>
                  <th scope="col" class="num">Not yet checkpointed</th>
                  <th scope="col">Verify result</th>
                </tr>
              </thead>
              <tbody>
                ${s.chains.map((c) => {
                  const r = v?.report.chains.find((x) => x.chain_id === c.chain_id);
                  const cp = c.last_checkpoint;
                  return html`<tr data-chain="${c.chain_id}">
                    <td class="mono">${c.chain_id}</td>
                    <td class="num">${r !== undefined && r.accounted_gaps.length > 0 ? html`${int(c.events - r.accounted_gaps.reduce((n, g) => n + g.count, 0))}<br /><span class="muted">of ${int(c.events)} seqs</span>` : int(c.events)}</td>
                    <td class="mono">seq ${c.head_seq}<br />${c.head_hash.slice(0, 16)}…</td>
                    <td>
                      ${
                        cp === null
                          ? html`<span class="warn">none yet</span>`
                          : html`size ${int(cp.tree_size)} at ${shortTime(cp.created)}<br /><span
                                class="${cp.stale ? 'warn' : 'muted'}"
                                data-age-ms="${String(cp.age_ms)}"
                                >${formatDuration(cp.age_ms)}
                                old${cp.stale ? ' — older than the maximum age' : ''}</span
                              ><br />${cp.signature_ok ? html`<span class="ok">signature valid</span>` : html`<strong class="bad">signature NOT valid</strong>`}`
                      }
                    </td>
                    <td class="num">${cp === null ? int(c.events) : int(cp.events_after)}</td>
                    <td>
                      ${r === undefined ? html`<span class="muted">not verified yet</span>` : r.ok ? html`<span class="ok">✔ ok</span>${r.accounted_gaps.length > 0 ? html`<br /><span class="warn">${r.accounted_gaps.length} accounted gap${r.accounted_gaps.length === 1 ? '' : 's'}</span>` : ''}` : html`<strong class="bad">✘ ${r.damage?.kind ?? 'failed'}</strong>`}
                    </td>
                  </tr>`;
                })}
              </tbody>
            </table>`
      }
    </section>
    ${v !== null && v.report.accounted_gaps > 0 ? gapsSection(v.report.chains.flatMap((c) => c.accounted_gaps)) : ''}`;
}

const REASON_TEXT: Record<GapReason, string> = {
  queue_full: 'writer queue full',
  spool_full: 'store down, spool full',
  spool_corrupt: 'spool line damaged',
  crash: 'process crashed',
};

/** Events a gap says were not stored: a crash gap names the reserved seqs, an upper bound. */
function lostText(g: AccountedGap): string {
  return `${g.reason === 'crash' ? 'up to ' : ''}${int(g.count)}`;
}

function gapSummary(gaps: readonly AccountedGap[]): SafeHtml {
  const total = gaps.reduce((n, g) => n + g.count, 0);
  const upTo = gaps.some((g) => g.reason === 'crash') ? 'up to ' : '';
  return html`<br /><span class="warn"
      >${int(gaps.length)} accounted gap${gaps.length === 1 ? '' : 's'}: ${upTo}${int(total)} event${total === 1 ? '' : 's'} not stored,
      each named by a chained gap record (below). Not a deletion;
      <span class="mono">tollgate verify --strict</span> counts it as a failure.</span
    >`;
}

/** Accounted gaps of the last verify: which seqs, how many events, why and since when. */
function gapsSection(gaps: readonly AccountedGap[]): SafeHtml {
  return html` <section aria-labelledby="gaps-h">
    <h2 id="gaps-h">Accounted gaps</h2>
    <p class="muted">
      Events the writer could neither store nor spool (or that a crashed process held). Their seqs stay in the
      chain and the Merkle tree; a gap record chained after them names the range and the hash the chain
      continues from, so they are not reported as deleted.
    </p>
    <table aria-label="Accounted gaps">
      <thead>
        <tr>
          <th scope="col">Chain</th>
          <th scope="col">Seqs</th>
          <th scope="col" class="num">Events not stored</th>
          <th scope="col">Reason</th>
          <th scope="col">Since</th>
          <th scope="col">Gap record</th>
        </tr>
      </thead>
      <tbody>
        ${gaps.map(
          (g) =>
            html`<tr data-gap="${g.chain_id}:${String(g.first_seq)}" data-reason="${g.reason}">
              <td class="mono">${g.chain_id}</td>
              <td class="mono">
                ${g.first_seq === g.last_seq ? String(g.first_seq) : `${g.first_seq}..${g.last_seq}`}
              </td>
              <td class="num">${lostText(g)}</td>
              <td>${REASON_TEXT[g.reason]}</td>
              <td>${shortTime(g.at)}</td>
              <td class="mono">
                seq ${g.record_seq}<br /><a href="/ui/events/${encodeURIComponent(g.record_event_id)}"
                  >${g.record_event_id.slice(0, 13)}…</a
                >
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
