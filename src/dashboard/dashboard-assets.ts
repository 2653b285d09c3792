/**
 * The dashboard's only static files, kept as modules so `tsc` ships them in dist/ with the rest
 * (no copy step, nothing fetched from a CDN: the dashboard works offline).
 */

/** The stylesheet. Status is always written as text; colour only repeats it. */
export const DASHBOARD_CSS = `
:root { --fg:#1b1f24; --muted:#57606a; --line:#d0d7de; --bg:#fff; --panel:#f6f8fa; --accent:#0b5cad; --bad:#a40e26; --ok:#116329; --warn:#7d4e00; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); }
header { display:flex; align-items:center; gap:1.5rem; padding:.5rem 1rem; border-bottom:1px solid var(--line); background:var(--panel); }
header .brand { font-weight:700; font-size:1.05rem; }
nav ul { display:flex; gap:.25rem; list-style:none; margin:0; padding:0; }
nav a { display:block; padding:.35rem .7rem; border-radius:6px; text-decoration:none; }
nav a[aria-current="page"] { background:var(--accent); color:#fff; font-weight:600; }
header form { margin-left:auto; }
main { padding:1rem; max-width:1400px; }
h1 { font-size:1.3rem; margin:.2rem 0 .8rem; }
h2 { font-size:1.05rem; margin:1.4rem 0 .5rem; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { text-align:left; padding:.3rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:var(--panel); font-weight:600; position:sticky; top:0; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
tbody tr:hover { background:#f0f6fc; }
code, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12px; word-break:break-all; }
form.filters { display:flex; flex-wrap:wrap; gap:.5rem; align-items:flex-end; margin-bottom:.8rem; }
form.filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); }
input, select, button { font:inherit; padding:.3rem .45rem; border:1px solid var(--line); border-radius:6px; background:#fff; }
input[type=text], input[type=password] { min-width:9rem; }
button { cursor:pointer; background:var(--accent); color:#fff; border-color:var(--accent); }
button.secondary { background:#fff; color:var(--accent); }
.status { font-weight:600; white-space:nowrap; }
.status-SUCCESS, .ok { color:var(--ok); }
.status-AUTH_FAILED, .status-SERVER_ERROR, .status-BLOCKED, .status-TIMEOUT, .bad { color:var(--bad); }
.status-RATE_LIMITED, .status-CLIENT_ERROR, .status-CANCELLED, .warn { color:var(--warn); }
.sev { font-weight:700; }
.sev-CRITICAL, .sev-HIGH { color:var(--bad); }
.sev-MEDIUM { color:var(--warn); }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(11rem,1fr)); gap:.6rem; margin-bottom:.8rem; }
.card { border:1px solid var(--line); border-radius:8px; padding:.5rem .7rem; background:var(--panel); }
.card .label { font-size:12px; color:var(--muted); }
.card .value { font-size:1.25rem; font-weight:700; font-variant-numeric:tabular-nums; }
.grid2 { display:grid; grid-template-columns:repeat(auto-fit,minmax(30rem,1fr)); gap:1rem; }
figure.chart { margin:0 0 .5rem; border:1px solid var(--line); border-radius:8px; padding:.4rem .6rem; }
figure.chart svg { display:block; max-height:200px; }
figure.chart figcaption { font-size:12px; color:var(--muted); }
dl.fields { display:grid; grid-template-columns:max-content 1fr; gap:.15rem 1rem; margin:0; }
dl.fields dt { color:var(--muted); }
dl.fields dd { margin:0; }
.pager { margin:.6rem 0; display:flex; gap:1rem; align-items:center; }
.muted { color:var(--muted); }
.notice { padding:.5rem .8rem; border:1px solid var(--line); border-left:4px solid var(--accent); background:var(--panel); margin:.5rem 0; }
.notice.error { border-left-color:var(--bad); }
.login { max-width:26rem; margin:4rem auto; border:1px solid var(--line); border-radius:10px; padding:1.2rem 1.4rem; }
.login label { display:block; margin:.6rem 0 .25rem; }
.login input { width:100%; }
.login button { margin-top:.8rem; }
.meter { display:inline-block; width:8rem; height:.7rem; border:1px solid var(--muted); border-radius:3px; vertical-align:middle; background:#fff; }
.meter > span { display:block; height:100%; background:var(--accent); }
.meter > span.w0 { width:0%; }
.meter > span.w1 { width:10%; }
.meter > span.w2 { width:20%; }
.meter > span.w3 { width:30%; }
.meter > span.w4 { width:40%; }
.meter > span.w5 { width:50%; }
.meter > span.w6 { width:60%; }
.meter > span.w7 { width:70%; }
.meter > span.w8 { width:80%; }
.meter > span.w9 { width:90%; }
.meter > span.w10 { width:100%; }
.sr-only { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
`;

/**
 * The one script: refreshes the live events table in place while "Live" is ticked. Served from
 * `/ui/assets/app.js` (the CSP allows no inline script).
 */
export const DASHBOARD_JS = `
(function () {
  'use strict';
  var table = document.getElementById('events-body');
  var live = document.getElementById('live');
  var stamp = document.getElementById('refreshed');
  if (!table || !live) return;
  function refresh() {
    if (!live.checked || document.hidden) return;
    var url = new URL(window.location.href);
    url.searchParams.set('fragment', 'rows');
    url.searchParams.delete('before');
    fetch(url.toString(), { credentials: 'same-origin', headers: { 'accept': 'text/html' } })
      .then(function (r) {
        // A redirect means the session ended (the login page came back): keep the table as it is.
        if (r.status === 200 && !r.redirected) return r.text();
        throw new Error('status ' + r.status);
      })
      .then(function (body) {
        table.innerHTML = body;
        if (stamp) stamp.textContent = 'updated ' + new Date().toLocaleTimeString();
      })
      .catch(function () { if (stamp) stamp.textContent = 'refresh failed (session expired?)'; });
  }
  setInterval(refresh, 5000);
})();
`;

/** The tab icon (served, so the browser does not ask the gateway for /favicon.ico). */
export const DASHBOARD_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b5cad"/><path d="M3 5h10v2H9v6H7V7H3z" fill="#fff"/></svg>`;
