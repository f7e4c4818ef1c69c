/**
 * The admin page at /ui: one self-contained HTML document (no external assets, so it works on
 * an air-gapped admin port) that polls the JSON debug endpoints once a second. Every piece of
 * data reaches the page through textContent or a whitelisted class name, never as markup: pod
 * names, node ids and error messages come from outside and must not become HTML.
 *
 * The script is plain ES2017 in a string; it avoids template literals so this file can hold it
 * in one.
 */

const STYLE = `
:root { --ok: #1a7f37; --warn: #b7791f; --bad: #c62828; --muted: #6b7280; --line: #e5e7eb; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #111827; background: #f9fafb; }
header { display: flex; gap: 16px; align-items: center; padding: 10px 20px; background: #111827; color: #f9fafb; }
header h1 { font-size: 18px; margin: 0; }
header .meta { color: #d1d5db; font-size: 12px; margin-left: auto; }
main { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); gap: 16px; padding: 16px 20px; }
@media (max-width: 900px) { main { grid-template-columns: minmax(0, 1fr); } }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 0; overflow-x: auto; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 15px; margin: 0 0 8px; }
h3 { font-size: 13px; margin: 10px 0 4px; color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px 3px 0; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
th, .badge, .ep { white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; color: #fff; background: var(--muted); }
.badge.ok { background: var(--ok); } .badge.warn { background: var(--warn); } .badge.bad { background: var(--bad); }
.svc { border-top: 1px solid var(--line); padding: 6px 0; }
.svc-name { font-weight: 600; margin-right: 8px; }
.counts { color: var(--muted); font-size: 12px; }
.eps { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; }
.ep { font: 12px ui-monospace, monospace; padding: 1px 6px; border-radius: 4px; color: #fff; }
.ep-healthy { background: var(--ok); } .ep-draining { background: var(--warn); } .ep-unhealthy { background: var(--bad); }
.muted { color: var(--muted); } .error { color: var(--bad); font-weight: 600; }
.legend span { margin-right: 6px; }
input { font: inherit; padding: 2px 6px; }
`;

