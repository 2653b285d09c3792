import type { AuditEvent } from '../core/audit-event.js';
import { searchTerms } from '../store/content-search.js';
import { eventRow, eventTableHead } from './events-view.js';
import { markRedactions } from './conversation.js';
import { html, type SafeHtml } from './html-template.js';

/** Where the first term occurs in the stored content, with some context, the term marked. */
export function matchSnippet(e: AuditEvent, text: string, around = 60): SafeHtml {
  const content = [e.prompt, e.response].filter((v): v is string => v !== null).join('\n');
  const terms = searchTerms(text);
  const lower = content.toLowerCase();
  let at = -1;
  let len = 0;
  for (const t of terms) {
    const i = lower.indexOf(t.toLowerCase());
    if (i >= 0 && (at < 0 || i < at)) [at, len] = [i, t.length];
  }
  if (at < 0) return html`<span class="muted">matched in the event's fields</span>`;
  const start = Math.max(0, at - around);
  const end = Math.min(content.length, at + len + around);
  const flat = (s: string): string => s.replace(/\s+/g, ' ');
  return html`${start > 0 ? '…' : ''}${markRedactions(flat(content.slice(start, at)))}<mark class="hit"
      >${flat(content.slice(at, at + len))}</mark
    >${markRedactions(flat(content.slice(at + len, end)))}${end < content.length ? '…' : ''}`;
}

/** The search page: a query over stored (redacted) content and fields, with a time range. */
export function searchView(
  q: { text: string; since: string; until: string },
  results: AuditEvent[] | null,
  limit: number,
): SafeHtml {
  return html`<form class="filters" method="get" action="/ui/search" role="search" aria-label="Search events">
      <label class="grow"
        ><span>Words in prompts, responses and fields (<kbd>/</kbd> to focus)</span
        ><input
          type="search"
          id="search-q"
          name="q"
          value="${q.text}"
          placeholder='e.g. REDACTED aws_access_key, "deploy fails", alice'
          autocomplete="off"
      /></label>
      <label>Since<input type="text" name="since" value="${q.since}" placeholder="24h, 7d or ISO time" /></label>
      <label>Until<input type="text" name="until" value="${q.until}" placeholder="now" /></label>
      <button type="submit">Search</button>
    </form>
    <p class="muted small">
      Searches what is stored: redacted content (a secret is found by its marker, e.g.
      <code>aws_access_key</code>, never by its value), and user, session, feature, model, key prefix,
      request id, IP and error. Encrypted content is not searched. Every word must match; quote a
      phrase.
    </p>
    ${
      results === null
        ? ''
        : html`<p id="search-count" aria-live="polite">
            ${results.length === 0 ? 'No event matches.' : `${results.length}${results.length === limit ? '+' : ''} event${results.length === 1 ? '' : 's'}, newest first.`}
          </p>
          ${
            results.length
              ? html`<div class="table-wrap">
                <table aria-label="Search results">
                  ${eventTableHead('Match')}
                  <tbody>
                    ${results.map((e) => eventRow(e, matchSnippet(e, q.text)))}
                  </tbody>
                </table>
              </div>`
              : ''
          }`
    }`;
}
