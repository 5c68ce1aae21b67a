/** The user rows the login reads and writes (docs/specification.md §8 `users`), typed structurally like the sync's. */
export interface UserRecord {
  id: string;
  sub: string | null;
  email: string | null;
  fullName: string | null;
  shortName: string | null;
  isActive: boolean;
  isSuperuser: boolean;
}

export interface UserUpdate {
  sub?: string;
  email?: string;
  emailNormalized?: string;
  fullName?: string;
  shortName?: string;
  lastLoginAt?: Date;
}

export interface UserPrismaClient {
  user: {
    findUnique(args: { where: { sub: string } | { id: string } }): Promise<UserRecord | null>;
    findMany(args: {
      where?: { id: { in: string[] } } | { emailNormalized: string };
      orderBy?: { id: 'asc' };
      take?: number;
      cursor?: { id: string };
      skip?: number;
    }): Promise<UserRecord[]>;
    count(): Promise<number>;
    create(args: { data: UserUpdate & { sub: string } }): Promise<UserRecord>;
    update(args: { where: { id: string }; data: UserUpdate }): Promise<UserRecord>;
  };
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}
