// Stock-n8n admin route: GET /<rest>/kafka-logger/health in front of the editor fallback, behind an n8n owner/admin session or a bearer token.
import { timingSafeEqual } from 'node:crypto';
import { sendHealth } from './health';
import type { N8nHost } from './host';
import type { LoggerRuntime } from './runtime';

const ADMIN_ROLES = new Set(['global:owner', 'global:admin', 'owner', 'admin']);

function bearerMatches(header: unknown, token: string | undefined): boolean {
  if (!token || typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  const a = Buffer.from(header.slice(7).trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookie(header: unknown, name: string): string | undefined {
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

/** An owner/admin n8n session from the auth cookie, checked by n8n's own AuthService. */
async function sessionIsAdmin(host: N8nHost, req: any, res: any): Promise<boolean> {
  const name = host.require('dist/constants.js')?.AUTH_COOKIE_NAME ?? 'n8n-auth';
  const token = req.cookies?.[name] ?? cookie(req.headers?.cookie, name);
  if (!token) return false;
  const auth = host.service('dist/auth/auth.service.js', 'AuthService');
  if (typeof auth?.validateToken !== 'function' && typeof auth?.resolveJwt !== 'function') return false;
  try {
    const invalid = host.service('@n8n/db', 'InvalidAuthTokenRepository');
    if (invalid && (await invalid.existsBy({ token }))) return false;
    // n8n >= 2.x: validateToken; 1.x: resolveJwt (which also refreshes a cookie about to expire)
    const user = typeof auth.validateToken === 'function' ? (await auth.validateToken(token))?.user : (await auth.resolveJwt(token, req, res))?.[0];
    const role = typeof user?.role === 'string' ? user.role : user?.role?.slug;
    return ADMIN_ROLES.has(String(role));
  } catch {
    return false;
  }
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

/** Adds the route to n8n's Express app and moves it in front of the editor-UI fallback. */
export function installStockRoute(app: any, host: N8nHost, runtime: LoggerRuntime, token: string | undefined): string {
  const path = healthPath(host);
  app.get(path, (req: any, res: any) => {
    void (async () => {
      try {
        if (!bearerMatches(req.headers?.authorization, token) && !(await sessionIsAdmin(host, req, res))) {
          res.status(401).json({ status: 'error', message: 'Unauthorized' });
          return;
        }
        sendHealth(req, res, runtime, host);
      } catch {
        if (!res.headersSent) res.status(500).json({ status: 'error', message: 'health snapshot failed' });
      }
    })();
  });
  const stack: any[] | undefined = app.router?.stack ?? app._router?.stack;
  if (Array.isArray(stack)) {
    const i = stack.findIndex((layer) => layer?.route?.path === path);
    if (i > 0) stack.unshift(...stack.splice(i, 1));
  }
  return path;
}