const SCRIPT = `
'use strict';
var MAX_DETAILED = 25;
var RECENT_SHOWN = 15;
var state = { filter: '' };

function el(tag, cls, children) {
  var node = document.createElement(tag);
  if (cls) node.className = cls;
  (children || []).forEach(function (child) {
    if (child === null || child === undefined) return;
    node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  });
  return node;
}
function row(cells, header) {
  return el('tr', '', cells.map(function (c) { return el(header ? 'th' : 'td', '', [c]); }));
}
function table(headers, rows) {
  return el('table', '', [el('thead', '', [row(headers, true)]), el('tbody', '', rows)]);
}
function badge(text, tone) { return el('span', 'badge' + (tone ? ' ' + tone : ''), [text]); }
function replace(id, nodes) {
  var target = document.getElementById(id);
  while (target.firstChild) target.removeChild(target.firstChild);
  nodes.forEach(function (n) { target.appendChild(n); });
}
function ago(ms) {
  if (typeof ms !== 'number' || !isFinite(ms)) return '';
  var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 120 ? s + ' s ago' : Math.round(s / 60) + ' min ago';
}
function getJson(path) {
  return fetch(path, { cache: 'no-store' }).then(function (res) {
    return res.json().then(function (body) { return { status: res.status, body: body }; });
  });
}
function optional(path) {
  return getJson(path).then(function (r) { return r.status === 200 ? r.body : []; }, function () { return []; });
}

var HEALTH_CLASS = { HEALTHY: 'ep-healthy', DRAINING: 'ep-draining', UNHEALTHY: 'ep-unhealthy' };
var CLUSTER_TONE = { synced: 'ok', syncing: 'warn', unreachable: 'bad' };

function renderReady(r) {
  var ready = r.status === 200;
  replace('ready', [badge(ready ? 'ready' : 'not ready', ready ? 'ok' : 'bad')]);
  var reasons = (r.body && Array.isArray(r.body.reasons)) ? r.body.reasons : [];
  replace('reasons', reasons.length ? [el('span', 'error', [reasons.join('; ')])] : []);
}

function renderClusters(list) {
  if (!list.length) return replace('clusters', [el('p', 'muted', ['no Kubernetes clusters configured'])]);
  replace('clusters', [table(['cluster', 'state', 'ever synced', 'since', 'namespaces', 'last error'], list.map(function (c) {
    var namespaces = Array.isArray(c.namespaces) ? c.namespaces.join(', ') : 'all';
    return row([c.cluster, badge(String(c.state), CLUSTER_TONE[c.state] || ''), c.everSynced ? 'yes' : 'no', ago(c.lastChangeMs), namespaces, c.lastError || '']);
  }))]);
}

function endpointChip(e) {
  var health = HEALTH_CLASS[e.health] ? e.health : 'UNHEALTHY';
  var chip = el('span', 'ep ' + HEALTH_CLASS[health], [e.ip + ':' + e.port]);
  chip.setAttribute('data-health', health);
  chip.title = health + ' · ' + e.cluster + ' · ' + e.podKey + (e.zone ? ' · ' + e.zone : '');
  return chip;
}

function protocolText(s) {
  if (!s.protocol) return '';
  var text = ' · ' + s.protocol + (Array.isArray(s.protocolFrom) && s.protocolFrom.length ? ' (' + s.protocolFrom.join(', ').replace(/_/g, ' ') + ')' : '');
  if (s.protocolMixed) text += ' · pods disagree: ' + s.protocolMixed.votes['HTTP/2'] + ' HTTP/2, ' + s.protocolMixed.votes['HTTP/1.1'] + ' HTTP/1.1';
  if (Array.isArray(s.protocolIgnored) && s.protocolIgnored.length) text += ' · ' + s.protocolIgnored.length + ' pod(s) with an ignored herald.io/app-protocol';
  return text;
}

function renderServices(summaries, details) {
  var shown = summaries.filter(function (s) { return s.name.indexOf(state.filter) !== -1; });
  var nodes = [];
  if (!summaries.length) nodes.push(el('p', 'muted', ['no services yet']));
  shown.forEach(function (s) {
    var detail = details[s.name];
    var namespaces = Array.isArray(s.namespaces) ? s.namespaces : [];
    var identity = (namespaces.length === 1 ? 'namespace ' : 'namespaces ') + namespaces.join(', ') + ' · label ' + s.label;
    var counts = identity + ' · ' + s.endpoints + ' endpoints: ' + s.healthy + ' healthy, ' + s.draining + ' draining, ' + s.unhealthy + ' unhealthy · ' + s.pods + ' pods · ' + s.kubeClusters.join(', ') + protocolText(s);
    var eps = detail ? detail.endpoints.map(endpointChip) : [el('span', 'muted', ['(filter to see endpoints)'])];
    var block = el('div', 'svc', [el('span', 'svc-name', [s.name]), el('span', 'counts', [counts]), el('div', 'eps', eps)]);
    block.setAttribute('data-service', s.name);
    block.setAttribute('data-namespaces', namespaces.join(' '));
    nodes.push(block);
  });
  if (shown.length > MAX_DETAILED) nodes.push(el('p', 'muted', ['endpoints shown for ' + MAX_DETAILED + ' of ' + shown.length + ' services (draining ones first); filter to narrow']));
  replace('services', nodes);
}

function clientSync(c) {
  var types = c && c.types && typeof c.types === 'object' ? c.types : {};
  var kinds = Object.keys(types);
  if (!kinds.length) return { text: 'no requests yet', tone: 'warn' };
  for (var i = 0; i < kinds.length; i++) {
    var t = types[kinds[i]] || {};
    var sentVersion = t.lastSent && t.lastSent.version;
    if (t.lastNack && sentVersion !== undefined && t.ackedVersion !== sentVersion && !t.pending) return { text: 'NACKed ' + kinds[i], tone: 'bad' };
    if (t.pending || t.dirty || (sentVersion !== undefined && t.ackedVersion !== sentVersion)) return { text: 'syncing', tone: 'warn' };
  }
  return { text: 'synced', tone: 'ok' };
}

// "envoy/1.33.2"; an Envoy too old to keep DRAINING hosts out of panic arithmetic gets a red badge.
function clientVersion(c) {
  if (!c.node || (!c.node.userAgent && !c.node.userAgentVersion)) return '';
  var text = (c.node.userAgent || '?') + '/' + (c.node.userAgentVersion || '?');
  return c.envoySupport === 'old' ? badge(text + ' (old Envoy)', 'bad') : text;
}

// What the client's wildcard covers: "whole mesh", or its declared services (unknown ones flagged)
// and the backends they route to ("+ 1 via routes").
function clientScope(c) {
  var s = c.scope;
  if (!s || !s.declared) return 'whole mesh';
  var text = s.count + (s.count === 1 ? ' service' : ' services');
  if (s.viaRoutesCount) text += ' + ' + s.viaRoutesCount + ' via routes';
  var span = el('span', '', [text]);
  span.title = s.names.join(', ') + (s.names.length < s.count ? ', …' : '');
  if (s.viaRoutesCount) span.title += '; via routes: ' + s.viaRoutes.join(', ') + (s.viaRoutes.length < s.viaRoutesCount ? ', …' : '');
  if (!s.unknownCount) return span;
  return el('span', '', [span, ' ', badge(s.unknownCount + ' unknown: ' + s.unknown.join(', '), 'warn')]);
}

// Where the client declared it stands: its kube cluster and zone, whether Herald spills for it
// (it ignores overprovisioning), and whether it reads the replica's own view instead.
function clientPerspective(c) {
  var p = c.perspective;
  if (!p) return '';
  var parts = [(p.kubeCluster || '-') + (p.zone ? ' / ' + p.zone : '')];
  if (p.ignoresOverprovisioning) parts.push(' ', badge('ignores overprovisioning', ''));
  if (p.refused) parts.push(' ', badge('refused: replica view', 'warn'));
  else if (p.replicaView) parts.push(' ', badge('replica view', ''));
  return el('span', '', parts);
}

function renderClients(list) {
  if (!list.length) return replace('clients', [el('p', 'muted', ['no xDS clients connected'])]);
  replace('clients', [table(['node', 'client', 'scope', 'perspective', 'api', 'peer', 'connected', 'types', 'state'], list.map(function (c) {
    var sync = clientSync(c);
    var node = c.node && c.node.id ? c.node.id : '(no node id)';
    var kinds = c.types ? Object.keys(c.types).join(', ') : '';
    var tr = row([node, clientVersion(c), clientScope(c), clientPerspective(c), String(c.api || ''), String(c.peer || ''), ago(c.connectedAtMs), kinds, badge(sync.text, sync.tone)]);
    tr.setAttribute('data-synced', sync.text === 'synced' ? 'true' : 'false');
    return tr;
  }))]);
}

function drainWho(d) { return d.cluster + '/' + d.podKey; }

function renderDrains(pending, recent) {
  var nodes = [];
  nodes.push(el('h3', '', ['in flight (' + pending.length + ')']));
  nodes.push(pending.length ? table(['pod', 'service', 'endpoint', 'ACKed', 'age'], pending.map(function (d) {
    return row([drainWho(d), d.service, d.ip + ':' + d.port, d.acked + '/' + d.clients, Math.round(d.ageSeconds * 10) / 10 + ' s']);
  })) : el('p', 'muted', ['none']));
  nodes.push(el('h3', '', ['recent']));
  nodes.push(recent.length ? table(['pod', 'service', 'endpoint', 'result', 'finished'], recent.slice(0, RECENT_SHOWN).map(function (d) {
    var ms = Math.round(d.propagationSeconds * 1000);
    var result = d.clients === 0 ? badge('no subscribers', '') : d.complete ? badge(d.acked + '/' + d.clients + ' ACKed in ' + ms + ' ms', 'ok') : badge(d.acked + '/' + d.clients + ' ACKed (timed out)', 'bad');
    return row([drainWho(d), d.service, d.ip + ':' + d.port, result, ago(d.completedAtMs)]);
  })) : el('p', 'muted', ['none yet']));
  replace('drains', nodes);
}

// A field's value as text: scalars as they are; a list (e.g. weighted backends) one item a line,
// each item's fields as key=value, so sections the page does not know yet still read well.
function policyValue(v) {
  if (Array.isArray(v)) return el('div', '', v.map(function (item) { return el('div', '', [policyValue(item)]); }));
  if (v !== null && typeof v === 'object') return Object.keys(v).map(function (k) { return k + '=' + (typeof v[k] === 'object' ? JSON.stringify(v[k]) : String(v[k])); }).join(', ');
  return String(v);
}
function policyOrigin(o) {
  if (!o) return '';
  var who = o.role === 'defaults' ? badge('mesh defaults', '') : badge('service object', 'ok');
  return el('span', '', [who, ' ' + o.cluster + '/' + o.namespace + '/' + o.name + ' generation ' + o.generation]);
}
function objectName(o) { return o.cluster + '/' + o.namespace + '/' + o.name; }

// A split's weights as served: a backend with no HEALTHY endpoint gets weight 0 (its traffic goes
// to the others), so the page shows the configured weight and the live one side by side.
function splitValue(items, namespace, healthy) {
  return el('div', '', items.map(function (b) {
    var name = b.service + '.' + namespace;
    var live = healthy[name] > 0 ? b.weight : 0;
    var line = el('div', '', [b.service + ' weight ' + b.weight + ' · live ', badge(String(live), live === b.weight ? 'ok' : 'warn'),
      live === b.weight ? null : el('span', 'muted', [' (no HEALTHY endpoint)'])]);
    line.setAttribute('data-split-backend', name);
    line.setAttribute('data-live-weight', String(live));
    return line;
  }));
}

function renderPolicies(view, summaries) {
  var healthy = {};
  (summaries || []).forEach(function (s) { healthy[s.name] = s.healthy; });
  if (!view || !Array.isArray(view.services)) return replace('policies', [el('p', 'muted', ['ServicePolicies are not read here'])]);
  var nodes = [el('p', 'counts', ['read from ' + (view.clusters.length ? view.clusters.join(', ') : 'no cluster') + ' (first wins a disagreement) · mesh defaults: ' + view.defaults.namespace + '/' + view.defaults.name])];
  (view.unavailable || []).forEach(function (u) { nodes.push(el('p', 'error', [u.cluster + ': ' + u.reason])); });
  if (view.evacuation) {
    var ev = view.evacuation;
    var evacuating = el('p', '', [badge('evacuating ' + ev.clusters.join(', '), 'warn'), ' ' + ev.mode + ' · every client gets their endpoints last' + (ev.mode === 'Drain' ? ' and DRAINING' : '') + ' · ' + objectName(ev.from) + ' generation ' + ev.from.generation]);
    evacuating.setAttribute('data-evacuation', ev.clusters.join(','));
    nodes.push(evacuating);
  }
  if (view.rejections && view.rejections.length) {
    nodes.push(el('h3', '', ['rejected (' + view.rejections.length + ')']));
    nodes.push(table(['object', 'generation', 'errors', 'in effect'], view.rejections.map(function (r) {
      var tr = row([objectName(r), String(r.generation), el('div', '', r.errors.map(function (e) { return el('div', 'error', [e.path + ': ' + e.message]); })),
        r.keptGeneration === undefined ? 'nothing' : 'generation ' + r.keptGeneration]);
      tr.setAttribute('data-rejected', objectName(r));
      return tr;
    })));
  }
  if (view.conflicts && view.conflicts.length) {
    nodes.push(el('h3', '', ['clusters disagree (' + view.conflicts.length + ')']));
    nodes.push(table(['object', 'clusters', 'served'], view.conflicts.map(function (c) { return row([c.namespace + '/' + c.name, c.clusters.join(', '), badge(c.chosen, 'warn')]); })));
  }
  var shown = view.services.filter(function (s) { return s.service.indexOf(state.filter) !== -1; });
  nodes.push(el('h3', '', ['effective, per service (' + shown.length + ')']));
  if (!shown.length) nodes.push(el('p', 'muted', ['no service has a policy' + (state.filter ? ' matching the filter' : '')]));
  shown.forEach(function (s) {
    var rows = [];
    Object.keys(s.spec).forEach(function (section) {
      var fields = s.spec[section] || {};
      Object.keys(fields).forEach(function (field, i) {
        var value = section === 'routes' && field === 'split' && Array.isArray(fields[field])
          ? splitValue(fields[field], s.service.slice(s.service.lastIndexOf('.') + 1), healthy) : policyValue(fields[field]);
        var tr = row([i === 0 ? section : '', field, value, i === 0 ? policyOrigin(s.from[section]) : '']);
        tr.setAttribute('data-field', section + '.' + field);
        tr.setAttribute('data-origin', s.from[section] ? s.from[section].role : '');
        rows.push(tr);
      });
    });
    var ignored = Array.isArray(s.ignoredByProxyless) && s.ignoredByProxyless.length
      ? el('div', 'counts', ['proxyless gRPC ignores: ' + s.ignoredByProxyless.map(function (f) { return f.field.replace(/^spec[.]/, ''); }).join(', ')]) : null;
    var block = el('div', 'svc', [el('span', 'svc-name', [s.service]), table(['section', 'field', 'value', 'from'], rows), ignored]);
    block.setAttribute('data-policy-service', s.service);
    nodes.push(block);
  });
  replace('policies', nodes);
}
function optionalObject(path) {
  return getJson(path).then(function (r) { return r.status === 200 ? r.body : null; }, function () { return null; });
}

var polling = false;
function poll() {
  if (polling) return;
  polling = true;
  Promise.all([
    fetch('/readyz', { cache: 'no-store' }).then(function (res) { return res.json().then(function (b) { return { status: res.status, body: b }; }); }),
    getJson('/debug/clusters'), getJson('/debug/services'), getJson('/debug/clients'),
    optional('/debug/drains'), optional('/debug/drains/recent'), optionalObject('/debug/policies'),
  ]).then(function (r) {
    var summaries = Array.isArray(r[2].body) ? r[2].body : [];
    var wanted = summaries.filter(function (s) { return s.name.indexOf(state.filter) !== -1; })
      .sort(function (a, b) { return b.draining - a.draining; }).slice(0, MAX_DETAILED);
    return Promise.all(wanted.map(function (s) {
      return getJson('/debug/services/' + encodeURIComponent(s.name)).then(function (d) { return d.status === 200 ? d.body : null; }, function () { return null; });
    })).then(function (bodies) {
      var details = {};
      bodies.forEach(function (b) { if (b && b.service) details[b.service] = b; });
      renderReady(r[0]);
      renderClusters(Array.isArray(r[1].body) ? r[1].body : []);
      renderServices(summaries, details);
      renderClients(Array.isArray(r[3].body) ? r[3].body : []);
      renderDrains(Array.isArray(r[4]) ? r[4] : [], Array.isArray(r[5]) ? r[5] : []);
      renderPolicies(r[6], summaries);
      replace('updated', [el('span', '', ['updated ' + new Date().toLocaleTimeString()])]);
    });
  }).catch(function (err) {
    replace('updated', [el('span', 'error', ['admin endpoint unreachable: ' + (err && err.message ? err.message : String(err))])]);
  }).then(function () { polling = false; });
}

document.getElementById('filter').addEventListener('input', function (ev) { state.filter = ev.target.value; poll(); });
poll();
setInterval(poll, 1000);
`;

export const UI_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Herald</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header><h1>Herald</h1><span id="ready"></span><span id="reasons"></span><span class="meta" id="updated">loading…</span></header>
<main>
<section><h2>Kubernetes clusters</h2><div id="clusters"></div></section>
<section><h2>xDS clients</h2><div id="clients"></div></section>
<section class="wide"><h2>Services <input id="filter" placeholder="filter by name" aria-label="filter services"></h2>
<div class="legend counts"><span class="ep ep-healthy">HEALTHY</span><span class="ep ep-draining">DRAINING</span><span class="ep ep-unhealthy">UNHEALTHY</span></div>
<div id="services"></div></section>
<section class="wide"><h2>Drains</h2><div id="drains"></div></section>
<section class="wide"><h2>ServicePolicies</h2><div id="policies"></div></section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;

/** Inline style and script only; fetches go back to this admin server and nowhere else. */
export const UI_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";
