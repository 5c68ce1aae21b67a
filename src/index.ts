export { loadConfig, ConfigError } from './config';
export type { Config, CacheConfig, SyncConfig, OidcConfig, EntitlementsConfig, SyncOnUnavailable, Env } from './config';
export { createLogger, userLabel } from './logging';
export type { Logger } from './logging';

export { EntitlementsUnavailableError } from './entitlements/types';
export type { Entitlements, EntitlementsBackend, EntitlementsRequest, UnavailableReason } from './entitlements/types';
export { LocalEntitlementsBackend } from './entitlements/backends/local';
export { DeployCenterEntitlementsBackend, parseDeployCenterParameters } from './entitlements/backends/deploycenter';
export type { DeployCenterParameters } from './entitlements/backends/deploycenter';
export { createEntitlementsBackend } from './entitlements/factory';
export type { EntitlementsBackendClass, BackendContext } from './entitlements/factory';
export { EntitlementsService } from './entitlements/service';
export type { FetchResult, EntitlementsServiceOptions } from './entitlements/service';
export { createEntitlementsService } from './entitlements/create';
export { MemoryCacheStore } from './entitlements/cache/memory';
export { RedisCacheStore } from './entitlements/cache/redis';
export type { EntitlementsCacheStore, CachedEntitlements } from './entitlements/cache/store';

export { normalizeDomainName, isValidDomainName } from './sync/domain-names';
export { planAdminSync, readEntitledDomains } from './sync/plan';
export type { SyncPlan, KnownDomain, ExistingAccess, MailDomainRole, AccessSource } from './sync/plan';
export { AdminRoleSync } from './sync/admin-sync';
export type { SyncResult, SyncOutcome, SyncOptions, SyncSubject } from './sync/admin-sync';
export type { SyncPrismaClient, SyncPrismaTransaction } from './sync/prisma-types';
export { syncUser } from './sync/sync-user';
export type { UserToSync, UserSyncResult } from './sync/sync-user';
