import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { FetchResult } from './entitlements/service';
import type { SyncResult } from './sync/admin-sync';

export type LoginResultLabel = 'success' | 'refused' | 'failed';

/**
 * The Prometheus metrics of docs/specification.md §7.10. Labels are closed sets (outcomes, results): never an email,
 * a sub or a domain name.
 */
export class EntitlementsMetrics {
  readonly registry: Registry;
  private readonly syncs: Counter<'outcome'>;
  private readonly changes: Counter<'change'>;
  private readonly fetches: Counter<'result'>;
  private readonly logins: Counter<'result'>;
  private readonly syncDuration: Histogram;
  private readonly upstreamDuration: Histogram<'result'>;

  constructor({ registry = new Registry(), defaultMetrics = true }: { registry?: Registry; defaultMetrics?: boolean } = {}) {
    this.registry = registry;
    const registers = [registry];
    this.syncs = new Counter({ name: 'oidc_entitlements_syncs_total', help: 'Admin-role syncs by outcome', labelNames: ['outcome'], registers });
    this.changes = new Counter({
      name: 'oidc_entitlements_access_changes_total',
      help: 'ADMIN rows granted, upgraded or revoked by syncs',
      labelNames: ['change'],
      registers,
    });
    this.fetches = new Counter({
      name: 'oidc_entitlements_fetches_total',
      help: 'Entitlements requests by how they were answered',
      labelNames: ['result'],
      registers,
    });
    this.logins = new Counter({ name: 'oidc_entitlements_logins_total', help: 'Logins by result', labelNames: ['result'], registers });
    this.syncDuration = new Histogram({
      name: 'oidc_entitlements_sync_duration_seconds',
      help: 'Duration of admin-role syncs',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.upstreamDuration = new Histogram({
      name: 'oidc_entitlements_upstream_duration_seconds',
      help: 'Duration of requests to the entitlements service',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    if (defaultMetrics) collectDefaultMetrics({ register: registry });
  }

  recordSync = (result: SyncResult): void => {
    this.syncs.inc({ outcome: result.outcome });
    if (result.outcome === 'applied') {
      this.changes.inc({ change: 'granted' }, result.granted);
      this.changes.inc({ change: 'upgraded' }, result.upgraded);
      this.changes.inc({ change: 'revoked' }, result.revoked);
    }
    this.syncDuration.observe(result.durationMs / 1000);
  };

  recordFetch = (result: FetchResult): void => {
    this.fetches.inc({ result });
  };

  recordUpstream = (seconds: number, ok: boolean): void => {
    this.upstreamDuration.observe({ result: ok ? 'ok' : 'unavailable' }, seconds);
  };

  recordLogin = (result: LoginResultLabel): void => {
    this.logins.inc({ result });
  };

  /** `GET /metrics`: the Prometheus text format. */
  handler(): RequestHandler {
    return async (_req, res) => {
      res.type(this.registry.contentType).send(await this.registry.metrics());
    };
  }
}
