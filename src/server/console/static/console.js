// The console page: renders the live telemetry status, statechart, heartbeat body and collector charts from /api/events.
'use strict';

const $ = (id) => document.getElementById(id);
const charts = new Map();
let nextRunAt = null;

function when(iso) {
  if (!iso) return '—';
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  const ago = seconds < 1 ? 'just now' : seconds < 120 ? `${seconds} s ago` : `${Math.round(seconds / 60)} min ago`;
  return `${new Date(iso).toLocaleString()} (${ago})`;
}

function countdown() {
  if (!nextRunAt) return void ($('next-run').textContent = '—');
  const seconds = Math.max(0, Math.ceil((Date.parse(nextRunAt) - Date.now()) / 1000));
  $('next-run').textContent = `${new Date(nextRunAt).toLocaleTimeString()} (in ${seconds} s)`;
}

function highlight(state) {
  for (const node of document.querySelectorAll('#diagram g.node.active')) node.classList.remove('active');
  const node = document.querySelector(`#diagram g.node[id^="telemetry-state-${CSS.escape(state)}-"]`);
  if (node) node.classList.add('active');
}

function showTelemetry(status) {
  document.body.dataset.state = status.state;
  $('enabled').innerHTML = status.enabled ? '<span class="on">on</span>' : '<span class="off">off</span>';
  $('decided').textContent = status.enabled ? 'no opt-out is set' : status.disabled_by;
  $('state').innerHTML = `<span class="state"></span>`;
  $('state').firstChild.textContent = status.state;
  $('session').firstChild.textContent = status.session_id ?? '—';
  $('session-start').textContent = when(status.session_start_timestamp);
  $('sent').textContent = String(status.heartbeats_sent);
  $('last-sent').textContent = when(status.last_sent_at);
  $('last-error').textContent = status.last_error ?? '—';
  $('stop-reason').textContent = status.stop_reason ?? '—';
  $('endpoint').firstChild.textContent = status.endpoint;
  nextRunAt = status.next_run_at;
  countdown();
  highlight(status.state);
}

function drawChart(id, type, labels, datasets) {
  const existing = charts.get(id);
  if (existing) {
    existing.data.labels = labels;
    existing.data.datasets = datasets;
    return existing.update();
  }
  const options = { animation: false, responsive: true, plugins: { legend: { display: datasets.length > 1 } } };
  charts.set(id, new window.Chart($(id), { type, data: { labels, datasets }, options }));
}

/** The collector's per-day fields (`heartbeats_by_day`, `sessions_by_day`) as one object keyed by day. */
function byDay(stats) {
  const days = [...new Set([...Object.keys(stats.heartbeats_by_day ?? {}), ...Object.keys(stats.sessions_by_day ?? {})])].sort();
  if (days.length === 0) return undefined;
  return Object.fromEntries(
    days.map((day) => [day, { heartbeats: stats.heartbeats_by_day?.[day] ?? 0, sessions: stats.sessions_by_day?.[day] ?? 0 }]),
  );
}

/** Per-day series, when the stats carry them: an array of `{ day|date, <counts> }` or an object keyed by day. */
function dailyRows(daily) {
  if (Array.isArray(daily)) return daily.map((row) => ({ day: row.day ?? row.date, ...row }));
  if (daily && typeof daily === 'object') {
    return Object.entries(daily).map(([day, v]) => (typeof v === 'number' ? { day, heartbeats: v } : { day, ...v }));
  }
  return [];
}

// Chart.js (70 KB gzipped, most of the page) is fetched only once there are stats to plot, after the first paint.
let chartLibrary;
function loadChartLibrary() {
  chartLibrary ??= new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement('script'), { src: '/console/chart.umd.min.js', onload: resolve, onerror: reject });
    document.head.append(script);
  });
  return chartLibrary;
}

async function showCollector(stats) {
  await loadChartLibrary();
  $('collector').hidden = false;
  document.body.dataset.heartbeatsReceived = String(stats.heartbeats_total);
  $('totals').textContent =
    `${stats.heartbeats_total} heartbeats from ${stats.sessions_total} sessions; last ${when(stats.last_heartbeat_at)}`;
  for (const key of ['by_server_version', 'by_platform', 'by_environment']) {
    const counts = stats[key] ?? {};
    drawChart(`chart-${key}`, 'bar', Object.keys(counts), [{ label: 'heartbeats', data: Object.values(counts), backgroundColor: '#8b73e6' }]);
  }
  const rows = dailyRows(stats.daily ?? byDay(stats));
  if (rows.length === 0) return;
  $('daily-figure').hidden = false;
  const series = Object.keys(rows[0]).filter((k) => k !== 'day' && k !== 'date' && typeof rows[0][k] === 'number');
  const colours = ['#6d4fd8', '#1f9d55', '#e07b00', '#c0392b'];
  const datasets = series.map((k, i) => ({ label: k, data: rows.map((r) => r[k]), borderColor: colours[i % 4], backgroundColor: colours[i % 4] }));
  drawChart('chart-daily', 'line', rows.map((r) => r.day), datasets);
}

// The read token (TELEMETRY_READ_TOKEN), asked for once when the server wants one; kept for this tab only.
const TOKEN_KEY = 'telemetry-actor.read-token';
const RECONNECT_MS = 1000;

/** Headers for a read: the token, when this tab holds one. Use them on every fetch of /api/. */
function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

function askToken(refused) {
  const form = $('token-form');
  $('token-note').textContent = refused ? 'That token was refused; enter the read token again.' : 'This server asks for its read token (TELEMETRY_READ_TOKEN).';
  form.hidden = false;
  form.onsubmit = (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value);
    form.hidden = true;
    void connect();
  };
}

/** A one-time ticket for the stream: EventSource cannot send the token, and a token in a URL would be logged. */
async function streamTicket() {
  const res = await fetch('/api/events/ticket', { method: 'POST', headers: authHeaders() });
  if (res.status === 401) {
    const held = sessionStorage.getItem(TOKEN_KEY) !== null;
    sessionStorage.removeItem(TOKEN_KEY);
    askToken(held);
    return undefined;
  }
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return (await res.json()).ticket;
}

async function connect() {
  const link = $('link');
  let ticket;
  try {
    ticket = await streamTicket();
  } catch {
    return void setTimeout(connect, RECONNECT_MS);
  }
  if (ticket === undefined) return;
  const events = new EventSource(`/api/events?ticket=${encodeURIComponent(ticket)}`);
  events.onopen = () => Object.assign(link, { textContent: 'live' }).setAttribute('data-live', 'true');
  events.onerror = () => {
    Object.assign(link, { textContent: 'reconnecting…' }).setAttribute('data-live', 'false');
    // EventSource retries a lost connection by itself, with the same (used) ticket; once that is refused, a new one.
    if (events.readyState === EventSource.CLOSED) setTimeout(connect, RECONNECT_MS);
  };
  events.addEventListener('telemetry', (e) => showTelemetry(JSON.parse(e.data)));
  events.addEventListener('preview', (e) => ($('preview').textContent = JSON.stringify(JSON.parse(e.data), null, 2)));
  events.addEventListener('collector', (e) => showCollector(JSON.parse(e.data)));
}

async function loadDiagram() {
  const res = await fetch('/console/telemetry-machine.svg');
  if (!res.ok) return;
  $('diagram').innerHTML = await res.text();
  const state = document.body.dataset.state;
  if (state) highlight(state);
}

setInterval(countdown, 1000);
void loadDiagram();
void connect();
