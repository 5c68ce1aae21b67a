import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { MemoryCacheStore } from '../../src/entitlements/cache/memory';
import { EntitlementsService } from '../../src/entitlements/service';
import { EntitlementsUnavailableError, type Entitlements } from '../../src/entitlements/types';
import { AdminRoleSync } from '../../src/sync/admin-sync';
import { syncUser } from '../../src/sync/sync-user';
import type { Browser, Page } from '../support/browser';
import { createTestDatabase, PROVIDERS_UNDER_TEST, type TestDatabase } from '../support/databases';
import { createDomains, recordingLogger } from '../support/fixtures';
import { startLoginHarness, type LoginHarness } from '../support/login-harness';
import {
  apiGrant,
  apiRevoke,
  cloneModel,
  describeAnswer,
  emptyModel,
  entitlementsOf,
  KNOWN_DOMAINS,
  NAME_ITEMS,
  refresh,
  rowsOf,
  sync,
  type Answer,
  type AnswerSpec,
  type Model,
  type ModelResult,
  type Role,
  type SyncSettings,
} from './sync-model';

/*
 * The model-based test of the admin-role sync (issue "correctness"): random sequences of entitlements
 * answers, manual grants and revocations through the HTTP access API, settings, cache evictions and
 * concurrent pairs, run against the real sync on each database; after every step the rows and the
 * audit rows must be the model's. MODEL_RUNS sequences per database (`npm run test:model` runs 10,000);
 * MODEL_SEED replays a failure fast-check reported.
 */
const RUNS = Number(process.env.MODEL_RUNS ?? 40);
const SEED = process.env.MODEL_SEED === undefined ? undefined : Number(process.env.MODEL_SEED);
const USERS = 3;
/** Smaller than the number of users, so that answers are evicted. */
const CACHE_SIZE = 2;

interface Real {
  db: TestDatabase;
  users: { id: string; sub: string; email: string }[];
  domainIds: Map<string, string>;
  api(method: string, path: string, json?: unknown): Promise<Page>;
  /** What the backend answers next. */
  backend: { next: AnswerSpec };
  service: EntitlementsService;
  syncWith(settings: SyncSettings): AdminRoleSync;
}

async function expectState(model: Model, real: Real): Promise<void> {
  expect(await realState(real)).toEqual({ rows: rowsOf(model), events: [...model.events].sort() });
}

async function realState(real: Real): Promise<{ rows: string[]; events: string[] }> {
  const ids = real.users.map((user) => user.id);
  const index = (id: string) => ids.indexOf(id);
  const [rows, events] = await Promise.all([
    real.db.prisma.mailDomainAccess.findMany({ where: { userId: { in: ids } }, include: { maildomain: true } }),
    real.db.prisma.accessEvent.findMany({ where: { userId: { in: ids } } }),
  ]);
  return {
    rows: rows.map((row) => `${index(row.userId)} ${row.maildomain.name} ${row.role} ${row.source}`).sort(),
    events: events
      .map((event) => `${event.action} ${index(event.userId)} ${event.domainName} ${event.role} ${event.source} ${event.actor === 'sync' ? 'sync' : 'api'}`)
      .sort(),
  };
}

const resultOf = (result: ModelResult): ModelResult => ({
  outcome: result.outcome,
  granted: result.granted,
  upgraded: result.upgraded,
  revoked: result.revoked,
  unknownDomains: result.unknownDomains,
});

type ApiOp = { kind: 'grant'; domain: string; role: Role } | { kind: 'revoke'; domain: string };

/** Runs an API call on the real app, with the status the model expects given whether the target row existed when the call was prepared. */
async function prepareApi(real: Real, user: number, op: ApiOp): Promise<{ call: () => Promise<number>; onModel: (model: Model) => number }> {
  const domainId = real.domainIds.get(op.domain)!;
  if (op.kind === 'grant') {
    return {
      call: async () => (await real.api('POST', `/maildomains/${domainId}/accesses/`, { user: real.users[user]!.id, role: op.role })).status,
      onModel: (model) => apiGrant(model, user, op.domain, op.role),
    };
  }
  const row = await real.db.prisma.mailDomainAccess.findFirst({ where: { userId: real.users[user]!.id, maildomainId: domainId } });
  return {
    call: async () => (await real.api('DELETE', `/maildomains/${domainId}/accesses/${row?.id ?? randomUUID()}/`)).status,
    onModel: (model) => (row ? apiRevoke(model, user, op.domain) : 404),
  };
}

