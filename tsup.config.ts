import { defineConfig } from 'tsup';

/*
 * What the package ships: the library as ESM and CommonJS with type declarations for each, and the
 * `oidc-entitlements` command. Dependencies and peer dependencies stay imports (never bundled).
 */
export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    outExtension: ({ format }) => ({ js: format === 'esm' ? '.mjs' : '.cjs' }),
    dts: true,
    tsconfig: 'tsconfig.build.json',
    target: 'node20',
    platform: 'node',
    shims: true,
    clean: true,
    sourcemap: false,
  },
  {
    entry: { cli: 'src/bin/main.ts' },
    format: ['esm'],
    outExtension: () => ({ js: '.mjs' }),
    tsconfig: 'tsconfig.build.json',
    target: 'node20',
    platform: 'node',
    shims: true,
    sourcemap: false,
  },
]);
