import type { EntitlementsConfig } from '../config';
import { hostRequire } from '../host-require';
import type { Logger } from '../logging';
import { DeployCenterEntitlementsBackend } from './backends/deploycenter';
import { LocalEntitlementsBackend } from './backends/local';
import type { EntitlementsBackend } from './types';

export interface BackendContext {
  apiKey?: string;
  logger: Logger;
}

/** A custom backend: a class constructed with the JSON parameters and the context. */
export type EntitlementsBackendClass = new (parameters: Record<string, unknown>, context: BackendContext) => EntitlementsBackend;

function loadBackendClass(modulePath: string): EntitlementsBackendClass {
  const loaded = hostRequire()(modulePath) as Record<string, unknown>;
  const candidate = loaded.default ?? loaded.EntitlementsBackend ?? Object.values(loaded).find((value) => typeof value === 'function');
  if (typeof candidate !== 'function') {
    throw new Error(`ENTITLEMENTS_BACKEND: ${modulePath} exports no backend class (default export or "EntitlementsBackend")`);
  }
  return candidate as EntitlementsBackendClass;
}

/** The backend named by ENTITLEMENTS_BACKEND (docs/specification.md §4), like La Suite's `factory.py`. */
export function createEntitlementsBackend(
  config: Pick<EntitlementsConfig, 'backend' | 'parameters' | 'deployCenter' | 'apiKey'>,
  logger: Logger,
): EntitlementsBackend {
  switch (config.backend) {
    case 'local':
      return new LocalEntitlementsBackend();
    case 'deploycenter':
      if (!config.deployCenter || !config.apiKey) throw new Error('the deploycenter backend needs validated parameters and an API key (loadConfig)');
      return new DeployCenterEntitlementsBackend(config.deployCenter, config.apiKey, logger);
    default: {
      const BackendClass = loadBackendClass(config.backend);
      return new BackendClass(config.parameters, { apiKey: config.apiKey, logger });
    }
  }
}
