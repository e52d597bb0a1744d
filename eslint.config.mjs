import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Named exports only (house style).
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
      ],
    },
  },
  {
    // Tools that require a default export.
    files: ['eslint.config.mjs', 'test/integration/global-setup.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // The pure core may not touch I/O.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                '!node:crypto',
                'fs',
                'fs/*',
                'child_process',
                'net',
                'http',
                'https',
                'pg',
                'ssh2',
                '@slack/*',
                'pino',
                '@electric-sql/*',
                '../adapters/*',
                '../store/*',
                '../engine/*',
                '../log/*',
              ],
              message: 'src/core is pure: no I/O imports.',
            },
          ],
        },
      ],
    },
  },
);
