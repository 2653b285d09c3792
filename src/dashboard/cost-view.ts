import type { CostOverview } from '../admin/cost-overview.js';
import { COST_REPORT_BY, SESSION_ROWS_DEFAULT, type CostReportBy } from '../reports/cost-report.js';
import { html, type SafeHtml } from './html-template.js';
import { card } from './page-layout.js';
import { barChart } from './svg-chart.js';
import { bucketLabel, int, percent, shortTime, usd } from './value-format.js';

/** Group rows shown on the page (a week of sessions can be tens of thousands). */
const MAX_ROWS = 200;

/**
 * By session: where the page lies in the window's ranking, and links to the next and first pages
 * (the rows are one page of the sessions by spend, see costReport).
 */
function sessionPager(o: CostOverview, since: string): SafeHtml | '' {
  const l = o.report.sessions;
  if (!l) return '';
  const base = `/ui/cost?by=session&since=${encodeURIComponent(since)}${l.limit === SESSION_ROWS_DEFAULT ? '' : `&limit=${l.limit}`}`;
  return html`<p class="muted" data-pager="sessions">
${l.shown === 0 ? `No sessions on this page (${int(l.total)} in the window).` : `Sessions ${int(l.offset + 1)}–${int(l.offset + l.shown)} of ${int(l.total)} by spend; the total is the whole window's.`}
${l.offset > 0 ? html` <a href="${base}" data-page="first">First page</a>` : ''}
${l.next_cursor !== null ? html` <a href="${base}&amp;after=${l.next_cursor}" rel="next" data-page="next">Next ${int(Math.min(l.limit, l.more))} of ${int(l.more)} more sessions →</a>` : ''}
</p>`;
}

/** The cost view: totals, spend and tokens over time, groups, budget burn, growing sessions. */
export function costView(o: CostOverview, by: CostReportBy, since: string): SafeHtml {
  const r = o.report;
  const t = r.totals;
  const label = (s: number): string => bucketLabel(s, o.bucket_ms);
  const unit = o.bucket_ms < 86_400_000 ? 'hour' : 'day';
  return html`<form class="filters" method="get" action="/ui/cost" aria-label="Cost report window">
<label>Group by<select name="by">${COST_REPORT_BY.map((b) => html`<option value="${b}" ${b === by ? html`selected` : ''}>${b}</option>`)}</select></label>
<label>Since<input type="text" name="since" value="${since}" placeholder="24h, 7d or ISO time"></label>
<button type="submit">Show</button>
<span class="muted">Window ${shortTime(r.since)} → ${shortTime(r.until)}, read from rollups.</span>
</form>
<div class="cards">
${card('Spend', usd(t.cost_micro_usd), 'spend')}
${card('Requests', int(t.requests), 'requests')}
${card('Input tokens', int(t.input_tokens), 'input-tokens')}
${card('Output tokens', int(t.output_tokens), 'output-tokens')}
${card('Errors', int(t.errors), 'errors')}
${card('Unpriced requests', int(t.unpriced_requests), 'unpriced')}
</div>
<div class="grid2">
${barChart({ id: 'spend', title: `Spend per ${unit} (USD)`, points: o.over_time.map((p) => ({ label: label(p.start_ms), value: p.cost_micro_usd })), format: usd })}
${barChart({ id: 'tokens', title: `Tokens (input + output) per ${unit}`, points: o.over_time.map((p) => ({ label: label(p.start_ms), value: p.input_tokens + p.output_tokens })), format: int })}
</div>
<h2>By ${by}</h2>
${sessionPager(o, since)}
<table aria-label="Cost by ${by}" data-table="groups">
<thead><tr><th scope="col">${by}</th><th scope="col" class="num">Requests</th><th scope="col" class="num">Errors</th><th scope="col" class="num">Input tokens</th><th scope="col" class="num">Output tokens</th><th scope="col" class="num">Spend</th><th scope="col" class="num">Share</th><th scope="col" class="num">Unpriced</th></tr></thead>
<tbody>${r.rows.slice(0, MAX_ROWS).map(
    (row) =>
      html`<tr>
        <td>${row.key ?? '(none)'}</td>
        <td class="num">${int(row.requests)}</td>
        <td class="num">${int(row.errors)}</td>
        <td class="num">${int(row.input_tokens)}</td>
        <td class="num">${int(row.output_tokens)}</td>
        <td class="num">${usd(row.cost_micro_usd)}</td>
        <td class="num">${row.share === null ? '—' : percent(row.share)}</td>
        <td class="num">${int(row.unpriced_requests)}</td>
      </tr>`,
  )}</tbody>
${
  r.rows.length > MAX_ROWS
    ? html`<tr>
        <td colspan="8" class="muted">
          … ${int(r.rows.length - MAX_ROWS)} more rows (all of them in GET /admin/reports/cost or tollgate
          report cost).
        </td>
      </tr>`
    : ''
}</tbody>
<tfoot><tr><th scope="row">Total</th><td class="num">${int(t.requests)}</td><td class="num">${int(t.errors)}</td><td class="num">${int(t.input_tokens)}</td><td class="num">${int(t.output_tokens)}</td><td class="num" data-total="cost">${usd(t.cost_micro_usd)}</td><td></td><td class="num">${int(t.unpriced_requests)}</td></tr></tfoot>
</table>
<h2>Budget burn</h2>
${
  o.budgets.length === 0
    ? html`<p class="muted">No gateway key has a budget (tollgate keys create --budget-usd X).</p>`
    : html`<table aria-label="Budget burn">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Prefix</th>
            <th scope="col">Status</th>
            <th scope="col">Period</th>
            <th scope="col" class="num">Spent</th>
            <th scope="col" class="num">Budget</th>
            <th scope="col">Burn</th>
          </tr>
        </thead>
        <tbody>
          ${o.budgets.map(
            (b) =>
              html`<tr>
                <td>${b.name} <span class="muted mono">${b.key_id}</span></td>
                <td class="mono">${b.prefix}</td>
                <td>${b.status}</td>
                <td>${b.period} from ${b.period_start.slice(0, 10)}</td>
                <td class="num">${usd(b.spent_micro_usd)}</td>
                <td class="num">${usd(b.budget_micro_usd)}</td>
                <td>
                  <span class="meter" aria-hidden="true"
                    ><span class="w${Math.min(10, Math.round(b.burn * 10))}"></span
                  ></span>
                  <strong class="${b.burn >= 1 ? 'bad' : b.burn >= 0.8 ? 'warn' : ''}"
                    >${percent(b.burn)}${b.burn >= 1 ? ' — EXHAUSTED' : b.burn >= 0.8 ? ' — near limit' : ''}</strong
                  >
                </td>
              </tr>`,
          )}
        </tbody>
      </table>`
}
<h2>Sessions with growing context</h2>
<p class="muted">A session that resends its whole history grows its input on every request — the silent token leak. Leaking: at least 5 requests, 4 increases in a row, last input ≥ 2× the first. Since ${shortTime(o.growth_since)}, the whole window (<a href="/ui/cost?by=session&amp;since=${encodeURIComponent(since)}">the window's sessions by spend</a>).</p>
${
  o.growth_inexact.sessions > o.growth_inexact.ranked
    ? html`<p class="warn" data-warning="growth-inexact">
        ${int(o.growth_inexact.sessions)} sessions of this window have summaries written out of hour
        order; only ${int(o.growth_inexact.ranked)} of them were ranked here, so a growing session may be
        missing. <code>tollgate rollups rebuild</code> makes the summaries exact.
      </p>`
    : ''
}
${
  o.growing_sessions.length === 0
    ? html`<p class="muted">No session's input grew in this window.</p>`
    : html`<table aria-label="Sessions with growing context" data-table="sessions">
        <thead>
          <tr>
            <th scope="col">Session</th>
            <th scope="col">Verdict</th>
            <th scope="col" class="num">Requests</th>
            <th scope="col" class="num">First input</th>
            <th scope="col" class="num">Last input</th>
            <th scope="col" class="num">Growth</th>
            <th scope="col" class="num">Longest streak</th>
            <th scope="col" class="num">Spend</th>
          </tr>
        </thead>
        <tbody>
          ${o.growing_sessions.map(
            (s) =>
              html`<tr>
                <td><a href="/ui/events?session=${encodeURIComponent(s.key ?? '')}">${s.key}</a></td>
                <td>${s.growth!.leaking ? html`<strong class="bad">LEAKING</strong>` : 'growing'}</td>
                <td class="num">${int(s.requests)}</td>
                <td class="num">${int(s.growth!.first_input_tokens)}</td>
                <td class="num">${int(s.growth!.last_input_tokens)}</td>
                <td class="num">
                  ${s.growth!.growth_ratio === null ? '—' : `×${s.growth!.growth_ratio.toFixed(1)}`}
                </td>
                <td class="num">${s.growth!.max_streak}</td>
                <td class="num">${usd(s.cost_micro_usd)}</td>
              </tr>`,
          )}
        </tbody>
      </table>`
}`;
}