const describeOp = (op: ApiOp) => (op.kind === 'grant' ? `grant ${op.domain} ${op.role}` : `revoke ${op.domain}`);
const describeSettings = (s: SyncSettings) =>
  `${s.preserveManual ? ' preserve' : ''}${s.maxRevocations ? ` cap=${s.maxRevocations}` : ''}${s.dryRun ? ' dry' : ''}`;

class SyncCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly user: number,
    readonly answer: AnswerSpec,
    readonly settings: SyncSettings,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    real.backend.next = this.answer;
    const result = await syncUser({ entitlements: real.service, adminSync: real.syncWith(this.settings) }, real.users[this.user]!);
    expect(resultOf(result)).toEqual(sync(model, this.user, refresh(model, this.user, this.answer), this.settings));
    await expectState(model, real);
  }
  toString = () => `login(u${this.user}, ${describeAnswer(this.answer)}${describeSettings(this.settings)})`;
}

class ApiCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly user: number,
    readonly op: ApiOp,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const { call, onModel } = await prepareApi(real, this.user, this.op);
    expect(await call()).toBe(onModel(model));
    await expectState(model, real);
  }
  toString = () => `api(u${this.user}, ${describeOp(this.op)})`;
}

/**
 * Two things at once on one user: the end state, the results and the statuses must be those of one of
 * the two orders (docs/specification.md §5.2: serial-equivalent).
 */
async function expectOneOrder<A, B>(
  model: Model,
  real: Real,
  run: () => Promise<[A, B]>,
  first: (model: Model) => A,
  second: (model: Model) => B,
): Promise<void> {
  const [a, b] = await run();
  const state = await realState(real);
  const orders = [
    () => {
      const m = cloneModel(model);
      const ea = first(m);
      return { m, expected: [ea, second(m)] as [A, B] };
    },
    () => {
      const m = cloneModel(model);
      const eb = second(m);
      return { m, expected: [first(m), eb] as [A, B] };
    },
  ].map((order) => order());
  const matching = orders.find(({ m, expected }) => {
    try {
      expect({ state, results: [a, b] }).toEqual({ state: { rows: rowsOf(m), events: [...m.events].sort() }, results: expected });
      return true;
    } catch {
      return false;
    }
  });
  if (!matching) {
    expect({ state, results: [a, b] }).toEqual({
      either: orders.map(({ m, expected }) => ({ state: { rows: rowsOf(m), events: [...m.events].sort() }, results: expected })),
    });
  }
  Object.assign(model, matching!.m);
}

class TwoSyncsCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly user: number,
    readonly answers: [Answer, Answer],
    readonly settings: [SyncSettings, SyncSettings],
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const subject = real.users[this.user]!;
    const [a, b] = this.answers;
    const [sa, sb] = this.settings;
    await expectOneOrder(
      model,
      real,
      async () => {
        const [ra, rb] = await Promise.all([
          real.syncWith(sa).sync(subject, entitlementsOf(a) as Entitlements),
          real.syncWith(sb).sync(subject, entitlementsOf(b) as Entitlements),
        ]);
        return [resultOf(ra), resultOf(rb)];
      },
      (m) => sync(m, this.user, a, sa),
      (m) => sync(m, this.user, b, sb),
    );
  }
  toString = () =>
    `together(login(u${this.user}, ${describeAnswer(this.answers[0])}${describeSettings(this.settings[0])}), login(u${this.user}, ${describeAnswer(this.answers[1])}${describeSettings(this.settings[1])}))`;
}

class SyncRacingApiCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly user: number,
    readonly answer: Answer,
    readonly settings: SyncSettings,
    readonly op: ApiOp,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const subject = real.users[this.user]!;
    const { call, onModel } = await prepareApi(real, this.user, this.op);
    await expectOneOrder(
      model,
      real,
      async () => {
        const [result, status] = await Promise.all([real.syncWith(this.settings).sync(subject, entitlementsOf(this.answer) as Entitlements), call()]);
        return [resultOf(result), status];
      },
      (m) => sync(m, this.user, this.answer, this.settings),
      onModel,
    );
  }
  toString = () =>
    `together(login(u${this.user}, ${describeAnswer(this.answer)}${describeSettings(this.settings)}), api(u${this.user}, ${describeOp(this.op)}))`;
}

