import axios, { AxiosError, type AxiosInstance } from 'axios';
import { z } from 'zod';
import { userLabel, type Logger } from '../../logging';
import { EntitlementsUnavailableError, type Entitlements, type EntitlementsBackend, type EntitlementsRequest } from '../types';

/** ENTITLEMENTS_BACKEND_PARAMETERS of the deploycenter backend: the keys of the Django settings. */
export interface DeployCenterParameters {
  /** The full endpoint URL, e.g. `https://dc.example/api/v1.0/entitlements/`. */
  base_url: string;
  service_id: string;
  /** Seconds. */
  timeout: number;
  /** Userinfo claims forwarded as query parameters when present (typically `siret`). */
  oidc_claims: string[];
}

const parametersSchema = z.object({
  base_url: z.url({ protocol: /^https?$/, error: 'base_url must be an http(s) URL' }),
  service_id: z.union([z.string().trim().min(1), z.number().int()], { error: 'service_id is required (a string or a number)' }).transform(String),
  timeout: z.number({ error: 'timeout must be a number of seconds' }).positive({ error: 'timeout must be above 0' }).default(10),
  oidc_claims: z.array(z.string().min(1), { error: 'oidc_claims must be a list of claim names' }).default([]),
  api_key: z.string({ error: 'api_key must be a string' }).min(1).optional(),
});

export type ParsedDeployCenterParameters = { ok: true; parameters: DeployCenterParameters; apiKey?: string } | { ok: false; problem: string };

export function parseDeployCenterParameters(raw: Record<string, unknown>): ParsedDeployCenterParameters {
  const result = parametersSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issue?.path.join('.') ?? '';
    const missing = key !== '' && raw[key] === undefined;
    return { ok: false, problem: missing ? `the deploycenter backend needs "${key}"` : (issue?.message ?? 'invalid') };
  }
  const { api_key: apiKey, ...parameters } = result.data;
  return { ok: true, parameters, apiKey };
}

/** Largest answer accepted: a 50,000-domain list is about 1.5 MB. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The HTTP contract of DeployCenter (st-deploycenter): `GET {base_url}?service_id=&account_type=user&
 * account_email=[&<claim>=]` with `X-Service-Auth: Bearer <key>`, answering
 * `{ organization, operator, entitlements: { can_access, can_admin_maildomains?, ... } }`.
 */
export class DeployCenterEntitlementsBackend implements EntitlementsBackend {
  private readonly http: AxiosInstance;

  constructor(
    private readonly parameters: DeployCenterParameters,
    apiKey: string,
    private readonly logger: Logger,
  ) {
    this.http = axios.create({
      timeout: Math.round(parameters.timeout * 1000),
      headers: { 'X-Service-Auth': `Bearer ${apiKey}`, Accept: 'application/json' },
      responseType: 'text',
      transformResponse: (data: unknown) => data,
      maxContentLength: MAX_RESPONSE_BYTES,
      maxRedirects: 0,
      validateStatus: (status) => status >= 200 && status < 300,
    });
  }

  /** The query of one user: claims configured in `oidc_claims` only when the userinfo carries them. */
  protected buildQuery(request: EntitlementsRequest): Record<string, string> {
    const query: Record<string, string> = {
      service_id: this.parameters.service_id,
      account_type: 'user',
      account_email: request.email ?? '',
    };
    for (const claim of this.parameters.oidc_claims) {
      const value = request.userInfo?.[claim];
      if (value !== undefined && value !== null && value !== '') query[claim] = String(value);
    }
    return query;
  }

  async getUserEntitlements(request: EntitlementsRequest): Promise<Entitlements> {
    const body = await this.fetch(request);
    return this.parseBody(body, request);
  }

  private async fetch(request: EntitlementsRequest): Promise<string> {
    // axios's own timeout restarts with every byte received: this deadline bounds the whole call, the
    // body however slowly it trickles in and the retry included.
    const signal = AbortSignal.timeout(Math.round(this.parameters.timeout * 1000));
    // The URL built here, not by axios's \`params\`: a third of axios's cost per request (measured in a resync).
    const url = `${this.parameters.base_url}${this.parameters.base_url.includes('?') ? '&' : '?'}${new URLSearchParams(this.buildQuery(request))}`;
    const get = () => this.http.get<string>(url, { signal });
    try {
      return (await get()).data;
    } catch (error) {
      // A kept-alive socket the server closed meanwhile: the GET is idempotent, so it is sent once more.
      if (!(error instanceof AxiosError && error.code === 'ECONNRESET')) throw this.unavailable(this.classify(error), request);
    }
    try {
      return (await get()).data;
    } catch (error) {
      throw this.unavailable(this.classify(error), request);
    }
  }

  private classify(error: unknown): { reason: EntitlementsUnavailableError['reason']; detail: string } {
    if (error instanceof AxiosError) {
      if (error.response) return { reason: 'http_status', detail: `HTTP ${error.response.status}` };
      if (error.code === AxiosError.ECONNABORTED || error.code === AxiosError.ETIMEDOUT || error.code === AxiosError.ERR_CANCELED) {
        return { reason: 'timeout', detail: `no answer within ${this.parameters.timeout}s` };
      }
      return { reason: 'connection', detail: error.code ?? 'connection failed' };
    }
    return { reason: 'connection', detail: 'request failed' };
  }

  private parseBody(body: string, request: EntitlementsRequest): Entitlements {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw this.unavailable({ reason: 'invalid_json', detail: 'the answer is not JSON' }, request);
    }
    if (!isPlainObject(parsed)) {
      throw this.unavailable({ reason: 'invalid_body', detail: 'the answer is not a JSON object' }, request);
    }
    // An answer without an `entitlements` object grants nothing, as in the reference implementation.
    const entitlements = isPlainObject(parsed.entitlements) ? parsed.entitlements : {};
    return {
      ...entitlements,
      can_access: entitlements.can_access === true,
      can_admin_maildomains: entitlements.can_admin_maildomains ?? null,
    };
  }

  private unavailable(
    { reason, detail }: { reason: EntitlementsUnavailableError['reason']; detail: string },
    request: EntitlementsRequest,
  ): EntitlementsUnavailableError {
    this.logger.warn({ user: userLabel(request.email), reason, detail }, 'entitlements service unavailable');
    return new EntitlementsUnavailableError(reason, `DeployCenter: ${detail}`);
  }
}
