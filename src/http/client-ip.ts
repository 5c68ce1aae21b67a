import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import type { TrustProxy } from '../config';

export type TrustFunction = (address: string, hop: number) => boolean;

/** TRUST_PROXY with Express's `trust proxy` semantics (proxy-addr, as Express itself uses), compiled once. */
export function compileTrust(setting: TrustProxy): TrustFunction {
  if (setting === true) return () => true;
  if (setting === false) return () => false;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return proxyAddr.compile(setting);
}

/**
 * The client's address as TRUST_PROXY says, whatever the host app's own `trust proxy` setting: the
 * library's rate limits and logs never depend on how the app around it was configured.
 */
export function clientIp(req: IncomingMessage, trust: TrustFunction): string {
  return proxyAddr(req, trust);
}
