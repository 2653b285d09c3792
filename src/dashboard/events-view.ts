import { EVENT_STATUSES, type AuditEvent } from '../core/audit-event.js';
import type { EventPage, EventQuery } from '../admin/event-listing.js';
import { html, type SafeHtml } from './html-template.js';
import { int, shortTime, usd } from './value-format.js';

/** The rows of the live table (also the body the auto-refresh swaps in). */
export function eventRows(events: readonly AuditEvent[]): SafeHtml {
  if (events.length === 0)
    return html`<tr>
      <td colspan="10" class="muted">No events match these filters.</td>
    </tr>`;
  return html`${events.map(
    (e) =>
      html`<tr data-event-id="${e.id}">
        <td class="mono"><a href="/ui/events/${encodeURIComponent(e.id)}">${shortTime(e.timestamp)}</a></td>
        <td>
          <span class="status status-${e.status}">${e.status}</span
          >${e.http_status_code !== null ? html` <span class="muted">${e.http_status_code}</span>` : ''}
        </td>
        <td>${e.user_id ?? '—'}</td>
        <td>${e.session_id ?? '—'}</td>
        <td>${e.feature_name ?? '—'}</td>
        <td>${e.model_used ?? e.model_requested ?? '—'}</td>
        <td class="mono">${e.api_key_prefix ?? e.virtual_key_id ?? '—'}</td>
        <td class="num">${e.total_tokens === null ? '—' : int(e.total_tokens)}</td>
        <td class="num">${e.cost_micro_usd === null ? '—' : usd(e.cost_micro_usd)}</td>
        <td>${e.redactions.length ? e.redactions.map((r) => `${r.type}×${r.count}`).join(', ') : ''}</td>
      </tr>`,
  )}`;
}

function textFilter(name: keyof EventQuery, label: string, q: EventQuery): SafeHtml {
  return html`<label
    >${label}<input type="text" name="${name}" value="${String(q[name])}" autocomplete="off"
  /></label>`;
}

/** The live events view: filters, the table, and paging. */
export function eventsView(q: EventQuery, page: EventPage): SafeHtml {
  const next = new URLSearchParams();
  for (const k of ['user', 'session', 'feature', 'key', 'model', 'status', 'since'] as const)
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
      <label
        >Since<input type="text" name="since" value="${q.since}" placeholder="24h, 7d or ISO time"
      /></label>
      <button type="submit">Filter</button>
      <a href="/ui/events">Clear</a>
      <label class="live-toggle"
        ><span
          ><input type="checkbox" id="live" ${q.before ? '' : html`checked`} /> Live (refresh every 5 s)</span
        ></label
      >
      <span id="refreshed" class="muted" aria-live="polite"></span>
    </form>
    <table aria-label="Events, newest first">
      <thead>
        <tr>
          <th scope="col">Time (UTC)</th>
          <th scope="col">Status</th>
          <th scope="col">User</th>
          <th scope="col">Session</th>
          <th scope="col">Feature</th>
          <th scope="col">Model</th>
          <th scope="col">Key</th>
          <th scope="col" class="num">Tokens</th>
          <th scope="col" class="num">Cost</th>
          <th scope="col">Redactions</th>
        </tr>
      </thead>
      <tbody id="events-body">
        ${eventRows(page.events)}
      </tbody>
    </table>
    <div class="pager">
      ${page.next_before ? html`<a href="/ui/events?${next.toString()}" rel="next">Older events →</a>` : html`<span class="muted">End of the list.</span>`}
    </div>`;
}
