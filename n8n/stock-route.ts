// Stock-n8n admin route: GET /<rest>/kafka-logger/health after n8n's own middleware, rate limited, behind n8n's auth (owner/admin) or a bearer token.
import { timingSafeEqual } from 'node:crypto';
import { HEALTH_RATE_LIMIT, sendHealth } from './health';
import type { N8nHost } from './host';
import type { LoggerRuntime } from './runtime';

const ADMIN_ROLES = new Set(['global:owner', 'global:admin', 'owner', 'admin']);

type Handler = (req: any, res: any, next: (error?: unknown) => void) => unknown;

function bearerMatches(header: unknown, token: string | undefined): boolean {
  if (!token || typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  const a = Buffer.from(header.slice(7).trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * n8n's own session middleware, the one its REST controllers run: the auth cookie, invalidated (logged-out) tokens,
 * the browser-id binding and MFA enforcement, a 401 and a cleared cookie when any fails. Undefined when this n8n has
 * none (then only the bearer token opens the route).
 */
export function n8nAuthMiddleware(host: N8nHost): Handler | undefined {
  const auth = host.service('dist/auth/auth.service.js', 'AuthService');
  const create = auth?.createAuthMiddleware;
  if (typeof create === 'function') {
    // 1.104 takes `allowSkipMFA` as a boolean, later versions an options object; `{ allowSkipMFA: false }` would read
    // as "skip MFA" on 1.104, so the form is read from the method's own parameter list.
    const objectForm = /^[^(]*\(\s*\{/.test(Function.prototype.toString.call(create));
    return create.call(auth, objectForm ? { allowSkipMFA: false } : false);
  }
  // Versions before createAuthMiddleware: a bound authMiddleware(req, res, next) with the same contract.
  return typeof auth?.authMiddleware === 'function' ? auth.authMiddleware.bind(auth) : undefined;
}

/** n8n's own rate limiter (express-rate-limit from n8n's tree), per client address. Undefined if it cannot be loaded. */
function rateLimiter(host: N8nHost): Handler | undefined {
  const mod = host.require('express-rate-limit');
  const create = mod?.rateLimit ?? mod?.default ?? mod;
  if (typeof create !== 'function') return undefined;
  // validate: false, because its checks log about proxy settings that are n8n's business, not this route's.
  return create({ windowMs: 60_000, limit: HEALTH_RATE_LIMIT, standardHeaders: true, legacyHeaders: false, validate: false });
}

export function healthPath(host: N8nHost): string {
  let rest = 'rest';
  try {
    rest = host.service('@n8n/config', 'GlobalConfig')?.endpoints?.rest ?? 'rest';
  } catch {
    /* default */
  }
  return `/${rest}/kafka-logger/health`;
}

/** Runs a possibly async handler; anything it throws or rejects with becomes a 500 without detail, never a crash. */
function guarded(handler: Handler): Handler {
  return (req, res, next) => {
    const fail = () => {
      if (!res.headersSent) res.status(500).json({ status: 'error', message: 'health check failed' });
    };
    try {
      const result = handler(req, res, next) as any;
      if (result && typeof result.catch === 'function') result.catch(fail);
    } catch {
      fail();
    }
  };
}

/**
 * Adds the route to n8n's Express app where n8n's hook puts it: after n8n's own request middleware (cookie parsing,
 * the browser id, the database-ready check, the content security policy), never in front of them. The editor's
 * history fallback leaves REST paths alone, so the route answers there on every n8n line the tests run.
 * Order: rate limit, then the bearer token, then n8n's session middleware and an owner/admin role (403 for others).
 */
export function installStockRoute(app: any, host: N8nHost, runtime: LoggerRuntime, token: string | undefined, log: { warn(m: string): void }): string {
  const path = healthPath(host);
  const handlers: Handler[] = [];
  const limiter = rateLimiter(host);
  if (limiter) handlers.push(guarded(limiter));
  else log.warn('[kafka-logger] health route: n8n\'s express-rate-limit could not be loaded, the route is not rate limited');
  const session = n8nAuthMiddleware(host);
  if (!session) log.warn('[kafka-logger] health route: this n8n has no auth middleware the route can use; only the bearer token opens it');
  handlers.push(
    guarded((req, res, next) => {
      if (bearerMatches(req.headers?.authorization, token)) sendHealth(req, res, runtime, host);
      else if (session) next();
      else res.status(401).json({ status: 'error', message: 'Unauthorized' });
    }),
  );
  if (session) {
    handlers.push(guarded(session));
    handlers.push(
      guarded((req, res) => {
        const role = typeof req.user?.role === 'string' ? req.user.role : req.user?.role?.slug;
        if (ADMIN_ROLES.has(String(role))) sendHealth(req, res, runtime, host);
        else res.status(403).json({ status: 'error', message: 'Forbidden: the owner or an admin only' });
      }),
    );
  }
  app.get(path, ...handlers);
  return path;
}
