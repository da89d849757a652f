import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  authorization?: string;
  body: Record<string, unknown>;
}

/**
 * A stand-in for the W&B API on 127.0.0.1 only: answers the GraphQL Viewer and UpsertBucket
 * operations and file_stream posts, and records every request. It closes itself after `ttlMs`
 * and refuses more than `maxRequests`, so no test loop can run away.
 */
export class FakeWandb {
  readonly requests: Recorded[] = [];
  private server?: Server;
  private timer?: NodeJS.Timeout;
  url = '';

  constructor(
    private readonly opts: { maxRequests?: number; ttlMs?: number; failGraphql?: boolean } = {},
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        ({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        },
        (err) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: String(err) }));
        },
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    this.timer = setTimeout(() => void this.stop(), this.opts.ttlMs ?? 120_000);
    this.timer.unref();
    return this.url;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const path = (req.url ?? '').split('?')[0]!;
    if (this.requests.length >= (this.opts.maxRequests ?? 2000)) return { status: 400, body: { error: 'too many requests for a test' } };
    this.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
    if (path === '/graphql') {
      if (this.opts.failGraphql) return { status: 400, body: { errors: [{ message: 'refused by the test' }] } };
      const query = String(body.query ?? '');
      const vars = (body.variables ?? {}) as Record<string, unknown>;
      if (/upsertBucket/.test(query)) {
        return {
          status: 200,
          body: {
            data: {
              upsertBucket: {
                bucket: {
                  id: `bucket-${vars.name}`,
                  name: vars.name,
                  displayName: vars.displayName ?? vars.name,
                  description: null,
                  config: vars.config ?? null,
                  sweepName: null,
                  project: { id: 'p1', name: vars.project, entity: { id: 'e1', name: vars.entity } },
                },
                inserted: true,
              },
            },
          },
        };
      }
      if (/viewer/.test(query)) {
        return { status: 200, body: { data: { viewer: { id: 'u1', entity: 'test-entity', flags: '{}', teams: { edges: [] } } } } };
      }
      return { status: 200, body: { data: {} } };
    }
    if (/^\/files\/[^/]+\/[^/]+\/[^/]+\/file_stream$/.test(path)) return { status: 200, body: { exitcode: null, limits: {} } };
    return { status: 404, body: { error: `unknown path ${path}` } };
  }

  /** GraphQL requests whose query mentions `op`. */
  graphql(op: string): Record<string, unknown>[] {
    return this.requests
      .filter((r) => r.path === '/graphql' && String(r.body.query).includes(op))
      .map((r) => (r.body.variables ?? {}) as Record<string, unknown>);
  }

  /** The history a run ended with: file_stream lines placed at their offsets (later writes win). */
  history(runId: string): Record<string, unknown>[] {
    const lines: string[] = [];
    for (const r of this.fileStream(runId)) {
      const f = (r.files as Record<string, { offset: number; content: string[] }> | undefined)?.['wandb-history.jsonl'];
      if (!f) continue;
      f.content.forEach((l, i) => (lines[f.offset + i] = l));
    }
    return lines.filter((l) => l !== undefined).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  fileStream(runId: string): Record<string, unknown>[] {
    return this.requests.filter((r) => r.path.endsWith(`/${runId}/file_stream`)).map((r) => r.body);
  }

  /** The last summary sent: file_stream's wandb-summary.json merged with upsertBucket summaryMetrics. */
  summary(runId: string): Record<string, unknown> {
    let out: Record<string, unknown> = {};
    for (const r of this.requests) {
      if (r.path.endsWith(`/${runId}/file_stream`)) {
        const f = (r.body.files as Record<string, { content: string[] }> | undefined)?.['wandb-summary.json'];
        if (f) out = { ...out, ...(JSON.parse(f.content.at(-1)!) as Record<string, unknown>) };
      }
      if (r.path === '/graphql' && String(r.body.query).includes('upsertBucket')) {
        const v = (r.body.variables ?? {}) as Record<string, unknown>;
        if (v.name === runId && typeof v.summaryMetrics === 'string') out = { ...out, ...(JSON.parse(v.summaryMetrics) as Record<string, unknown>) };
      }
    }
    return out;
  }
}