const userArb = fc.integer({ min: 0, max: USERS - 1 });
const domainArb = fc.constantFrom(...KNOWN_DOMAINS);
const settingsArb: fc.Arbitrary<SyncSettings> = fc.record({
  preserveManual: fc.boolean(),
  maxRevocations: fc.constantFrom(0, 0, 0, 1, 2),
  dryRun: fc.constantFrom(false, false, false, false, true),
});
const answerArb: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.constantFrom(...NAME_ITEMS), { maxLength: 5 }).map((items) => ({ kind: 'list' as const, items })) },
  { weight: 1, arbitrary: fc.constantFrom<Answer>({ kind: 'null' }, { kind: 'absent' }, { kind: 'not_a_list' }, { kind: 'non_string' }) },
);
const answerOrOutageArb: fc.Arbitrary<AnswerSpec> = fc.oneof(
  { weight: 4, arbitrary: answerArb },
  { weight: 1, arbitrary: fc.constant({ kind: 'outage' as const }) },
);
const apiOpArb: fc.Arbitrary<ApiOp> = fc.oneof(
  fc.record({ kind: fc.constant('grant' as const), domain: domainArb, role: fc.constantFrom<Role>('ADMIN', 'VIEWER') }),
  fc.record({ kind: fc.constant('revoke' as const), domain: domainArb }),
);

const commandsArb = fc.commands(
  [
    fc.tuple(userArb, answerOrOutageArb, settingsArb).map(([user, answer, settings]) => new SyncCommand(user, answer, settings)),
    fc.tuple(userArb, apiOpArb).map(([user, op]) => new ApiCommand(user, op)),
    fc.tuple(userArb, answerArb, answerArb, settingsArb, settingsArb).map(([user, a, b, sa, sb]) => new TwoSyncsCommand(user, [a, b], [sa, sb])),
    fc.tuple(userArb, answerArb, settingsArb, apiOpArb).map(([user, answer, settings, op]) => new SyncRacingApiCommand(user, answer, settings, op)),
  ],
  { maxCommands: 12 },
);

describe.each(PROVIDERS_UNDER_TEST)('the admin-role sync against its model on %s', (provider) => {
  let db: TestDatabase;
  let h: LoginHarness;
  let admin: Browser;
  const real = {} as Real;

  beforeAll(async () => {
    db = await createTestDatabase(provider);
    h = await startLoginHarness(db);
    await db.prisma.user.create({ data: { sub: 'bob', email: 'bob@example.fr', isSuperuser: true } });
    admin = h.browser();
    await h.login(admin, 'bob');
    const domains = await createDomains(db.prisma, [...KNOWN_DOMAINS]);
    real.db = db;
    real.domainIds = new Map(domains.map((domain) => [domain.name, domain.id]));
    real.users = [];
    for (let i = 0; i < USERS; i += 1) {
      const user = await db.prisma.user.create({ data: { sub: `model-${i}`, email: `user${i}@example.fr` } });
      real.users.push({ id: user.id, sub: user.sub!, email: user.email! });
    }
    real.api = (method, path, json) =>
      admin.request(`${h.appUrl}/api/v1.0${path}`, { method, json, headers: { accept: 'application/json', origin: h.appUrl } });
    real.backend = { next: { kind: 'null' } };
  });
  afterAll(async () => {
    await h.close();
    await db.drop();
  });

  it(
    `equals the model after every step of ${RUNS} random sequences`,
    async () => {
      const logger = recordingLogger();
      const syncs = new Map<string, AdminRoleSync>();
      real.syncWith = (settings) => {
        const key = JSON.stringify(settings);
        if (!syncs.has(key)) syncs.set(key, new AdminRoleSync({ prisma: db.prisma, logger, options: settings }));
        return syncs.get(key)!;
      };
      const backend = {
        getUserEntitlements: async () => {
          const next = real.backend.next;
          if (next.kind === 'outage') throw new EntitlementsUnavailableError('connection', 'the model says the service is down');
          return entitlementsOf(next) as Entitlements;
        },
      };

      await fc.assert(
        fc.asyncProperty(commandsArb, async (commands) => {
          await db.prisma.mailDomainAccess.deleteMany();
          await db.prisma.accessEvent.deleteMany();
          real.service = new EntitlementsService({
            backend,
            store: new MemoryCacheStore(CACHE_SIZE),
            cache: { timeout: 300, staleTimeout: 86_400, prefix: 'model', maxKeys: CACHE_SIZE },
            logger,
          });
          await fc.asyncModelRun(() => ({ model: emptyModel(CACHE_SIZE), real }), commands);
        }),
        { numRuns: RUNS, seed: SEED, verbose: fc.VerbosityLevel.Verbose },
      );
    },
    120_000 + RUNS * 2_000,
  );
});
