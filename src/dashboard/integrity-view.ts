import type { IntegrityStatus } from '../admin/integrity-monitor.js';
import { html, type SafeHtml } from './html-template.js';
import { int, shortTime } from './value-format.js';

/** The integrity view: chains, their newest checkpoints, the last verify and a button to run one. */
export function integrityView(s: IntegrityStatus, csrf: string): SafeHtml {
  const v = s.last_verify;
  return html`<section aria-labelledby="verify-h"><h2 id="verify-h">Last verification</h2>
${
  v === null
    ? html`<p class="notice" id="verify-result">Not run since the gateway started. <span class="muted">It recomputes every hash, every Merkle root and every checkpoint signature.</span></p>`
    : html`<p class="notice${v.report.ok ? '' : ' error'}" id="verify-result" data-ok="${String(v.report.ok)}">${
        v.report.ok ? html`<strong class="ok">✔ PASSED</strong>` : html`<strong class="bad">✘ FAILED</strong>`
      } — ${int(v.report.events_checked)} events and ${int(v.report.checkpoints_checked)} checkpoints checked in ${int(Math.round(v.report.duration_ms))} ms, finished ${shortTime(v.finished)} (run by ${v.actor}).${
        v.report.first_damage ? html`<br>First damage: <strong>${v.report.first_damage.kind}</strong> in chain <span class="mono">${v.report.first_damage.chain_id}</span>${v.report.first_damage.seq !== null ? ` at seq ${v.report.first_damage.seq}` : ''} — ${v.report.first_damage.detail}` : ''
      }</p>`
}
<form method="post" action="/ui/verify"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Run verify now</button> <span class="muted">${s.verify_running ? 'A verification is running.' : 'Takes about a second per 100,000 events.'}</span></form>
</section>
<section aria-labelledby="chains-h"><h2 id="chains-h">Chains</h2>
${
  s.chains.length === 0
    ? html`<p class="muted">No chained events yet.</p>`
    : html`<table aria-label="Chains"><thead><tr><th scope="col">Chain</th><th scope="col" class="num">Events</th><th scope="col">Head</th><th scope="col">Last checkpoint</th><th scope="col" class="num">Not yet checkpointed</th><th scope="col">Verify result</th></tr></thead><tbody>${s.chains.map((c) => {
        const r = v?.report.chains.find((x) => x.chain_id === c.chain_id);
        const cp = c.last_checkpoint;
        return html`<tr data-chain="${c.chain_id}"><td class="mono">${c.chain_id}</td><td class="num">${int(c.events)}</td><td class="mono">seq ${c.head_seq}<br>${c.head_hash.slice(0, 16)}…</td><td>${
          cp === null ? html`<span class="warn">none yet</span>` : html`size ${int(cp.tree_size)} at ${shortTime(cp.created)}<br>${cp.signature_ok ? html`<span class="ok">signature valid</span>` : html`<strong class="bad">signature NOT valid</strong>`}`
        }</td><td class="num">${cp === null ? int(c.events) : int(cp.events_after)}</td><td>${r === undefined ? html`<span class="muted">not verified yet</span>` : r.ok ? html`<span class="ok">✔ ok</span>` : html`<strong class="bad">✘ ${r.damage?.kind ?? 'failed'}</strong>`}</td></tr>`;
      })}</tbody></table>`
}
</section>`;
}
