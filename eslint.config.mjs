// ESLint: typescript-eslint's type-checked recommended rules over src/, plain JS rules for tests and bench.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['nodes/**/*.js', 'nodes/**/*.d.ts', 'node_modules/**', 'test/.tmp/**', 'test/.cache/**', '.demo/**', 'bench/results/**'] },
  {
    files: ['src/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ['test/**/*.js', 'bench/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node, ...globals.mocha } },
  },
);
