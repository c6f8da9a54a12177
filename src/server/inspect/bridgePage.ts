// The bridge page: the hosted Stately inspector in an iframe, and words (with a link to the console) when it is unreachable.

/** The hosted inspector the page embeds; the only address outside this machine that anything here loads. */
export const HOSTED_INSPECTOR = 'https://stately.ai/inspect';

// The hosted inspector says `@statelyai.connected` once it runs; silence this long means it cannot be reached.
const READY_WAIT_MS = 5_000;
// Events the tab holds while the inspector is not there: registrations (one per actor) plus this many others.
const TAB_EVENTS = 1_000;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page's HTML; `consoleUrl` is the server's console (GET /), when known. */
export function bridgePage(websocketUrl: string, consoleUrl: string | undefined): string {
  const link = consoleUrl === undefined ? 'the server’s own address (GET /)' : `<a id="console" href="${escapeHtml(consoleUrl)}">${escapeHtml(consoleUrl)}</a>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>telemetry-actor · Stately inspector bridge</title>
<link rel="icon" href="data:,">
<style>
  * { margin: 0; padding: 0; }
  html, body { height: 100%; font: 15px/1.5 system-ui, sans-serif; }
  iframe { width: 100%; height: 100%; border: none; }
  #offline { position: fixed; inset: 0; display: none; place-items: center; background: #f5f6fa; padding: 2rem; }
  #offline div { max-width: 40rem; background: #fff; border: 1px solid #dde2ea; border-radius: 8px; padding: 1.5rem; }
  #offline h1 { font-size: 1.2rem; margin-bottom: .6rem; }
  #offline p { margin-top: .6rem; }
  body.offline #offline { display: grid; }
</style>
</head>
<body>
<iframe id="inspector" title="Stately inspector" src="${HOSTED_INSPECTOR}"></iframe>
<section id="offline" role="alert"><div>
  <h1>The Stately inspector cannot be reached</h1>
  <p>This page embeds the hosted inspector at <code>${HOSTED_INSPECTOR}</code>, which needs the internet, and it did
  not answer. The server's events still arrive here (<span id="count">0</span> so far), and are shown as soon as it does.</p>
  <p>Offline, the server's own console shows the live state, the session and the heartbeats: ${link}</p>
</div></section>
<script>
(() => {
  const iframe = document.getElementById('inspector');
  const registrations = new Map();
  const recent = [];
  let connected = false;
  let received = 0;
  const offline = () => { if (!connected) document.body.classList.add('offline'); };
  const post = (event) => iframe.contentWindow.postMessage(event, '*');
  window.addEventListener('message', (e) => {
    if (!e.data || e.data.type !== '@statelyai.connected') return;
    connected = true;
    document.body.classList.remove('offline');
    registrations.forEach(post);
    recent.forEach(post);
    registrations.clear();
    recent.length = 0;
  });
  if (!navigator.onLine) offline();
  setTimeout(offline, ${READY_WAIT_MS});
  const ws = new WebSocket(${JSON.stringify(websocketUrl)});
  ws.onmessage = (message) => {
    const event = JSON.parse(message.data);
    document.getElementById('count').textContent = String(++received);
    if (connected) return post(event);
    // Bounded: the latest registration of each actor, and the last ${TAB_EVENTS} other events.
    if (event.type === '@xstate.actor') { registrations.delete(event.sessionId); registrations.set(event.sessionId, event); return; }
    recent.push(event);
    if (recent.length > ${TAB_EVENTS}) recent.shift();
  };
})();
</script>
</body>
</html>`;
}
