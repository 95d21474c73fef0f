// ESLint: typescript-eslint's type-checked recommended rules over src/, plain JS rules for tests and bench.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import rooms from './eslint-rooms.mjs';

export default tseslint.config(
  { ignores: ['nodes/**/*.js', 'nodes/**/*.d.ts', 'node_modules/**', 'test/.tmp/**', 'test/.cache/**', '.demo/**', 'bench/results/**'] },
  {
    files: ['src/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Typed lazy `require` of our own modules keeps the one-shot CLI's start cheap (issue 14); nothing else.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['^\\.\\.?/', '^node-forge/lib/asn1$'] }],
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // No import circles, type-only imports included; rooms entered through their doors (docs/architecture.md).
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX, rooms },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })] },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'rooms/doors': 'error',
    },
  },
  {
    // Node-RED's node constructors keep `this` as `node` for the closures they register (its convention).
    files: ['src/gridlinks-*.ts'],
    rules: { '@typescript-eslint/no-this-alias': 'off' },
  },
  {
    files: ['test/**/*.js', 'bench/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node, ...globals.mocha } },
  },
  {
    // Functions these files hand to page.evaluate() run in the editor page.
    files: ['test/e2e/editor*.js', 'test/e2e/*-editor.spec.js', 'test/e2e/server-transport.spec.js'],
    languageOptions: { globals: { ...globals.browser, RED: 'readonly', $: 'readonly' } },
  },
);
