/*
 * The public API of oidc-entitlements: everything a host app imports comes from here, and nothing
 * else is. Types are exported wherever a public signature names them.
 */

export { createOidcEntitlements } from './oidc-entitlements';
export type { OidcEntitlements, OidcEntitlementsOptions, OidcEntitlementsPrisma, MetricsHandlerOptions } from './oidc-entitlements';

export { loadConfig, ConfigError } from './config';
export type {
  Config,
  OidcConfig,
  EntitlementsConfig,
  CacheConfig,
  SyncConfig,
  SyncOnUnavailable,
  SessionStoreKind,
  TokenEndpointAuthMethod,
  TrustProxy,
  FeatureFlags,
  Env,
} from './config';

export { OidcEntitlementsError } from './errors';
export type { OidcEntitlementsErrorCode } from './errors';

export { EntitlementsUnavailableError } from './entitlements/types';
export type { Entitlements, EntitlementsBackend, EntitlementsRequest, UnavailableReason } from './entitlements/types';
export { LocalEntitlementsBackend } from './entitlements/backends/local';
export { DeployCenterEntitlementsBackend } from './entitlements/backends/deploycenter';
export type { DeployCenterParameters } from './entitlements/backends/deploycenter';
export type { EntitlementsCacheStore, CachedEntitlements } from './entitlements/cache/store';

export { OidcLoginStrategy } from './auth/strategy';
export type { LoginRefusalInfo, OidcClientConfig, LoginVerifier, VerifiedIdentity } from './auth/strategy';
export { LoginRefusedError } from './auth/errors';
export type { LoginRefusal } from './auth/errors';

export type { SyncResult, SyncOutcome } from './sync/admin-sync';
export type { UserToSync, UserSyncResult } from './sync/sync-user';
export type { Logger } from './logging';

// The structural types of the host's PrismaClient (what OidcEntitlementsPrisma is made of).
export type { DatabaseProvider } from './db/provider';
export type { UserRecord, UserUpdate, UserPrismaClient } from './auth/prisma-types';
export type { SessionPrismaClient } from './auth/database-session-store';
export type { SyncPrismaClient, SyncPrismaTransaction, AccessEventData, AccessAction } from './sync/prisma-types';
export type { ApiPrismaClient, ApiPrismaTransaction, MailDomainRow, AccessRow, AccessUser, JsonValue, JsonObject } from './api/prisma-types';
export type { MailDomainRole, AccessSource } from './sync/plan';
