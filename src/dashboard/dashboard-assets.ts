/**
 * The dashboard's only static files, kept as modules so `tsc` ships them in dist/ with the rest
 * (no copy step, nothing fetched from a CDN: the dashboard works offline).
 */

/** The stylesheet. Status is always written as text; colour only repeats it. */
export const DASHBOARD_CSS = `
:root { --fg:#1b1f24; --muted:#57606a; --line:#d0d7de; --bg:#fff; --panel:#f6f8fa; --accent:#0b5cad; --bad:#a40e26; --ok:#116329; --warn:#7d4e00; }
:root { color-scheme: light dark; --hover:#f0f6fc; --input:#fff; --mark:#fff3b0; --redacted-bg:#ffe2e0; --redacted-fg:#82071e; }
@media (prefers-color-scheme: dark) {
  :root { --fg:#e6edf3; --muted:#9198a1; --line:#3d444d; --bg:#0d1117; --panel:#151b23; --accent:#4493f8; --bad:#ff7b72; --ok:#3fb950; --warn:#d29922; --hover:#1c2128; --input:#0d1117; --mark:#5a4a00; --redacted-bg:#5d0f12; --redacted-fg:#ffdcd7; }
}
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
tbody tr:hover { background:var(--hover); }
code, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12px; word-break:break-all; }
form.filters { display:flex; flex-wrap:wrap; gap:.5rem; align-items:flex-end; margin-bottom:.8rem; }
form.filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); }
input, select, button { font:inherit; padding:.3rem .45rem; border:1px solid var(--line); border-radius:6px; background:var(--input); color:var(--fg); }
input[type=text], input[type=password] { min-width:9rem; }
button { cursor:pointer; background:var(--accent); color:#fff; border-color:var(--accent); }
button.secondary { background:var(--input); color:var(--accent); }
:focus-visible { outline:3px solid var(--accent); outline-offset:2px; }
.skip { position:absolute; left:-999px; top:0; padding:.4rem .7rem; background:var(--accent); color:#fff; z-index:10; }
.skip:focus { left:.5rem; }
kbd { font:12px ui-monospace,monospace; border:1px solid var(--line); border-radius:4px; padding:0 .3rem; }
.table-wrap { overflow-x:auto; -webkit-overflow-scrolling:touch; }
.nowrap { white-space:nowrap; }
.small { font-size:12px; }
td.snippet { max-width:34rem; min-width:16rem; word-break:break-word; }
td.preview { max-width:28rem; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; color:var(--muted); }
.flag { display:inline-block; font-size:11px; font-weight:600; border:1px solid currentColor; border-radius:4px; padding:0 .3rem; margin:0 .15rem .15rem 0; }
.flag-anomalous, .flag-blocked { color:var(--bad); }
.flag-redacted { color:var(--warn); }
mark.redacted { background:var(--redacted-bg); color:var(--redacted-fg); border-radius:3px; padding:0 .15rem; font-weight:600; }
mark.hit { background:var(--mark); color:inherit; }
ol.conversation { list-style:none; margin:0; padding:0; display:flex; flex-direction:column; gap:.5rem; max-width:60rem; }
.msg { border:1px solid var(--line); border-radius:8px; padding:.45rem .7rem; background:var(--panel); }
.msg .role { font-size:12px; font-weight:700; color:var(--muted); text-transform:uppercase; letter-spacing:.03em; }
.msg .text { white-space:pre-wrap; word-break:break-word; }
.msg-user { border-left:4px solid var(--accent); }
.msg-assistant, .msg-response { border-left:4px solid var(--ok); }
.msg-system, .msg-developer, .msg-instructions { border-left:4px solid var(--muted); }
.msg-tool_call, .msg-tool, .msg-tool_output { border-left:4px solid var(--warn); }
form.filters label.grow { flex:1 1 20rem; }
form.filters label.grow input { width:100%; }
ul.related, ul.alerts-list { padding-left:1.2rem; }
p.links a { white-space:nowrap; }
}
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
figure.chart svg text { fill:var(--fg); }
figure.chart svg { max-width:100%; height:auto; }
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
.meter { display:inline-block; width:8rem; height:.7rem; border:1px solid var(--muted); border-radius:3px; vertical-align:middle; background:var(--bg); }
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
/* Phones (last, so it overrides the rules above). */
@media (max-width: 640px) {
  header { flex-wrap:wrap; gap:.4rem; padding:.4rem .6rem; }
  nav ul { flex-wrap:wrap; }
  header form { margin-left:0; }
  main { padding:.6rem; }
  .grid2 { grid-template-columns:1fr; }
  form.filters label, form.filters input, form.filters select { width:100%; }
  input[type=text], input[type=password] { min-width:0; }
  dl.fields { grid-template-columns:1fr; }
  td.preview { max-width:14rem; }
  /* A wide table scrolls in its own box; the page never scrolls sideways. */
  main table { display:block; overflow-x:auto; }
  .login { margin:1.5rem auto; }
`;

/**
 * The one script: keyboard shortcuts ("/" search, "g" then e/f/c/s/i for a view), and the live
 * events table refreshed in place while "Live" is ticked. Served from `/ui/assets/app.js` (the CSP
 * allows no inline script).
 */
export const DASHBOARD_JS = `
(function () {
  'use strict';
  // Keyboard: "/" focuses the search box (or opens the search page), "g e|s|c|i" goes to a view.
  var pending = null;
  document.addEventListener('keydown', function (ev) {
    var t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) return;
    if (ev.key === '/') {
      var box = document.getElementById('search-q');
      ev.preventDefault();
      if (box) box.focus(); else window.location.href = '/ui/search';
      return;
    }
    if (pending === 'g') {
      var to = { e: '/ui/events', s: '/ui/security', c: '/ui/cost', i: '/ui/integrity', f: '/ui/search' }[ev.key];
      pending = null;
      if (to) window.location.href = to;
      return;
    }
    if (ev.key === 'g') pending = 'g';
  });
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
