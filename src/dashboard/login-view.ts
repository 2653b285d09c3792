import { html, type SafeHtml } from './html-template.js';

/** The login form: the admin token, posted once; the browser keeps only a session cookie. */
export function loginView(error: string | null): SafeHtml {
  return html`<form class="login" method="post" action="/ui/login" aria-labelledby="login-h">
    <h2 id="login-h">Sign in</h2>
    ${error ? html`<p class="notice error" role="alert">${error}</p>` : ''}
    <label for="token">Admin token</label>
    <input type="password" id="token" name="token" autocomplete="current-password" required autofocus />
    <p class="muted">
      The content of <code>admin.token</code> in the data folder (or the configured <code>admin_token</code>).
      <code>tollgate serve</code> also prints a one-time sign-in link at each start.
    </p>
    <button type="submit">Sign in</button>
  </form>`;
}
