// The part of undici a heartbeat POST needs, required on first use without undici's index.
//
// FRAGILE by design: this reaches into undici's private files (checked against undici 7.30):
//   undici/lib/api/api-request.js            request() as a Dispatcher method
//   undici/lib/core/util.js                  parseURL()
//   undici/lib/dispatcher/env-http-proxy-agent.js  the HTTPS_PROXY / HTTP_PROXY / NO_PROXY dispatcher
//   undici/lib/dispatcher/dispatcher.js      Dispatcher.prototype, given the API methods below
//   undici/lib/api/index.js                  those API methods
// Should a release move any of them, the full package is required instead: heartbeats still go, but start-up
// and memory pay for undici's index again. test/leanLoading.test.ts catches that silent fallback (it asserts
// api-request.js is loaded and undici/index.js is not); test/sender.test.ts and test/package.test.ts check the POST.
import { createRequire } from 'node:module';
import type { Dispatcher, EnvHttpProxyAgent as EnvHttpProxyAgentClass } from 'undici';

export type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Dispatcher };

/** The two parts of undici a heartbeat needs. */
export interface UndiciParts {
  request: (url: string, options: RequestOptions) => Promise<Dispatcher.ResponseData>;
  EnvHttpProxyAgent: typeof EnvHttpProxyAgentClass;
}

let undici: UndiciParts | undefined;

/**
 * undici, required on first use. Its index loads ~110 modules (fetch, websocket, cache, cookies, mock), ~30 of
 * which a POST on a given dispatcher uses: those are required directly, and request() is given the origin and
 * path as undici's own wrapper does. Should a future undici move them, the full package is used instead.
 */
export function loadUndici(): UndiciParts {
  if (undici !== undefined) return undici;
  const require = createRequire(import.meta.url);
  try {
    const apiRequest = require('undici/lib/api/api-request.js') as (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
    const { parseURL } = require('undici/lib/core/util.js') as { parseURL: (url: string) => URL };
    const EnvHttpProxyAgent = require('undici/lib/dispatcher/env-http-proxy-agent.js') as typeof EnvHttpProxyAgentClass;
    // As undici's index does: the proxy agents call connect() and request() on their inner clients, which
    // come from Dispatcher.prototype only once the API methods are assigned to it.
    const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
    Object.assign(Dispatcher.prototype, require('undici/lib/api/index.js') as object);
    const request = (url: string, options: RequestOptions) => {
      const parsed = parseURL(url);
      const path = parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname;
      return apiRequest.call(options.dispatcher, { ...options, origin: parsed.origin, path } as Dispatcher.RequestOptions);
    };
    undici = { request, EnvHttpProxyAgent };
  } catch {
    const full = require('undici') as typeof import('undici');
    undici = { request: (url, options) => full.request(url, options), EnvHttpProxyAgent: full.EnvHttpProxyAgent };
  }
  return undici;
}
