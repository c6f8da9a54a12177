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

// Counts are whole numbers: no 0.5 or 1.5 on their axes. A new object per chart: Chart.js keeps what it is given.
const countAxis = () => ({ beginAtZero: true, ticks: { precision: 0 } });
const COLOURS = ['#6d4fd8', '#1f9d55', '#e07b00', '#c0392b', '#2b7bb9', '#8e6c00', '#b5399c', '#5b6475'];

function drawChart(id, type, labels, datasets, scales = { y: countAxis() }) {
  const existing = charts.get(id);
  if (existing) {
    existing.data.labels = labels;
    existing.data.datasets = datasets;
    return existing.update();
  }
  const options = { animation: false, responsive: true, maintainAspectRatio: false, scales, plugins: { legend: { display: datasets.length > 1 } } };
  charts.set(id, new window.Chart($(id), { type, data: { labels, datasets }, options }));
}

/** `1 session`, `2 sessions`. */
function plural(n, word) {
  return `${n} ${n === 1 ? word : `${word}s`}`;
}

/** A line per series over the days of `byDay` (an object keyed by day); the figure shows once there is a day. */
function drawDays(figure, id, byDay, series, type = 'line') {
  const days = Object.keys(byDay ?? {}).sort();
  if (days.length === 0) return;
  $(figure).hidden = false;
  const datasets = series.map(([label, pick], i) => ({ label, data: days.map((d) => pick(byDay[d]) ?? 0), borderColor: COLOURS[i], backgroundColor: COLOURS[i] }));
  drawChart(id, type, days, datasets);
}

/** Release adoption: per day, each server_version's share of that day's active installations, stacked to 100 %. */
function drawAdoption(adoption) {
  const days = Object.keys(adoption ?? {}).sort();
  if (days.length === 0) return;
  $('adoption-figure').hidden = false;
  const versions = [...new Set(days.flatMap((d) => Object.keys(adoption[d])))];
  const datasets = versions.map((v, i) => ({
    label: v, data: days.map((d) => adoption[d][v] ?? 0), fill: true, borderColor: COLOURS[i % COLOURS.length], backgroundColor: `${COLOURS[i % COLOURS.length]}99`,
  }));
  const share = { stacked: true, min: 0, max: 1, ticks: { callback: (v) => `${Math.round(v * 100)} %` } };
  drawChart('chart-adoption', 'line', days, datasets, { x: {}, y: share });
}

const BREAKDOWNS = ['by_server_version', 'by_platform', 'by_environment', 'by_architecture', 'by_node_version'];

// Chart.js (70 KB gzipped, most of the page) is fetched only once there are stats to plot, after the first paint.
// A failed fetch (the server restarting, say) is forgotten, so the next try fetches it again.
let chartLibrary;
function loadChartLibrary() {
  chartLibrary ??= new Promise((resolve, reject) => {
    const script = Object.assign(document.createElement('script'), { src: '/console/chart.umd.min.js', onload: resolve });
    script.onerror = () => {
      script.remove();
      chartLibrary = undefined;
      reject(new Error('Chart.js did not load'));
    };
    document.head.append(script);
  });
  return chartLibrary;
}

// The newest stats the stream sent: a retry after a failed Chart.js fetch shows these, not older ones.
let latestStats;
function onCollectorStats(stats) {
  latestStats = stats;
  showCollector(stats).catch(() => setTimeout(() => latestStats === stats && onCollectorStats(stats), RECONNECT_MS));
}

async function showCollector(stats) {
  await loadChartLibrary();
  $('collector').hidden = false;
  document.body.dataset.heartbeatsReceived = String(stats.heartbeats_total);
  $('totals').textContent =
    `${plural(stats.heartbeats_total, 'heartbeat')} from ${plural(stats.sessions_total, 'session')}; last ${when(stats.last_heartbeat_at)}`;
  const active = stats.active ?? { day: 0, week: 0, month: 0 };
  $('active-day').textContent = String(active.day);
  $('active-week').textContent = String(active.week);
  $('active-month').textContent = String(active.month);
  $('new-today').textContent = String(stats.new_by_day?.[stats.as_of] ?? 0);
  $('floor').textContent = `Counted by installation (session) as of ${stats.as_of}, UTC days. Any value with fewer than ${plural(stats.privacy_min_sessions, 'installation')} is shown as "other".`;
  drawDays('active-figure', 'chart-active', stats.active_by_day, [['day', (a) => a.day], ['7 days', (a) => a.week], ['30 days', (a) => a.month]]);
  drawDays('new-figure', 'chart-new', stats.new_by_day, [['new', (n) => n]], 'bar');
  drawAdoption(stats.adoption_by_day);
  const perDay = Object.fromEntries(Object.keys(stats.heartbeats_by_day ?? {}).map((d) => [d, stats.heartbeats_by_day[d]]));
  drawDays('daily-figure', 'chart-daily', perDay, [['heartbeats', (n) => n]]);
  for (const key of BREAKDOWNS) {
    const counts = stats.installations?.[key] ?? {};
    // Entries, not property reads: a value named __proto__ is a label like any other.
    const entries = Object.entries(counts);
    drawChart(`chart-${key}`, 'bar', entries.map(([v]) => v), [{ label: 'installations', data: entries.map(([, n]) => n), backgroundColor: '#8b73e6' }]);
  }
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
  events.addEventListener('collector', (e) => onCollectorStats(JSON.parse(e.data)));
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
