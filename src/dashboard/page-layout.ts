import { html, type HtmlValue, type SafeHtml } from './html-template.js';

export type DashboardView = 'events' | 'search' | 'cost' | 'security' | 'integrity';

const NAV: { view: DashboardView; label: string }[] = [
  { view: 'events', label: 'Live events' },
  { view: 'search', label: 'Search' },
  { view: 'cost', label: 'Cost' },
  { view: 'security', label: 'Security' },
  { view: 'integrity', label: 'Integrity' },
];

/** The page frame: navigation, logout (a CSRF-protected POST) and the content. */
export function pageLayout(o: {
  title: string;
  view: DashboardView | null;
  csrf: string | null;
  body: HtmlValue;
  script?: boolean;
}): SafeHtml {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${o.title} · Tollgate</title>
        <link rel="icon" href="/ui/assets/icon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/ui/assets/app.css" />
        ${o.script ? html`<script src="/ui/assets/app.js" defer></script>` : ''}
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <span class="brand">Tollgate</span>
          ${
            o.csrf === null
              ? ''
              : html`<nav aria-label="Views">
                    <ul>
                      ${NAV.map(
                        (n) =>
                          html`<li>
                            <a href="/ui/${n.view}" ${n.view === o.view ? html`aria-current="page"` : ''}
                              >${n.label}</a
                            >
                          </li>`,
                      )}
                    </ul>
                  </nav>
                  <form method="post" action="/ui/logout">
                    <input type="hidden" name="csrf" value="${o.csrf}" /><button
                      class="secondary"
                      type="submit"
                    >
                      Log out
                    </button>
                  </form>`
          }
        </header>
        <main id="main" tabindex="-1">
          <h1>${o.title}</h1>
          ${o.body}
        </main>
      </body>
    </html>`;
}

/** A labelled figure card. */
export function card(label: string, value: HtmlValue, id?: string): SafeHtml {
  return html`<div class="card" ${id ? html` data-card="${id}"` : ''}>
    <div class="label">${label}</div>
    <div class="value">${value}</div>
  </div>`;
}
