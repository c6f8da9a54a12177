// The HTTP surface's defences, in the order a request meets them, before any handler runs (docs/security.md):
// the headers every answer carries, the Host (DNS rebinding), the requesting site (CSRF and cross-site reads),
// then the route's access rule (rate limit, read token, the CLI's local writes).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REFUSALS, type Refusal } from '../../errors.js';
import { isJsonContentType, sendRefusal } from '../../httpJson.js';
import { limitRepeats } from '../../logLimit.js';
import type { Logger } from '../../logger.js';
import type { Access } from '../routes.js';
import { isExposed } from './exposure.js';
import { setSafetyHeaders } from './headers.js';
import { createHostPolicy } from './hosts.js';
import { crossSiteRefusal } from './origin.js';
import { clientOf, createRateLimiter, type RateLimiter } from './rateLimit.js';
import { createReadAccess } from './readToken.js';
import { parseTarget, type Target } from './target.js';

/** The settings the guard reads (a subset of Settings). */
export interface GuardSettings {
  host: string;
  allowedHosts: readonly string[] | '*';
  trustProxy: boolean;
  readToken: string | undefined;
  rateLimit: number;
  rateBurst: number;
}

export interface Guard {
  /**
   * Sets the headers every answer carries, then checks the Host and the requesting site. Returns the target
   * to route, or undefined once it has answered the refusal (400 or 403).
   */
  admit(req: IncomingMessage, res: ServerResponse): Target | undefined;
  /** Checks the route's access rule; false once it has answered the refusal (401, 403, 415 or 429). */
  authorize(req: IncomingMessage, res: ServerResponse, access: Access, target: Target): boolean;
  /** A one-time ticket for the event stream (POST /api/events/ticket). */
  ticket(): string;
}

function deny(res: ServerResponse, refusal: Refusal): false {
  sendRefusal(res, refusal);
  return false;
}

function unauthorized(res: ServerResponse): false {
  sendRefusal(res, REFUSALS.noReadToken, undefined, { 'www-authenticate': 'Bearer' });
  return false;
}

/** True when the request came straight from this machine: a loopback socket, and no proxy said it relayed it. */
function isDirectLocal(req: IncomingMessage): boolean {
  const from = req.socket.remoteAddress ?? '';
  const loopback = from === '::1' || from.startsWith('127.') || from.startsWith('::ffff:127.');
  return loopback && req.headers['x-forwarded-for'] === undefined && req.headers.forwarded === undefined;
}

/** `onRateLimited` is told of each 429, so /metrics counts the refusals the guard answers before the collector sees them. */
export function createGuard(settings: GuardSettings, logger: Logger, onRateLimited?: () => void): Guard {
  const log = logger.child({ component: 'http' });
  const hosts = createHostPolicy({ listenHost: settings.host, allowed: settings.allowedHosts });
  if (hosts.allowsAll) log.warn('TELEMETRY_ALLOWED_HOSTS=* answers every Host: a web page on any name that points at this server can read it');
  const reads = createReadAccess({ token: settings.readToken });
  const limiter: RateLimiter | undefined =
    isExposed(settings) && settings.rateLimit > 0 ? createRateLimiter({ perMinute: settings.rateLimit, burst: settings.rateBurst }) : undefined;
  // No address in the line, ever (docs/privacy.md): how often, not who.
  const limited = limitRepeats(log, { perWindow: 1 });

  function send(req: IncomingMessage, res: ServerResponse): boolean {
    const wait = limiter?.take(clientOf(req, settings.trustProxy)) ?? 0;
    if (wait === 0) return true;
    limited.warn({ perMinute: settings.rateLimit, burst: settings.rateBurst }, 'Rate limit reached; heartbeats answered 429');
    onRateLimited?.();
    sendRefusal(res, REFUSALS.rateLimited(wait));
    return false;
  }

  function local(req: IncomingMessage, res: ServerResponse): boolean {
    if (!isDirectLocal(req)) return deny(res, REFUSALS.notLocal);
    if (!reads.allows(req)) return unauthorized(res);
    // A browser can send text/plain, a form or multipart to any address without asking; JSON it must preflight.
    return isJsonContentType(req.headers['content-type']) || deny(res, REFUSALS.notJson);
  }

  return {
    admit(req, res) {
      setSafetyHeaders(res);
      const target = parseTarget(req.url, req.headers.host);
      if (target === undefined) return void sendRefusal(res, REFUSALS.badTarget);
      if (!hosts.allows(target.authority)) return void sendRefusal(res, REFUSALS.hostNotAllowed(target.authority));
      const crossSite = crossSiteRefusal(req, target.authority);
      return crossSite === undefined ? target : void sendRefusal(res, crossSite);
    },
    authorize(req, res, access, target) {
      switch (access) {
        case 'public':
          return true;
        case 'send':
          return send(req, res);
        case 'local':
          return local(req, res);
        case 'read':
          return reads.allows(req) || unauthorized(res);
        case 'stream':
          return reads.allowsStream(req, target.query) || unauthorized(res);
      }
    },
    ticket: () => reads.ticket(),
  };
}
