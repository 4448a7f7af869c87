#include "admin/status_page.hpp"

#include <string_view>

namespace sb::admin {
namespace {

struct ProvinceName {
  std::string_view code;  // GB/T 2260 two-digit prefix
  std::string_view name_zh;
  std::string_view name_en;
};

// Copied from routing-tables/reference/provinces.tsv (code, name_zh, name_en); the e2e test
// tests/e2e/test_status_page.py checks that every row of that file is in the page.
constexpr ProvinceName kProvinces[] = {
    {"11", "北京", "Beijing"},
    {"12", "天津", "Tianjin"},
    {"13", "河北", "Hebei"},
    {"14", "山西", "Shanxi"},
    {"15", "内蒙古", "Inner Mongolia"},
    {"21", "辽宁", "Liaoning"},
    {"22", "吉林", "Jilin"},
    {"23", "黑龙江", "Heilongjiang"},
    {"31", "上海", "Shanghai"},
    {"32", "江苏", "Jiangsu"},
    {"33", "浙江", "Zhejiang"},
    {"34", "安徽", "Anhui"},
    {"35", "福建", "Fujian"},
    {"36", "江西", "Jiangxi"},
    {"37", "山东", "Shandong"},
    {"41", "河南", "Henan"},
    {"42", "湖北", "Hubei"},
    {"43", "湖南", "Hunan"},
    {"44", "广东", "Guangdong"},
    {"45", "广西", "Guangxi"},
    {"46", "海南", "Hainan"},
    {"50", "重庆", "Chongqing"},
    {"51", "四川", "Sichuan"},
    {"52", "贵州", "Guizhou"},
    {"53", "云南", "Yunnan"},
    {"54", "西藏", "Tibet (Xizang)"},
    {"61", "陕西", "Shaanxi"},
    {"62", "甘肃", "Gansu"},
    {"63", "青海", "Qinghai"},
    {"64", "宁夏", "Ningxia"},
    {"65", "新疆", "Xinjiang"},
    {"66", "新疆生产建设兵团", "XPCC (Bingtuan)"},
};

// {"11":["北京","Beijing"],...} for the page's script. The names hold no quote, backslash
// or '<', so they go in verbatim.
std::string provincesJs() {
  std::string out = "{";
  for (const auto& p : kProvinces) {
    if (out.size() > 1) out += ",";
    out.append("\"").append(p.code).append("\":[\"").append(p.name_zh).append("\",\"");
    out.append(p.name_en).append("\"]");
  }
  return out + "}";
}

// The document before the province map: head, styles, the page's fixed skeleton.
constexpr std::string_view kHead = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard · 12333 trunk status</title>
<style>
:root {
  --bg: #0e1318; --panel: #151c24; --panel2: #1b2430; --line: #27323f; --text: #e3e9f0;
  --muted: #8d9bab; --ok: #2fb36b; --down: #e5484d; --drain: #f0a020; --off: #7a8594;
  --closed: #5b8def; --full: #e8743b; --unknown: #9aa6b4;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--text); }
body {
  font: 14px/1.35 system-ui, "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
    "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif;
  font-variant-numeric: tabular-nums;
}
.mono { font-family: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace; }
header.top { padding: 12px 20px 14px; background: var(--panel); border-bottom: 1px solid var(--line); }
.headline { display: flex; align-items: flex-end; gap: 20px; margin-bottom: 10px; }
.headline .updated { margin-left: auto; text-align: right; color: var(--muted); font-size: 12px; }
.headline .updated b { color: var(--text); font-size: 15px; }
.headline .updated.s-down b { color: var(--down); }
.brand h1 { margin: 0; font-size: 19px; font-weight: 650; letter-spacing: .2px; }
.brand .sub { color: var(--muted); font-size: 12.5px; margin-top: 2px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 8px; }
.tile { padding: 6px 12px; background: var(--panel2);
  border: 1px solid var(--line); border-top: 3px solid var(--line); border-radius: 4px; }
.tile .k { display: block; color: var(--muted); font-size: 11px; text-transform: uppercase;
  letter-spacing: .6px; }
.tile .v { display: block; font-size: 19px; font-weight: 650; white-space: nowrap; }
.tile .s { display: block; color: var(--muted); font-size: 11.5px; }
.tile .s .bad { color: var(--down); font-weight: 650; } .tile .s .warn { color: var(--drain); font-weight: 650; }
.tile.s-ok { border-top-color: var(--ok); } .tile.s-ok .v { color: var(--ok); }
.tile.s-down { border-top-color: var(--down); } .tile.s-down .v { color: var(--down); }
.tile.s-drain { border-top-color: var(--drain); } .tile.s-drain .v { color: var(--drain); }
#error-banner { margin: 0; padding: 10px 20px; background: #4a1418; color: #ffd9da;
  border-bottom: 2px solid var(--down); font-weight: 600; }
#error-banner[hidden] { display: none; }
main { padding: 12px 20px 8px; }
body.stale #trunks tbody { opacity: .5; }
table#trunks { width: 100%; border-collapse: collapse; table-layout: fixed; }
th.w-state { width: 330px; } th.w-calls { width: 200px; } th.num { width: 88px; }
th.w-change { width: 200px; }
.c-trunk { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#trunks thead th { position: sticky; top: 0; z-index: 1; background: var(--bg);
  color: var(--muted); font-size: 11px; font-weight: 600; text-transform: uppercase;
  letter-spacing: .5px; text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line);
  white-space: nowrap; }
#trunks thead th.num, #trunks td.num { text-align: right; }
tr.prov-head th { text-align: left; padding: 14px 10px 6px; font-size: 15px; font-weight: 650;
  border-bottom: 1px solid var(--line); }
tr.prov-head .en { color: var(--muted); font-weight: 500; margin-left: 8px; }
tr.prov-head .pcode { color: var(--muted); font-weight: 400; font-size: 12px; margin-left: 8px; }
tr.prov-head .psum { float: right; font-size: 12.5px; font-weight: 500; color: var(--muted); }
tr.prov-head .psum .bad { color: var(--down); font-weight: 650; }
tr.prov-head .psum .warn { color: var(--drain); font-weight: 650; }
tr.trunk td { padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: middle;
  background: var(--panel); }
tr.trunk td:first-child { border-left: 5px solid var(--unknown); }
tr.trunk.s-ok td:first-child { border-left-color: var(--ok); }
tr.trunk.s-down td:first-child { border-left-color: var(--down); }
tr.trunk.s-drain td:first-child { border-left-color: var(--drain); }
tr.trunk.s-off td:first-child { border-left-color: var(--off); }
tr.trunk.s-closed td:first-child { border-left-color: var(--closed); }
tr.trunk.s-full td:first-child { border-left-color: var(--full); }
tr.trunk.s-down td { background: #23171b; }
.tname { font-weight: 650; }
.dname { margin-left: 8px; }
.c-trunk .sub { overflow: hidden; text-overflow: ellipsis; }
.c-state, td.num, .c-change .when { white-space: nowrap; }
.c-calls .sub { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.sub { display: block; color: var(--muted); font-size: 11.5px; }
.verdict { display: block; font-weight: 700; letter-spacing: .4px; }
.s-ok .verdict { color: var(--ok); } .s-down .verdict { color: var(--down); }
.s-drain .verdict { color: var(--drain); } .s-off .verdict { color: var(--off); }
.s-closed .verdict { color: var(--closed); } .s-full .verdict { color: var(--full); }
.s-unknown .verdict { color: var(--unknown); }
.badges { display: flex; gap: 3px; margin-top: 2px; }
.badge { display: inline-block; padding: 1px 5px; border-radius: 3px; font-size: 11px;
  font-weight: 650; border: 1px solid currentColor; white-space: nowrap; }
.badge i { font-style: normal; font-weight: 400; opacity: .75; margin-right: 3px; }
.b-good { color: var(--ok); } .b-bad { color: var(--down); } .b-warn { color: var(--drain); }
.b-off { color: var(--off); } .b-info { color: var(--closed); } .b-none { color: var(--unknown); }
.calls-line { display: flex; align-items: center; gap: 10px; white-space: nowrap; }
.calls-num { font-weight: 650; min-width: 64px; }
.bar { position: relative; width: 120px; height: 8px; border-radius: 2px;
  background: #2a3542; overflow: hidden; }
.bar .fill { position: absolute; top: 0; bottom: 0; background: var(--ok); }
.bar .fill.else { background: #1f7a4a; }
.bar.hi .fill { background: var(--drain); } .bar.full .fill { background: var(--down); }
.bar.unlimited { background: repeating-linear-gradient(135deg, #2a3542 0 6px, #222c37 6px 12px); }
.pct { font-weight: 650; }
.q-good { color: var(--ok); } .q-warn { color: var(--drain); } .q-bad { color: var(--down); }
.none { color: var(--muted); }
.reason { color: #ff9ea1; }
#empty { color: var(--muted); padding: 24px 0; }
footer { color: var(--muted); font-size: 11.5px; padding: 4px 20px 16px; }
</style>
</head>
<body>
<header class="top">
  <div class="headline">
    <div class="brand">
      <h1>Switchboard · 12333 trunk status</h1>
      <div class="sub">人社12333 全国转接网关 · 值班室状态 / duty-room status</div>
    </div>
    <div class="updated" id="tile-updated">Last updated <b id="last-updated">never</b>
      <span id="updated-age">&nbsp;</span><br>Beijing time (UTC+8) · refreshes every 5 s</div>
  </div>
  <div class="tiles">
    <div class="tile" id="tile-gateway"><span class="k">Gateway</span>
      <span class="v" id="gw-state">—</span><span class="s" id="gw-note">&nbsp;</span></div>
    <div class="tile" id="tile-redis"><span class="k">Redis</span>
      <span class="v" id="redis-state">—</span><span class="s" id="redis-note">&nbsp;</span></div>
    <div class="tile"><span class="k">Routing table</span>
      <span class="v" id="table-version">—</span><span class="s" id="table-loaded">&nbsp;</span></div>
    <div class="tile"><span class="k">Calls in progress</span>
      <span class="v" id="calls-in-progress">—</span><span class="s" id="established">&nbsp;</span></div>
    <div class="tile" id="tile-trunks"><span class="k">Trunks</span>
      <span class="v" id="trunk-count">—</span><span class="s" id="trunk-summary">&nbsp;</span></div>
  </div>
</header>
<div id="error-banner" role="alert" aria-live="assertive" hidden></div>
<main>
  <noscript><p>This page needs JavaScript. The same data: <a href="api/v1/trunks">/api/v1/trunks</a>,
    <a href="api/v1/status">/api/v1/status</a>.</p></noscript>
  <table id="trunks" aria-describedby="legend">
    <thead><tr>
      <th>Trunk</th><th class="w-state">State</th><th class="w-calls">Calls / capacity</th>
      <th class="num">Offered</th><th class="num">Answered</th><th class="num">≤ 20 s</th>
      <th class="num">Probe RTT</th><th class="w-change">Last change</th>
    </tr></thead>
  </table>
  <p id="empty">Loading…</p>
</main>
<footer id="legend">
  Refreshes every 5 s from <span class="mono">/api/v1/trunks</span> and
  <span class="mono">/api/v1/status</span>. Times are Beijing time (UTC+8). Offered, answered and
  answered-within-20-s are this instance's calls over the last 15 minutes; ratios are of offered
  calls (— when none). Calls count every instance sharing the Redis; ∞ = no capacity limit.
  State: health from OPTIONS probes (UP/DOWN/UNKNOWN), admin state (ENABLED/DRAINING/DISABLED),
  opening hours (OPEN/CLOSED).
</footer>
<script>
'use strict';
const PROVINCES = )html";

// The document after the province map: the script that fetches and renders.
constexpr std::string_view kTail = R"html(;
const REFRESH_MS = 5000;
const TIMEOUT_MS = 4000;
const $ = (id) => document.getElementById(id);
let lastOk = 0;
let tableLoadedAt = 0;

function pad(n) { return String(n).padStart(2, '0'); }
// Beijing time whatever the browser's zone: China keeps UTC+8 all year.
function cst(ms, withDate) {
  const d = new Date(ms + 8 * 3600e3);
  const t = pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds());
  if (!withDate) return t;
  return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' + t;
}
function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min ago';
  return Math.floor(s / 86400) + ' d ago';
}
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
function setTile(id, cls) {
  const t = $(id);
  t.classList.remove('s-ok', 's-down', 's-drain');
  if (cls) t.classList.add(cls);
}

async function getJson(path) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  try {
    const r = await fetch(path, {cache: 'no-store', signal: ctl.signal});
    const text = await r.text();
    let body = null;
    try { body = JSON.parse(text); } catch (e) { body = null; }
    if (!r.ok) {
      throw new Error('/' + path + ' answered HTTP ' + r.status +
                      (body && body.error ? ' (' + body.error + ')' : ''));
    }
    if (body === null) throw new Error('/' + path + ' did not answer JSON');
    return body;
  } catch (e) {
    if (e.name === 'AbortError') throw new Error('/' + path + ': no answer within ' + TIMEOUT_MS / 1000 + ' s');
    if (e instanceof TypeError) throw new Error('/' + path + ' unreachable (' + e.message + ')');
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

function provinceOf(code) {
  const key = String(code || '').slice(0, 2);
  const p = PROVINCES[key];
  return {key: key, zh: p ? p[0] : '', en: p ? p[1] : 'Province ' + key};
}
function inUse(t) { return (t.active_calls || 0) + (t.calls_elsewhere || 0); }
// One word for "can this trunk take a new call", in the order the gateway applies them.
function verdict(t) {
  if (t.admin === 'disabled') return ['DISABLED', 's-off', 'taken out of service by the operators'];
  if (t.admin === 'draining') return ['DRAINING', 's-drain', 'no new calls; calls in progress finish'];
  if (t.health === 'down') return ['DOWN', 's-down', 'probes fail: calls go to the next trunk of the route'];
  if (t.open_now === false) return ['CLOSED', 's-closed', 'outside its opening hours'];
  if (t.capacity > 0 && inUse(t) >= t.capacity) return ['FULL', 's-full', 'at capacity: new calls go to the next trunk'];
  if (t.health !== 'up') return ['IN SERVICE', 's-unknown', 'taking calls; health not known (not probed yet)'];
  return ['IN SERVICE', 's-ok', 'taking calls'];
}
function badge(label, text, cls) {
  const b = el('span', 'badge ' + cls);
  b.append(el('i', null, label), document.createTextNode(text));
  return b;
}
const HEALTH = {up: ['▲ UP', 'b-good'], down: ['▼ DOWN', 'b-bad'], unknown: ['? UNKNOWN', 'b-none']};
const ADMIN = {enabled: ['ENABLED', 'b-good'], draining: ['DRAINING', 'b-warn'], disabled: ['DISABLED', 'b-off']};

function ratioCell(td, n, d, good, warn) {
  if (!d) {
    td.append(el('span', 'none', '—'));
    td.title = 'no calls offered in the last 15 minutes';
    return;
  }
  const r = (100 * n) / d;
  const q = r >= good ? 'q-good' : r >= warn ? 'q-warn' : 'q-bad';
  td.append(el('span', 'pct ' + q, Math.round(r) + ' %'), el('span', 'sub', n + ' of ' + d));
}
function changeTime(t) {
  let v = t.last_change_ms !== undefined ? t.last_change_ms : t.last_change;
  if (typeof v === 'string') v = Date.parse(v);
  else if (typeof v === 'number' && t.last_change_ms === undefined && v < 1e12) v *= 1000;
  return typeof v === 'number' && isFinite(v) && v > 0 ? v : 0;
}

function trunkRow(t) {
  const [word, cls, why] = verdict(t);
  const tr = el('tr', 'trunk ' + cls);
  tr.dataset.trunk = t.name;
  tr.title = why;

  const name = el('td', 'c-trunk');
  name.append(el('span', 'tname mono', t.name), el('span', 'dname', t.display_name || ''));
  const where = el('span', 'sub mono', t.region + (t.target ? ' · ' + t.target : ''));
  where.title = where.textContent;
  name.append(where);

  const state = el('td', 'c-state');
  const h = HEALTH[t.health] || [String(t.health).toUpperCase(), 'b-none'];
  const a = ADMIN[t.admin] || [String(t.admin).toUpperCase(), 'b-none'];
  const badges = el('span', 'badges');
  badges.append(badge('health', h[0], h[1]), badge('admin', a[0], a[1]),
                t.open_now === false ? badge('hours', 'CLOSED', 'b-info') : badge('hours', 'OPEN', 'b-good'));
  state.append(el('span', 'verdict', word), badges);

  const calls = el('td', 'c-calls');
  const used = inUse(t);
  const cap = t.capacity || 0;
  const line = el('div', 'calls-line');
  line.append(el('span', 'calls-num', used + ' / ' + (cap > 0 ? cap : '∞')));
  const bar = el('div', 'bar');
  if (cap > 0) {
    const here = Math.min(100, (100 * (t.active_calls || 0)) / cap);
    const all = Math.min(100, (100 * used) / cap);
    bar.classList.add(all >= 100 ? 'full' : all >= 80 ? 'hi' : 'lo');
    const f = el('div', 'fill');
    f.style.left = '0'; f.style.width = here + '%';
    const g = el('div', 'fill else');
    g.style.left = here + '%'; g.style.width = (all - here) + '%';
    bar.append(f, g);
    bar.title = Math.round(all) + ' % of capacity in use';
  } else {
    bar.classList.add('unlimited');
    bar.title = 'no capacity limit';
  }
  line.append(bar);
  calls.append(line);
  const notes = [];
  if (t.calls_elsewhere) notes.push((t.active_calls || 0) + ' here + ' + t.calls_elsewhere + ' others');
  notes.push(t.cps > 0 ? 'max ' + t.cps + '/s' : 'no rate limit');
  calls.append(el('span', 'sub', notes.join(' · ')));

  const w = t.last_15m || {};
  const offered = el('td', 'c-offered num');
  offered.append(el('span', 'pct', w.offered || 0));
  const answered = el('td', 'c-answer num');
  ratioCell(answered, w.answered || 0, w.offered || 0, 90, 75);
  const sl = el('td', 'c-sl20 num');
  ratioCell(sl, w.answered_20s || 0, w.offered || 0, 80, 65);

  const rtt = el('td', 'c-rtt num');
  if (typeof t.probe_rtt_ms === 'number') {
    const ms = t.probe_rtt_ms;
    rtt.append(el('span', 'pct ' + (ms >= 500 ? 'q-bad' : ms >= 150 ? 'q-warn' : ''),
                  (ms < 10 ? ms.toFixed(1) : Math.round(ms)) + ' ms'));
  } else {
    rtt.append(el('span', 'none', '—'));
    rtt.title = 'no probe answer yet';
  }

  const change = el('td', 'c-change');
  const at = changeTime(t);
  if (at) {
    change.append(el('span', 'when', 'since ' + cst(at, Date.now() - at > 86400e3)),
                  el('span', 'sub', ago(at)));
  }
  if (t.health_reason) change.append(el('span', 'sub reason', t.health_reason));
  if (!change.childNodes.length) change.append(el('span', 'none', '—'));

  tr.append(name, state, calls, offered, answered, sl, rtt, change);
  return [tr, word];
}

function summary(words) {
  const n = {};
  words.forEach((w) => { n[w] = (n[w] || 0) + 1; });
  const parts = [];
  const order = [['DOWN', 'bad'], ['FULL', 'bad'], ['DRAINING', 'warn'], ['DISABLED', 'warn'],
                 ['CLOSED', ''], ['IN SERVICE', '']];
  order.forEach(([w, c]) => { if (n[w]) parts.push([n[w] + ' ' + w.toLowerCase(), c]); });
  return parts;
}
function appendSummary(node, parts) {
  parts.forEach(([text, c], i) => {
    if (i) node.append(document.createTextNode(' · '));
    node.append(el('span', c || null, text));
  });
}

function renderTrunks(data) {
  const table = $('trunks');
  table.querySelectorAll('tbody').forEach((b) => b.remove());
  const groups = new Map();
  (data.trunks || []).forEach((t) => {
    const p = provinceOf(t.province || t.region);
    if (!groups.has(p.key)) groups.set(p.key, {p: p, trunks: []});
    groups.get(p.key).trunks.push(t);
  });
  const allWords = [];
  [...groups.keys()].sort().forEach((key) => {
    const g = groups.get(key);
    g.trunks.sort((x, y) => String(x.region).localeCompare(String(y.region)) || x.name.localeCompare(y.name));
    const body = el('tbody', 'province');
    body.dataset.province = key;
    const head = el('tr', 'prov-head');
    const th = el('th');
    th.colSpan = 8;
    th.append(el('span', 'zh', g.p.zh), el('span', 'en', g.p.en), el('span', 'pcode', key));
    const rows = g.trunks.map(trunkRow);
    const words = rows.map((r) => r[1]);
    allWords.push(...words);
    const psum = el('span', 'psum');
    psum.append(document.createTextNode(g.trunks.length + (g.trunks.length === 1 ? ' trunk: ' : ' trunks: ')));
    appendSummary(psum, summary(words));
    th.append(psum);
    head.append(th);
    body.append(head);
    rows.forEach((r) => body.append(r[0]));
    table.append(body);
  });
  $('empty').hidden = groups.size > 0;
  if (!groups.size) $('empty').textContent = 'The routing table in force has no trunks.';
  $('trunk-count').textContent = allWords.length;
  const s = $('trunk-summary');
  s.textContent = '';
  const parts = summary(allWords);
  appendSummary(s, parts);
  const bad = allWords.filter((w) => w === 'DOWN' || w === 'FULL').length;
  setTile('tile-trunks', bad ? 's-down' : allWords.some((w) => w !== 'IN SERVICE' && w !== 'CLOSED') ? 's-drain' : 's-ok');
  document.title = (bad ? '⚠ ' + bad + ' down/full · ' : '') + 'Switchboard · 12333 trunk status';
  if (data.table_version !== undefined) $('table-version').textContent = 'v' + data.table_version;
}

function renderStatus(st) {
  const gw = st.draining ? ['DRAINING', 's-drain', 'shutting down: no new calls']
           : st.ready ? ['READY', 's-ok', 'taking calls']
           : ['NOT READY', 's-down', 'no routing table or not listening'];
  $('gw-state').textContent = gw[0];
  $('gw-note').textContent = gw[2];
  setTile('tile-gateway', gw[1]);
  $('redis-state').textContent = st.redis_up ? 'UP' : 'DOWN';
  $('redis-note').textContent = !st.redis_up ? 'routing on the cached tables'
    : st.live_instances !== undefined ? st.live_instances + (st.live_instances === 1 ? ' gateway instance' : ' gateway instances')
    : 'tables and limits shared';
  setTile('tile-redis', st.redis_up ? 's-ok' : 's-down');
  if (st.routing_table_version !== undefined) $('table-version').textContent = 'v' + st.routing_table_version;
  tableLoadedAt = st.routing_table_loaded_at > 0 ? st.routing_table_loaded_at * 1000 : 0;
  $('calls-in-progress').textContent = st.calls_in_progress ?? '—';
  $('established').textContent = (st.established_calls ?? '—') + ' established';
}

function renderFreshness(errors) {
  const banner = $('error-banner');
  document.body.classList.toggle('stale', errors.length > 0);
  if (errors.length) {
    banner.textContent = '⚠ Gateway API unreachable or failing: ' + errors.join('; ') + '. ' +
      (lastOk ? 'Showing the data of ' + cst(lastOk, true) + ' (' + ago(lastOk) + ').' : 'No data yet.') +
      ' Retrying every ' + REFRESH_MS / 1000 + ' s.';
    banner.hidden = false;
    setTile('tile-updated', 's-down');
    if (!lastOk) $('empty').textContent = 'No data: the gateway API is not answering (see above).';
  } else {
    banner.hidden = true;
    banner.textContent = '';
    setTile('tile-updated', null);
  }
  tick();
}
function tick() {
  $('last-updated').textContent = lastOk ? cst(lastOk) : 'never';
  $('updated-age').textContent = lastOk ? ago(lastOk) + (document.body.classList.contains('stale') ? ' — STALE' : '') : '\u00a0';
  $('table-loaded').textContent = tableLoadedAt ? 'loaded ' + cst(tableLoadedAt, true) : '\u00a0';
}

async function refresh() {
  const errors = [];
  try {
    const [st, tr] = await Promise.allSettled([getJson('api/v1/status'), getJson('api/v1/trunks')]);
    if (st.status === 'fulfilled') renderStatus(st.value); else errors.push(st.reason.message);
    if (tr.status === 'fulfilled') renderTrunks(tr.value); else errors.push(tr.reason.message);
    if (!errors.length) lastOk = Date.now();
  } catch (e) {
    errors.push('page error: ' + e.message);
  } finally {
    renderFreshness(errors);
    setTimeout(refresh, REFRESH_MS);
  }
}
setInterval(tick, 1000);
refresh();
</script>
</body>
</html>
)html";

}  // namespace

std::string statusPageHtml() {
  static const std::string page = std::string(kHead) + provincesJs() + std::string(kTail);
  return page;
}

}  // namespace sb::admin
