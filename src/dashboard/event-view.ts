import { AUDIT_EVENT_FIELDS } from '../core/audit-event.js';
import type { EventDetail } from '../admin/event-detail.js';
import { activityHref } from './activity-view.js';
import { conversationView } from './conversation.js';
import { eventFlags } from './events-view.js';
import { html, type SafeHtml } from './html-template.js';

function fieldValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** One event: the chain check first, then its redactions, then every field. */
export function eventView(d: EventDetail): SafeHtml {
  const e = d.event;
  const c = d.chain;
  const mark = c.verified
    ? html`<strong class="ok" data-verified="true">✔ Verified</strong> — the stored hash matches the event's
        fields and links to the previous event.`
    : html`<strong class="bad" data-verified="false">✘ NOT verified</strong> —
        ${!c.hash_ok ? 'the event does not hash to its stored hash (changed after it was written)' : 'its prev_hash does not match the previous event (chain broken here)'};
        run a full verify on the Integrity view.`;
  const at = Date.parse(e.timestamp);
  const around: SafeHtml[] = [];
  if (e.session_id)
    around.push(html`<a href="/ui/sessions/${encodeURIComponent(e.session_id)}">Session timeline</a>`);
  if (e.user_id)
    around.push(
      html`<a href="${activityHref({ kind: 'user', value: e.user_id }, at)}">User's activity ± 1 h</a>`,
    );
  if (e.ip_address)
    around.push(
      html`<a href="${activityHref({ kind: 'ip', value: e.ip_address }, at)}">IP's activity ± 1 h</a>`,
    );
  return html`<p class="links">
      <a href="/ui/events">← Live events</a>${around.map((a) => html` · ${a}`)}
    </p>
    <p>
      <span class="status status-${e.status}">${e.status}</span> ${e.model_used ?? e.model_requested ?? ''}
      ${eventFlags(e)}
    </p>
    <section aria-labelledby="conv-h">
      <h2 id="conv-h">Conversation</h2>
      ${conversationView(e)}
    </section>
    <section aria-labelledby="chain-h">
      <h2 id="chain-h">Chain position</h2>
      <p class="notice${c.verified ? '' : ' error'}" id="chain-mark">
        ${c.chain_id === null ? html`<strong class="warn">Not chained</strong> — this event has no chain position.` : mark}
      </p>
      <dl class="fields">
        <dt>Chain</dt>
        <dd class="mono">${c.chain_id ?? '—'}</dd>
        <dt>Position</dt>
        <dd>
          ${c.seq === null ? '—' : html`seq <strong>${c.seq}</strong>${c.chain_length !== null ? ` of ${c.chain_length}` : ''}`}
        </dd>
        <dt>Hash</dt>
        <dd class="mono">${c.hash ?? '—'} (${c.hash_ok ? 'matches' : 'does not match'})</dd>
        <dt>Previous hash</dt>
        <dd class="mono">${c.prev_hash ?? '—'} (${c.link_ok ? 'links' : 'does not link'})</dd>
      </dl>
      <p>
        <a href="/admin/events/${encodeURIComponent(e.id)}?proof=1">Inclusion proof (JSON)</a>
        <span class="muted">— against the newest signed checkpoint covering this event.</span>
      </p>
    </section>
    <section aria-labelledby="red-h">
      <h2 id="red-h">Redactions</h2>
      ${
        e.redactions.length === 0
          ? html`<p class="muted">Nothing was redacted (content mode: ${e.content_mode}).</p>`
          : html`<table aria-label="Redactions">
              <thead>
                <tr>
                  <th scope="col">Type</th>
                  <th scope="col" class="num">Count</th>
                </tr>
              </thead>
              <tbody>
                ${e.redactions.map(
                  (r) =>
                    html`<tr>
                      <td>${r.type}</td>
                      <td class="num">${r.count}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    </section>
    <section aria-labelledby="fields-h">
      <h2 id="fields-h">All fields</h2>
      <div class="table-wrap"><table aria-label="Event fields">
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          ${AUDIT_EVENT_FIELDS.map(
            (f) =>
              html`<tr>
                <th scope="row" class="mono">${f}</th>
                <td class="mono" data-field="${f}">${fieldValue(e[f])}</td>
              </tr>`,
          )}
        </tbody>
      </table></div>
    </section>`;
}
