/** Says once, visibly, which real services this run will use and which suites it skips. */
export default function globalSetup(): void {
  const lines: string[] = [];
  lines.push(
    process.env.TEST_DATABASE_URL
      ? 'PostgreSQL suites: on (TEST_DATABASE_URL)'
      : 'PostgreSQL suites: SKIPPED (set TEST_DATABASE_URL, e.g. postgresql://postgres@127.0.0.1:5432/test)',
  );
  lines.push(process.env.TEST_REDIS_URL ? 'Redis suites: on (TEST_REDIS_URL)' : 'Redis suites: SKIPPED (set TEST_REDIS_URL, e.g. redis://127.0.0.1:6379)');
  process.stdout.write(`\n${lines.join('\n')}\n`);
}
