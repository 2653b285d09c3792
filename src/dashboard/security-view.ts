import { formatFigure } from '../alerting/alert-figures.js';
import type { Alert } from '../alerting/alert.js';
import type { SecuritySummary } from '../admin/security-summary.js';
import { html, type SafeHtml } from './html-template.js';
import { card } from './page-layout.js';
import { barChart } from './svg-chart.js';
import { bucketLabel, int, percent, shortTime } from './value-format.js';
import type { ProviderQuotaRow } from '../reports/provider-quota.js';

/** The provider's quota per provider key: latest reading and the lowest share of the window. */
function providerQuotaSection(q: SecuritySummary['provider_quota']): SafeHtml {
  const share = (x: number | null): string => (x === null ? '—' : percent(x));
  const row = (r: ProviderQuotaRow): SafeHtml =>
    html`<tr data-key="${r.key}" data-kind="${r.kind}">
      <td class="mono">${r.key}</td>
      <td>${r.provider ?? '—'}</td>
      <td>${r.kind}</td>
      <td class="num">${int(r.remaining)}</td>
      <td class="num">${r.limit === null ? '—' : int(r.limit)}</td>
      <td class="num">${share(r.share)}</td>
      <td class="mono">${r.reset === null ? '—' : shortTime(r.reset)}</td>
      <td class="num">${share(r.lowest_share)}</td>
      <td class="mono">${r.lowest_at === null ? '—' : shortTime(r.lowest_at)}</td>
      <td class="num">${int(r.readings)}</td>
    </tr>`;
  return html`<h2>Provider quota</h2>
    ${
      q.rows.length === 0
        ? html`<p class="muted">No provider sent rate-limit headers in this window.</p>`
        : html`<table aria-label="Provider quota by provider key" data-table="provider-quota">
              <thead>
                <tr>
                  <th scope="col">Provider key (fingerprint)</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Kind</th>
                  <th scope="col" class="num">Remaining</th>
                  <th scope="col" class="num">Limit</th>
                  <th scope="col" class="num">Left</th>
                  <th scope="col">Resets</th>
                  <th scope="col" class="num">Lowest left</th>
                  <th scope="col">Lowest at</th>
                  <th scope="col" class="num">Readings</th>
                </tr>
              </thead>
              <tbody>
                ${q.rows.map(row)}
              </tbody>
            </table>
`
    }`;
}

function alertRow(a: Alert, csrf: string): SafeHtml {
  const f = a.evidence.figures;
  const ids = a.evidence.event_ids;
  return html`<tr data-alert-id="${a.id}" data-rule="${a.rule_id}">
    <td><span class="sev sev-${a.severity}">${a.severity}</span></td>
    <td>
      <strong>${a.title}</strong><br /><span class="muted"
        >${a.rule_id} · ${a.subject.kind} <span class="mono">${a.subject.value}</span></span
      ><br />${a.description}
    </td>
    <td>
      observed
      <strong>${formatFigure(f.observed, f.unit)}</strong
      >${f.baseline !== null ? ` (baseline ${formatFigure(f.baseline, f.unit)})` : ''}, threshold
      ${formatFigure(f.threshold, f.unit)}${f.window_ms > 0 ? ` in ${Math.round(f.window_ms / 1000)} s` : ''};
      peak ${formatFigure(a.evidence.peak_observed, f.unit)}.<br />
      <a class="activity-link" href="/ui/activity?alert=${encodeURIComponent(a.id)}"
        >Activity ± 1 h and related subjects</a
      ><br />
      ${ids.length === 0 ? html`<span class="muted">no event ids</span>` : html`Events: ${ids.slice(0, 5).map((id, i) => html`${i > 0 ? ', ' : ''}<a class="mono" href="/ui/events/${encodeURIComponent(id)}">${id.slice(-8)}</a>`)}${ids.length > 5 || a.evidence.evidence_truncated ? html` <span class="muted">and more (${a.count} in all)</span>` : ''}`}
    </td>
    <td class="mono">${shortTime(a.first_seen)}<br />${shortTime(a.last_seen)}</td>
    <td class="num">${a.count}</td>
    <td>
      ${
        a.status === 'open'
          ? html`<span class="status bad">OPEN</span>
              <form method="post" action="/ui/alerts/${encodeURIComponent(a.id)}/ack">
                <input type="hidden" name="csrf" value="${csrf}" /><button
                  type="submit"
                  aria-label="Acknowledge alert: ${a.title}"
                >
                  Acknowledge
                </button>
              </form>`
          : html`<span class="status ok">ACKNOWLEDGED</span><br /><span class="muted"
                >by ${a.acknowledged_by ?? '?'} ${a.acknowledged_at ? shortTime(a.acknowledged_at) : ''}</span
              >`
      }
    </td>
  </tr>`;
}

