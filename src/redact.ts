// The one redaction rule for text that leaves the process: a URL loses its userinfo and query values.

/**
 * A URL as safe to show in logs, errors, the API and the inspector: no user name, password, query or
 * fragment. Text that is not a URL with a host (`user:pw@host:8080` parses as scheme `user:`) is shown as
 * `<invalid URL>`, since it may hold anything.
 */
export function redactUrl(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    if (url.host === '') return '<invalid URL>';
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '<invalid URL>';
  }
}

// A scheme, `://`, then anything up to a blank or a quote: every URL a message or a value can carry.
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

/**
 * Text with the rule applied to every URL in it: one with userinfo, a query or a fragment is shown as
 * {@link redactUrl} shows it; one that does not parse still loses its `user:pw@` and its query. Other text
 * is left as it is (a URL with nothing to hide keeps its exact spelling).
 */
export function redactUrlsIn(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (url) => (/[@?#]/.test(url) ? redactOne(url) : url));
}

/** A value that may be a URL (even a malformed or scheme-less one) with its secrets gone: for settings errors. */
export function redactValue(value: string): string {
  const url = redactUrl(value.trim());
  if (url !== '<invalid URL>') return url;
  return stripSecrets(value);
}

function redactOne(url: string): string {
  const redacted = redactUrl(url);
  return redacted === '<invalid URL>' ? stripSecrets(url) : redacted;
}

function stripSecrets(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^?#\s]*@/i, '$1<redacted>@').replace(/[?#].*$/, '?<redacted>');
}

/** A JSON replacer applying {@link redactUrlsIn} to every string: for text serialised at an edge (the inspector). */
export function redactingReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? redactUrlsIn(value) : value;
}
