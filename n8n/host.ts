// Finds the running n8n and reaches its own module copies and DI services (never a second copy); never throws.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

/** Services the adapters read from the running n8n; each lookup may be undefined on another n8n version. */
export interface N8nHost {
  root: string | undefined;
  /** require() that resolves from n8n's own package folder. */
  require(id: string): any;
  /** Container.get(<class exported by n8n's module>), undefined if it cannot be had. */
  service(moduleId: string, exportName: string): any;
  version(): string | undefined;
  instanceId(): string | undefined;
  instanceType(): 'main' | 'worker' | 'webhook' | undefined;
  executionsMode(): string;
  command(): string | undefined;
}

function isN8nPackage(dir: string): boolean {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    return pkg && pkg.name === 'n8n';
  } catch {
    return false;
  }
}

function walkUp(start: string): string | undefined {
  let dir = start;
  for (let i = 0; i < 12; i++) {
    if (isN8nPackage(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

/** n8n's package root: from the running script (bin/n8n), then resolution from the working directory. */
export function findN8nRoot(): string | undefined {
  const starts = [require.main?.filename, process.argv[1]].filter((s): s is string => typeof s === 'string');
  for (const s of starts) {
    let real = s;
    try {
      real = fs.realpathSync(s);
    } catch {
      /* keep s */
    }
    const hit = walkUp(path.dirname(real));
    if (hit) return hit;
  }
  try {
    return path.dirname(require.resolve('n8n/package.json', { paths: [process.cwd(), __dirname] }));
  } catch {
    return undefined;
  }
}

export function createHost(root = findN8nRoot()): N8nHost {
  const req: NodeRequire = root ? createRequire(path.join(root, 'package.json')) : require;
  const cache = new Map<string, any>();

  const load = (id: string): any => {
    if (cache.has(id)) return cache.get(id);
    let mod: any;
    try {
      // n8n-internal files are given as dist paths, resolved inside n8n's folder
      mod = id.startsWith('dist/') && root ? req(path.join(root, id)) : req(id);
    } catch {
      mod = undefined;
    }
    cache.set(id, mod);
    return mod;
  };

  const service = (moduleId: string, exportName: string): any => {
    try {
      const cls = load(moduleId)?.[exportName];
      const Container = load('@n8n/di')?.Container;
      if (!cls || !Container) return undefined;
      return Container.get(cls);
    } catch {
      return undefined;
    }
  };

  const instanceSettings = () => service('n8n-core', 'InstanceSettings');

  return {
    root,
    require: (id: string) => load(id),
    service,
    version: () => {
      const v = load('dist/constants.js')?.N8N_VERSION;
      if (typeof v === 'string') return v;
      try {
        return root ? JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version : undefined;
      } catch {
        return undefined;
      }
    },
    instanceId: () => {
      try {
        const id = instanceSettings()?.instanceId;
        return typeof id === 'string' && id ? id : undefined;
      } catch {
        return undefined;
      }
    },
    instanceType: () => {
      try {
        const t = instanceSettings()?.instanceType;
        if (t === 'main' || t === 'worker' || t === 'webhook') return t;
      } catch {
        /* fall through */
      }
      const cmd = process.argv[2];
      return cmd === 'worker' ? 'worker' : cmd === 'webhook' ? 'webhook' : 'main';
    },
    executionsMode: () => {
      try {
        const m = service('@n8n/config', 'GlobalConfig')?.executions?.mode;
        if (typeof m === 'string') return m;
      } catch {
        /* fall through */
      }
      return process.env.EXECUTIONS_MODE ?? 'regular';
    },
    command: () => process.argv[2],
  };
}
