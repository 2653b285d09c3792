import type { SubjectActivity } from '../admin/investigation.js';
import type { AlertSubject } from '../alerting/alert.js';
import { eventRow, eventTableHead } from './events-view.js';
import { html, type SafeHtml } from './html-template.js';
import { shortTime } from './value-format.js';

const KIND_LABEL: Record<string, string> = {
  user: 'user',
  session: 'session',
  ip: 'IP',
  api_key: 'key',
  model: 'model',
};

/** The link to a subject's activity around a time (± 1 h). */
export function activityHref(subject: AlertSubject, atMs: number): string {
  const p = new URLSearchParams({
    kind: subject.kind,
    value: subject.value,
    at: new Date(atMs).toISOString(),
  });
  return `/ui/activity?${p.toString()}`;
}

/** A subject's requests around an alert or a time, and the other subjects of the same incident. */
export function activityView(a: SubjectActivity): SafeHtml {
  const mid = Math.round((a.fromMs + a.untilMs) / 2);
  return html`${
    a.alert
      ? html`<p class="notice" id="activity-alert">
          <span class="sev sev-${a.alert.severity}">${a.alert.severity}</span> <strong>${a.alert.title}</strong>
          <span class="muted">(${a.alert.rule_id}, first ${shortTime(a.alert.first_seen)}, last
            ${shortTime(a.alert.last_seen)})</span>
        </p>`
      : ''
  }
    <p>
      Requests of ${KIND_LABEL[a.subject.kind] ?? a.subject.kind} <strong class="mono">${a.subject.value}</strong>
      from ${shortTime(a.fromMs)} to ${shortTime(a.untilMs)}: <strong id="activity-count">${a.events.length}</strong>${a.truncated ? ' (the window held more than was read; narrow it)' : ''}.
      ${
        a.subject.kind === 'session'
          ? html`<a href="/ui/sessions/${encodeURIComponent(a.subject.value)}">Session timeline</a>`
          : ''
      }
    </p>
    <section aria-labelledby="related-h">
      <h2 id="related-h">Other subjects of this incident</h2>
      ${
        a.related.length === 0
          ? html`<p class="muted">None: no other user, key, IP or session in the evidence or in alerts of this window.</p>`
          : html`<ul class="related" id="related">
            ${a.related.map(
              (r) =>
                html`<li>
                  <a href="${activityHref(r.subject, mid)}"
                    >${KIND_LABEL[r.subject.kind] ?? r.subject.kind} <span class="mono">${r.subject.value}</span></a
                  >
                  <span class="muted">— ${r.why}</span>
                </li>`,
            )}
          </ul>`
      }
    </section>
    <h2>Requests, newest first</h2>
    ${
      a.events.length === 0
        ? html`<p class="muted">No requests by this subject in the window.</p>`
        : html`<div class="table-wrap">
          <table aria-label="Activity of the subject">
            ${eventTableHead()}
            <tbody>
              ${a.events.map((e) => eventRow(e))}
            </tbody>
          </table>
        </div>`
    }`;
}
