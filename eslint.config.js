// @ts-check
// ESLint over src/, test/ and bench/ with typescript-eslint's type-aware recommended rules.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', '.cache/', 'coverage/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // One program for everything: tsconfig.test.json includes src/, test/, bench/ and the
        // vitest configs with the same compiler options as tsconfig.json and bench/tsconfig.json.
        project: ['./tsconfig.test.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Named so that nobody loosens them by accident: an unhandled rejection can end the daemon.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // The code writes `!` on indexed reads as if noUncheckedIndexedAccess were on; the rule would strip them.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // `async` on interface methods with nothing to await keeps a throw a rejection, as callers expect.
      '@typescript-eslint/require-await': 'off',
      // `const { dropped: _x, ...rest } = o` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // A `let` that a closure reads before its one later assignment cannot be a const (TDZ).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Rejecting with what a catch caught (typed unknown), as only-throw-error allows for throws.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // `interface X extends Y {}` is how vitest's ProvidedContext is augmented.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests walk parsed YAML/JSON and decoded protobuf objects as `any` and let expect() check the shapes.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Plain JavaScript (this file, .ci/summary.mjs) is in no tsconfig: no type-aware rules.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
);
