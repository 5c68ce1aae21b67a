import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'generated/', 'coverage/', 'test/artifacts/', 'examples/*/dist/', 'examples/*/generated/', 'examples/*/node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', __dirname: 'readonly', require: 'readonly', module: 'writable' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // The library never reaches into the reference server, the tooling or a generated client.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/server/*', '**/tools/*', '**/generated/*', '**/test/*', '**/bench/*'],
              message: 'the library (src/) ships alone: no import from outside src/',
            },
          ],
        },
      ],
      '@typescript-eslint/no-require-imports': 'error',
    },
  },
);
