import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
}

/** What the stand-in answers: a JSON body (object or any value), a raw body, a status, a delay. */
export interface Reply {
  status?: number;
  json?: unknown;
  raw?: string;
  delayMs?: number;
}

/**
 * A real HTTP server on 127.0.0.1 speaking DeployCenter's entitlements contract. `reply` decides each
 * answer (by default from `entitlementsByEmail`); every request is recorded.
 */
export class DeployCenterStandIn {
  requests: RecordedRequest[] = [];
  /** Off for benchmarks: hundreds of thousands of requests need not be kept. */
  recordRequests = true;
  entitlementsByEmail = new Map<string, Record<string, unknown>>();
  /** DeployCenter's answer: the user's entitlements from `entitlementsByEmail`. */
  defaultReply = (request: RecordedRequest): Reply => ({
    json: {
      organization: { name: 'Test org' },
      operator: { name: 'Test operator' },
      entitlements: this.entitlementsByEmail.get(request.query.account_email ?? '') ?? { can_access: false },
    },
  });
  reply: (request: RecordedRequest) => Reply = this.defaultReply;
  private server?: Server;
  private readonly pending = new Set<ServerResponse>();

  reset(): void {
    this.requests = [];
    this.entitlementsByEmail.clear();
    this.reply = this.defaultReply;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}/api/v1.0/entitlements/`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const request: RecordedRequest = { path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers };
      if (this.recordRequests) this.requests.push(request);
      const reply = this.reply(request);
      this.pending.add(res);
      res.on('close', () => this.pending.delete(res));
      const send = () => {
        if (res.destroyed) return;
        const body = reply.raw ?? JSON.stringify(reply.json ?? {});
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(body);
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
      else send();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.pending) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
