import { EVENT_STATUSES, type AuditEvent } from '../core/audit-event.js';
import type { EventPage, EventQuery } from '../admin/event-listing.js';
import { promptPreview } from './conversation.js';
import { html, type SafeHtml } from './html-template.js';
import { int, shortTime, usd } from './value-format.js';

/** Milliseconds for a table cell (`—` when unknown). */
export function ms(v: number | null): string {
  return v === null ? '—' : `${int(Math.round(v))} ms`;
}

/** The flags of an event, as words (colour only repeats them). */
export function eventFlags(e: AuditEvent): SafeHtml {
  const flags: SafeHtml[] = [];
  if (e.is_anomalous || e.threat_indicators.length > 0)
    flags.push(
      html`<span class="flag flag-anomalous" title="${e.threat_indicators.join(', ') || 'anomalous'}"
        >anomalous</span
      >`,
    );
  if (e.redactions.length > 0)
    flags.push(
      html`<span class="flag flag-redacted" title="${e.redactions.map((r) => `${r.type}×${r.count}`).join(', ')}"
        >redacted</span
      >`,
    );
  if (e.status === 'BLOCKED') flags.push(html`<span class="flag flag-blocked">blocked</span>`);
  return html`${flags}`;
}

/** One row of an event table (the live list, search results, a subject's activity). */
export function eventRow(e: AuditEvent, extra: SafeHtml | null = null): SafeHtml {
  const tokens =
    e.input_tokens === null && e.output_tokens === null
      ? '—'
      : `${e.input_tokens === null ? '—' : int(e.input_tokens)} / ${e.output_tokens === null ? '—' : int(e.output_tokens)}`;
  return html`<tr data-event-id="${e.id}">
    <td class="mono nowrap"><a href="/ui/events/${encodeURIComponent(e.id)}">${shortTime(e.timestamp)}</a></td>
    <td class="nowrap">
      <span class="status status-${e.status}">${e.status}</span
      >${e.http_status_code !== null ? html` <span class="muted">${e.http_status_code}</span>` : ''}
    </td>
    <td class="nowrap">${e.model_used ?? e.model_requested ?? '—'}</td>
    <td>
      <span class="user">${e.user_id ?? '—'}</span>${
        e.session_id
          ? html`<br /><a class="muted small" href="/ui/sessions/${encodeURIComponent(e.session_id)}"
              >${e.session_id}</a
            >`
          : ''
      }
    </td>
    <td class="num nowrap">${ms(e.latency_ms)}</td>
    <td class="num nowrap">${ms(e.time_to_first_token_ms)}</td>
    <td class="num nowrap">${tokens}</td>
    <td class="num nowrap">${e.cost_micro_usd === null ? '—' : usd(e.cost_micro_usd)}</td>
    <td>${eventFlags(e)}</td>
    ${extra ? html`<td class="snippet">${extra}</td>` : html`<td class="preview">${promptPreview(e.prompt)}</td>`}
  </tr>`;
}

/** The header of an event table. */
export function eventTableHead(last = 'Prompt'): SafeHtml {
  return html`<thead>
    <tr>
      <th scope="col">Time (UTC)</th>
      <th scope="col">Status</th>
      <th scope="col">Model</th>
      <th scope="col">User / session</th>
      <th scope="col" class="num">Latency</th>
      <th scope="col" class="num">TTFT</th>
      <th scope="col" class="num">Tokens in / out</th>
      <th scope="col" class="num">Cost</th>
      <th scope="col">Flags</th>
      <th scope="col">${last}</th>
    </tr>
  </thead>`;
}

/** The rows of the live table (also the body the auto-refresh swaps in). */
export function eventRows(events: readonly AuditEvent[]): SafeHtml {
  if (events.length === 0)
    return html`<tr>
      <td colspan="10" class="muted">No events match these filters.</td>
    </tr>`;
  return html`${events.map((e) => eventRow(e))}`;
}

function textFilter(name: keyof EventQuery, label: string, q: EventQuery, placeholder = ''): SafeHtml {
  return html`<label
    >${label}<input
      type="text"
      name="${name}"
      value="${String(q[name])}"
      autocomplete="off"
      ${placeholder ? html`placeholder="${placeholder}"` : ''}
  /></label>`;
}

/** The live events view: filters, the table, and paging. */
export function eventsView(q: EventQuery, page: EventPage): SafeHtml {
  const next = new URLSearchParams();
  for (const k of ['user', 'session', 'feature', 'key', 'model', 'status', 'since', 'until'] as const)
    if (q[k]) next.set(k, String(q[k]));
  if (q.limit !== 50) next.set('limit', String(q.limit));
  if (page.next_before) next.set('before', page.next_before);
  return html`<form class="filters" method="get" action="/ui/events" role="search" aria-label="Filter events">
      ${textFilter('user', 'User', q)}${textFilter('session', 'Session', q)}${textFilter('feature', 'Feature', q)}${textFilter('key', 'Key (prefix or id)', q)}${textFilter('model', 'Model', q)}
      <label
        >Status<select name="status">
          <option value="">any</option>
          ${EVENT_STATUSES.map((s) => html`<option value="${s}" ${q.status === s ? html`selected` : ''}>${s}</option>`)}
        </select></label
      >
      ${textFilter('since', 'Since', q, '24h, 7d or ISO time')}${textFilter('until', 'Until', q, 'now, or 1h, ISO time')}
      <button type="submit">Filter</button>
      <a href="/ui/events">Clear</a>
      <label class="live-toggle"
        ><span
          ><input type="checkbox" id="live" ${q.before || q.until ? '' : html`checked`} /> Live (refresh every 5
          s)</span
        ></label
      >
      <span id="refreshed" class="muted" aria-live="polite"></span>
    </form>
    <div class="table-wrap">
      <table aria-label="Events, newest first">
        ${eventTableHead()}
        <tbody id="events-body">
          ${eventRows(page.events)}
        </tbody>
      </table>
    </div>
    <div class="pager">
      ${page.next_before ? html`<a href="/ui/events?${next.toString()}" rel="next">Older events →</a>` : html`<span class="muted">End of the list.</span>`}
    </div>`;
}
