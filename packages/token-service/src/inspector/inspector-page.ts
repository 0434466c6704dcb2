// The request inspector's page (sandbox mode only): plain HTML, one script
// and one style sheet served from the same origin (the page's CSP allows
// nothing else). The script builds every element with textContent, never
// HTML from data.

/** Where each failing step's troubleshooting entry is linked: `…/troubleshooting.md#<code>`. */
export const TROUBLESHOOTING_URL = 'https://github.com/pushprov/pushprov/blob/main/docs/troubleshooting.md';

export const INSPECTOR_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Request inspector · token service sandbox</title>
<link rel="stylesheet" href="/sandbox/inspector/app.css">
<link rel="icon" href="/sandbox/inspector/icon.svg" type="image/svg+xml">
<script src="/sandbox/inspector/app.js" defer></script>
</head>
<body>
<header>
  <h1>Request inspector</h1>
  <p class="sub">Sandbox only. Why was this request refused? Each validation step of the specification (section 6), as a dry run that changes nothing: no idempotency key taken, no rate limit counted, no request used up, no token issued. Card numbers are masked.</p>
</header>
<main>
  <section aria-labelledby="recent-title">
    <h2 id="recent-title">Recent requests</h2>
    <form id="find-form" class="row">
      <label for="find-id">Request id or correlation id</label>
      <input id="find-id" name="id" autocomplete="off" spellcheck="false" placeholder="req_… or cor_…">
      <button type="submit" id="find-button">Find</button>
      <button type="button" id="refresh-button">Refresh</button>
    </form>
    <table id="recent"><thead><tr><th>time</th><th>request id</th><th>correlation id</th><th>status</th><th>code</th><th></th></tr></thead><tbody></tbody></table>
    <p id="recent-empty" class="muted">No provisioning request yet.</p>
  </section>
  <section aria-labelledby="paste-title">
    <h2 id="paste-title">Inspect a submission</h2>
    <form id="paste-form">
      <label for="submission">Submission (the JSON body of POST /v1/provisioning-requests)</label>
      <textarea id="submission" rows="8" spellcheck="false" placeholder='{"type":"submission","version":1,…}'></textarea>
      <div class="row">
        <label for="wallet-provider">Compare the binding with wallet provider</label>
        <select id="wallet-provider"><option value="">the one the claims name</option></select>
        <button type="submit" id="inspect-button">Inspect</button>
      </div>
    </form>
  </section>
  <section id="report" aria-live="polite" hidden>
    <h2>Report</h2>
    <p id="outcome"></p>
    <p id="request-facts" class="muted"></p>
    <table id="steps"><thead><tr><th>#</th><th>step</th><th>result</th><th>code</th><th>notes</th></tr></thead><tbody></tbody></table>
    <div id="binding-box" hidden><h3>Binding: the claims beside the submission</h3>
      <table id="binding"><thead><tr><th>field</th><th>signed by the issuer</th><th>submitted</th><th></th></tr></thead><tbody></tbody></table></div>
    <div class="parts">
      <div id="jwe-box" hidden><h3>JWE header</h3><pre id="jwe-header"></pre></div>
      <div id="jws-box" hidden><h3>JWS header</h3><pre id="jws-header"></pre></div>
      <div id="claims-box" hidden><h3>Claims (card number masked)</h3><pre id="claims"></pre></div>
    </div>
  </section>
  <p id="error" role="alert" hidden></p>
