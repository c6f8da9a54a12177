// The one redaction rule for text that leaves the process: a URL loses its userinfo and query values.

/**
 * A URL as safe to show in logs, errors, the API and the inspector: no user name, password, query or
 * fragment. Text that is not a URL is shown as `<invalid URL>`, since it may hold anything.
 */
export function redactUrl(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '<invalid URL>';
  }
}
