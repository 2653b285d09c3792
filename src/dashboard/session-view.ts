import type { SessionTimeline } from '../admin/investigation.js';
import { eventFlags, ms } from './events-view.js';
import { html, type SafeHtml } from './html-template.js';
import { barChart } from './svg-chart.js';
import { int, shortTime, usd } from './value-format.js';

/** A session as a timeline: input tokens per request (a leak shows as a staircase), cost so far, alerts. */
export function sessionView(t: SessionTimeline): SafeHtml {
  const ev = t.events;
  if (ev.length === 0) return html`<p class="muted">No requests in this session.</p>`;
  const total = t.costSoFar[t.costSoFar.length - 1] ?? 0;
  const first = ev[0]!.input_tokens ?? 0;
  const last = ev[ev.length - 1]!.input_tokens ?? 0;
  const label = (i: number): string => `#${i + 1} ${shortTime(ev[i]!.timestamp).slice(11, 19)}`;
  return html`<p><a href="/ui/events?session=${encodeURIComponent(t.session)}">← Its events in the list</a></p>
    <div class="cards">
      <div class="card" data-card="requests">
        <div class="label">Requests</div>
        <div class="value">${int(ev.length)}${t.truncated ? '+' : ''}</div>
      </div>
      <div class="card" data-card="cost">
        <div class="label">Cost so far</div>
        <div class="value">${usd(total)}</div>
      </div>
      <div class="card" data-card="growth">
        <div class="label">Input tokens, first → last</div>
        <div class="value">${int(first)} → ${int(last)}</div>
      </div>
      <div class="card" data-card="alerts">
        <div class="label">Alerts on it</div>
        <div class="value">${t.alerts.length}</div>
      </div>
    </div>
    ${t.truncated ? html`<p class="notice">The newest ${int(ev.length)} requests are shown.</p>` : ''}
    ${t.unpriced > 0 ? html`<p class="muted">${t.unpriced} request(s) unpriced: not in the cost so far.</p>` : ''}
    <div class="grid2">
      ${barChart({
        id: 'session-input',
        title: 'Input tokens per request',
        points: ev.map((e, i) => ({ label: label(i), value: e.input_tokens ?? 0 })),
        format: (v) => `${int(v)} tokens`,
      })}
      ${barChart({
        id: 'session-cost',
        // Per request; the sum is the cost so far (the table has it after each request).
        title: 'Cost per request',
        points: ev.map((e, i) => ({ label: label(i), value: e.cost_micro_usd ?? 0 })),
        format: (v) => usd(v),
      })}
    </div>
    ${
      t.alerts.length
        ? html`<h2>Alerts on this session</h2>
          <ul class="alerts-list">
            ${t.alerts.map(
              (a) =>
                html`<li>
                  <span class="sev sev-${a.severity}">${a.severity}</span> ${a.title}
                  <span class="muted">(${a.rule_id}, ${shortTime(a.first_seen)})</span>
                  <a href="/ui/activity?alert=${encodeURIComponent(a.id)}">Activity around it</a>
                </li>`,
            )}
          </ul>`
        : ''
    }
    <h2>Requests in order</h2>
    <div class="table-wrap">
      <table aria-label="Requests of the session, oldest first" id="session-requests">
        <thead>
          <tr>
            <th scope="col" class="num">#</th>
            <th scope="col">Time (UTC)</th>
            <th scope="col">Status</th>
            <th scope="col">Model</th>
            <th scope="col" class="num">Input tokens</th>
            <th scope="col" class="num">Output</th>
            <th scope="col" class="num">Latency</th>
            <th scope="col" class="num">Cost so far</th>
            <th scope="col">Flags</th>
          </tr>
        </thead>
        <tbody>
          ${ev.map(
            (e, i) =>
              html`<tr data-event-id="${e.id}">
                <td class="num">${i + 1}</td>
                <td class="mono nowrap"><a href="/ui/events/${encodeURIComponent(e.id)}">${shortTime(e.timestamp)}</a></td>
                <td><span class="status status-${e.status}">${e.status}</span></td>
                <td>${e.model_used ?? e.model_requested ?? '—'}</td>
                <td class="num" data-input="${e.input_tokens ?? 0}">${e.input_tokens === null ? '—' : int(e.input_tokens)}</td>
                <td class="num">${e.output_tokens === null ? '—' : int(e.output_tokens)}</td>
                <td class="num nowrap">${ms(e.latency_ms)}</td>
                <td class="num">${usd(t.costSoFar[i]!)}</td>
                <td>${eventFlags(e)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
}