/** The security view: alerts first (what needs a human), then the figures. */
export function securityView(s: SecuritySummary, since: string, csrf: string): SafeHtml {
  const label = (t: number): string => bucketLabel(t, s.bucket_ms);
  const unit = s.bucket_ms < 86_400_000 ? 'hour' : 'day';
  const open = s.alerts.filter((a) => a.status === 'open').length;
  const redactionHits = s.redactions.hits.reduce((n, r) => n + r.hits, 0);
  const requests = s.error_rates.over_time.reduce((n, b) => n + b.requests, 0);
  const errors = s.error_rates.over_time.reduce((n, b) => n + b.errors, 0);
  return html`<form class="filters" method="get" action="/ui/security" aria-label="Security window">
      <label
        >Since<input type="text" name="since" value="${since}" placeholder="24h, 7d or ISO time"
      /></label>
      <button type="submit">Show</button>
      <span class="muted">Window ${shortTime(s.since)} → ${shortTime(s.until)}.</span>
    </form>
    <div class="cards">
      ${card('Open alerts', int(open), 'open-alerts')}
      ${card('Auth failures', html`${int(s.auth_failures.total)}${s.auth_failures.truncated ? '+' : ''}`, 'auth-failures')}
      ${card('Non-success rate', requests === 0 ? '—' : percent(errors / requests), 'error-rate')}
      ${card('Redaction hits', int(redactionHits), 'redaction-hits')}
    </div>
    <h2>Alerts</h2>
    ${
      s.alerts.length === 0
        ? html`<p class="muted">No alerts in this window.</p>`
        : html`<table aria-label="Alerts, newest first" data-table="alerts">
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col">Alert</th>
                <th scope="col">Evidence</th>
                <th scope="col">First / last seen</th>
                <th scope="col" class="num">Events</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              ${s.alerts.map((a) => alertRow(a, csrf))}
            </tbody>
          </table>`
    }
    ${providerQuotaSection(s.provider_quota)}
    <div class="grid2">
      <section>
        <h2>Authentication failures</h2>
        ${barChart({ id: 'auth-failures', title: `Auth failures per ${unit}`, points: s.auth_failures.over_time.map((b) => ({ label: label(b.start_ms), value: b.value })), format: int })}
        <table aria-label="Auth failures by key">
          <thead>
            <tr>
              <th scope="col">Key (prefix… fingerprint)</th>
              <th scope="col" class="num">Failures</th>
              <th scope="col">Last</th>
            </tr>
          </thead>
          <tbody>
            ${
              s.auth_failures.by_key.length === 0
                ? html`<tr>
                    <td colspan="3" class="muted">none</td>
                  </tr>`
                : s.auth_failures.by_key.map(
                    (k) =>
                      html`<tr>
                        <td class="mono">
                          ${k.prefix !== null && k.prefix !== k.key ? `${k.prefix}… ${k.key.slice(0, 12)}` : k.key}
                        </td>
                        <td class="num">${int(k.failures)}</td>
                        <td class="mono">${shortTime(k.last_seen)}</td>
                      </tr>`,
                  )
            }
          </tbody>
        </table>
        <table aria-label="Auth failures by IP">
          <thead>
            <tr>
              <th scope="col">IP</th>
              <th scope="col" class="num">Failures</th>
              <th scope="col" class="num">Distinct keys</th>
              <th scope="col">Last</th>
            </tr>
          </thead>
          <tbody>
            ${
              s.auth_failures.by_ip.length === 0
                ? html`<tr>
                    <td colspan="4" class="muted">none</td>
                  </tr>`
                : s.auth_failures.by_ip.map(
                    (i) =>
                      html`<tr>
                        <td class="mono">${i.ip}</td>
                        <td class="num">${int(i.failures)}</td>
                        <td class="num">${i.distinct_keys}</td>
                        <td class="mono">${shortTime(i.last_seen)}</td>
                      </tr>`,
                  )
            }
          </tbody>
        </table>
      </section>
      <section>
        <h2>Error rates</h2>
        ${barChart({ id: 'errors', title: `Non-success requests per ${unit}`, points: s.error_rates.over_time.map((b) => ({ label: label(b.start_ms), value: b.errors })), format: int })}
        <table aria-label="Error rate by model">
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col" class="num">Requests</th>
              <th scope="col" class="num">Non-success</th>
              <th scope="col" class="num">Rate</th>
            </tr>
          </thead>
          <tbody>
            ${s.error_rates.by_model.map(
              (m) =>
                html`<tr>
                  <td>${m.model}</td>
                  <td class="num">${int(m.requests)}</td>
                  <td class="num">${int(m.errors)}</td>
                  <td class="num">${percent(m.rate)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        <h2>Redaction hits</h2>
        ${
          s.redactions.hits.length === 0
            ? html`<p class="muted">Nothing redacted in this window.</p>`
            : html`<table aria-label="Redaction hits by type" data-table="redactions">
                  <thead>
                    <tr>
                      <th scope="col">Type</th>
                      <th scope="col" class="num">Hits</th>
                      <th scope="col" class="num">Events</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${s.redactions.hits.map(
                      (r) =>
                        html`<tr>
                          <td>${r.type}</td>
                          <td class="num">${int(r.hits)}</td>
                          <td class="num">${int(r.events)}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>
                ${s.redactions.sampled ? html`<p class="muted">Counted over the newest 20,000 events of the window.</p>` : ''}`
        }
      </section>
    </div>`;
}
