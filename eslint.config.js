// Lint: typescript-eslint's recommended type-aware rules, plus the boundaries the design asks for.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '.bench-tmp/**', 'demo-run*/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { project: ['./tsconfig.check.json'], tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      'no-restricted-imports': ['error', { patterns: [{ group: ['@westream/*/src/*', '@westream/*/dist/*'], message: 'import a package by its name' }] }],
    },
  },
  {
    // prettier (npm run lint checks it) breaks code at 160 columns; this catches what it leaves long: comments and
    // code it cannot break. Strings, templates and regular expressions stay whole (an error message is grepped for).
    rules: { 'max-len': ['error', { code: 160, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true }] },
  },
  {
    // the WE core stays pure: no I/O, no process state
    files: ['packages/we/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*', 'fs', 'path', 'child_process', 'net', '@westream/*'], message: 'packages/we does no I/O and depends on nothing' }] },
      ],
      'no-restricted-globals': ['error', 'process', 'Date', 'setTimeout'],
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
);
