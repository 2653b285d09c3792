import { html, type SafeHtml } from './html-template.js';

/** The login form: the admin token, posted once; the browser keeps only a session cookie. */
export function loginView(error: string | null): SafeHtml {
  return html`<form class="login" method="post" action="/ui/login" aria-labelledby="login-h">
    <h2 id="login-h">Sign in</h2>
    ${error ? html`<p class="notice error" role="alert">${error}</p>` : ''}
    <label for="token">Admin token</label>
    <input type="password" id="token" name="token" autocomplete="current-password" required autofocus />
    <p class="muted">
      Printed by <code>tollgate serve</code> when it was created, stored in <code>admin.token</code> in the
      data folder (or set as <code>admin_token</code>).
    </p>
    <button type="submit">Sign in</button>
  </form>`;
}