</main>
</body>
</html>
`;

export const INSPECTOR_ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="7" cy="7" r="5" fill="none" stroke="#2b59c3" stroke-width="2"/><path d="M11 11l4 4" stroke="#2b59c3" stroke-width="2"/></svg>';

export const INSPECTOR_STYLE = `
:root { color-scheme: light; font: 15px/1.45 system-ui, sans-serif; color: #1d2430; background: #f6f7f9; }
body { margin: 0; }
header, main { max-width: 1100px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; }
h1 { margin: 0 0 4px; font-size: 24px; }
h2 { font-size: 18px; margin: 0 0 10px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
.sub, .muted { color: #5b6472; }
section { background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 16px; margin: 16px 0; }
.row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 8px 0; }
label { font-weight: 600; }
input, select, textarea { font: 13px ui-monospace, monospace; padding: 6px 8px; border: 1px solid #b9c0ca; border-radius: 6px; }
input { min-width: 280px; }
textarea { width: 100%; box-sizing: border-box; margin-top: 6px; }
button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid #2b59c3; background: #2b59c3; color: #fff; cursor: pointer; }
button[type=button] { background: #fff; color: #2b59c3; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eceff3; vertical-align: top; }
td.mono, pre { font: 12.5px/1.4 ui-monospace, monospace; }
pre { background: #f3f5f8; padding: 8px; border-radius: 6px; overflow: auto; max-height: 360px; margin: 0; }
tr[data-status=failed] { background: #fdecec; }
tr[data-status=passed] td.result { color: #1b7a3a; }
tr[data-status=failed] td.result { color: #b3261e; font-weight: 700; }
tr[data-status=not_reached] td, tr[data-status=not_checked] td.result { color: #7a828f; }
tr[data-matches=false] { background: #fdecec; }
#outcome { font-weight: 700; font-size: 16px; }
#outcome[data-status=failed] { color: #b3261e; }
#outcome[data-status=passed] { color: #1b7a3a; }
#error { color: #b3261e; font-weight: 600; }
.parts { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
`;

export const INSPECTOR_SCRIPT = `'use strict';
(function () {
  var DOCS = ${JSON.stringify(TROUBLESHOOTING_URL)};
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function showError(message) { var e = $('error'); e.textContent = message; e.hidden = false; }
  function clearError() { $('error').hidden = true; }
  async function call(path, init) {
    var response = await fetch(path, init);
    var body = await response.json().catch(function () { return null; });
    if (!response.ok) throw new Error((body && (body.detail || body.title)) || ('HTTP ' + response.status));
    return body;
  }
  var RESULT = { passed: 'passed', failed: 'failed', not_reached: 'not reached', not_checked: 'not checked' };
  function render(report) {
    clearError();
    $('report').hidden = false;
    var outcome = $('outcome');
    outcome.dataset.status = report.outcome.status;
    outcome.textContent = report.outcome.status === 'failed'
      ? 'Refused at step ' + report.outcome.step + ' (' + nameOf(report, report.outcome.step) + '): ' + report.outcome.code
      : 'No step refused it';
    var facts = $('request-facts');
    facts.textContent = report.request
      ? 'Request ' + report.request.requestId + ' · correlation ' + report.request.correlationId + ' · ' + report.request.at + ' · HTTP ' + report.request.status + (report.walletProviderId ? ' · wallet provider ' + report.walletProviderId : '')
      : 'A pasted submission (dry run)' + (report.walletProviderId ? ' · compared with wallet provider ' + report.walletProviderId : '');
    var tbody = $('steps').tBodies[0];
    tbody.replaceChildren();
    report.steps.forEach(function (s) {
      var tr = el('tr', null, { 'data-step': String(s.step), 'data-status': s.status });
      tr.append(el('td', s.step), el('td', s.name), el('td', RESULT[s.status] || s.status, { class: 'result' }), el('td', s.code || '', { class: 'mono' }));
      var notes = el('td');
      if (s.message) notes.append(el('div', s.message, { class: 'message' }));
      if (s.note) notes.append(el('div', s.note, { class: 'note muted' }));
      if (s.troubleshooting) {
        var a = el('a', 'Troubleshooting: ' + s.code, { href: DOCS + '#' + s.code, target: '_blank', rel: 'noopener noreferrer', class: 'troubleshooting', 'data-doc': s.troubleshooting });
        notes.append(a);
      }
      tr.append(notes);
      tbody.append(tr);
    });
    var binding = $('binding').tBodies[0];
    binding.replaceChildren();
    $('binding-box').hidden = !report.binding;
    (report.binding || []).forEach(function (row) {
      var tr = el('tr', null, { 'data-field': row.field, 'data-matches': String(row.matches) });
      tr.append(el('td', row.field), el('td', row.claim === undefined ? '(none)' : row.claim, { class: 'mono claim' }), el('td', row.submission === undefined ? '(none)' : row.submission, { class: 'mono submitted' }), el('td', row.matches ? 'matches' : 'differs'));
      binding.append(tr);
    });
    part('jwe', 'jwe-header', report.jweHeader);
    part('jws', 'jws-header', report.jwsHeader);
    part('claims', 'claims', report.claims);
  }
  function part(box, id, value) {
    $(box + '-box').hidden = !value;
    $(id).textContent = value ? JSON.stringify(value, null, 2) : '';
  }
  function nameOf(report, n) {
    var s = report.steps.find(function (x) { return x.step === n; });
    return s ? s.name : '';
  }
  async function loadRecent() {
    var data = await call('/sandbox/inspector/requests');
    var select = $('wallet-provider');
    if (select.options.length === 1) data.walletProviders.forEach(function (id) { select.append(el('option', id, { value: id })); });
    var tbody = $('recent').tBodies[0];
    tbody.replaceChildren();
    $('recent-empty').hidden = data.requests.length > 0;
    data.requests.forEach(function (r) {
      var tr = el('tr', null, { 'data-request-id': r.requestId });
      var button = el('button', 'Inspect', { type: 'button', class: 'inspect-recent' });
      button.addEventListener('click', function () { find(r.requestId); });
      var cell = el('td');
      cell.append(button);
      tr.append(el('td', r.at), el('td', r.requestId, { class: 'mono' }), el('td', r.correlationId, { class: 'mono' }), el('td', r.status), el('td', r.code || '', { class: 'mono' }), cell);
      tbody.append(tr);
    });
  }
  async function find(id) {
    try { render(await call('/sandbox/inspector/requests/' + encodeURIComponent(id))); } catch (e) { showError(e.message); }
  }
  document.addEventListener('DOMContentLoaded', function () {
    $('find-form').addEventListener('submit', function (event) { event.preventDefault(); var id = $('find-id').value.trim(); if (id) find(id); });
    $('refresh-button').addEventListener('click', function () { loadRecent().catch(function (e) { showError(e.message); }); });
    $('paste-form').addEventListener('submit', async function (event) {
      event.preventDefault();
      // The text as pasted: the service parses it strictly, as step 3 does.
      var text = $('submission').value;
      try {
        render(await call('/sandbox/inspector/inspect', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ submission: text, walletProviderId: $('wallet-provider').value }) }));
      } catch (e) { showError(e.message); }
    });
    loadRecent().catch(function (e) { showError(e.message); });
  });
})();
`;
