import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';

const root = join(__dirname, '..', '..');

/** Every variable the code reads is documented in .env.example, and its defaults load as they are. */
describe('.env.example', () => {
  const example = readFileSync(join(root, '.env.example'), 'utf8');
  const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]));

  it('lists every variable config.ts reads', () => {
    const source = readFileSync(join(root, 'src', 'config.ts'), 'utf8');
    const read = [...source.matchAll(/read\.\w+\('([A-Z][A-Z0-9_]+)'/g)].map((match) => match[1]!);
    const secrets = read.filter((name) => source.includes(`read.secret('${name}')`)).map((name) => `${name}_FILE`);
    for (const name of [...read, ...secrets]) expect({ name, documented: documented.has(name) }).toEqual({ name, documented: true });
  });

  it('loads as a valid configuration', () => {
    const env = Object.fromEntries([...example.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((match) => [match[1], match[2]]));
    expect(() => loadConfig(env)).not.toThrow();
  });
});
