// Workflow tag names from n8n's database, cached per workflow so an execution costs at most one read per TTL.
import type { N8nHost } from './host';
import { dig, str } from './mapping';

interface Entry {
  at: number;
  tags: string[] | undefined;
  pending?: Promise<string[]>;
}

export class TagCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly host: N8nHost,
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 5_000,
  ) {}

  /** Tag names carried by the workflow object itself (sub-workflows, imports load the relation). */
  static fromWorkflow(workflow: unknown): string[] | undefined {
    const tags = dig(workflow, 'tags');
    if (!Array.isArray(tags)) return undefined;
    const names = tags.map((t) => (typeof t === 'string' ? t : str(dig(t, 'name')))).filter((n): n is string => !!n);
    return names;
  }

  /** Cached tags, or undefined when a read is needed (use `load`). */
  peek(workflowId: string | undefined): string[] | undefined {
    if (!workflowId) return [];
    const e = this.entries.get(workflowId);
    if (e && e.tags && Date.now() - e.at < this.ttlMs) return e.tags;
    return undefined;
  }

  /** Reads the tags (one DB query, shared by concurrent callers); resolves [] on any failure. */
  load(workflowId: string | undefined): Promise<string[]> {
    if (!workflowId) return Promise.resolve([]);
    const cached = this.peek(workflowId);
    if (cached) return Promise.resolve(cached);
    const e = this.entries.get(workflowId);
    if (e?.pending) return e.pending;
    const pending = this.query(workflowId).then(
      (tags) => {
        this.remember(workflowId, tags);
        return tags;
      },
      () => {
        this.remember(workflowId, []);
        return [] as string[];
      },
    );
    this.entries.set(workflowId, { at: 0, tags: undefined, pending });
    return pending;
  }

  remember(workflowId: string, tags: string[]): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.delete(workflowId);
    this.entries.set(workflowId, { at: Date.now(), tags });
  }

  private async query(workflowId: string): Promise<string[]> {
    const repo = this.host.service('@n8n/db', 'TagRepository');
    if (!repo || typeof repo.find !== 'function') return [];
    const rows: unknown[] = await repo.find({ select: { name: true }, where: { workflows: { id: workflowId } } });
    return rows.map((r) => str(dig(r, 'name'))).filter((n): n is string => !!n).sort();
  }
}
