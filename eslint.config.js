import js from '@eslint/js';
import globals from 'globals';
import react from 'eslint-plugin-react';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '**/dist/',
      '.serverless/',
      'test/elasticsearch/',
      'coverage/',
      '.data/',
      'out/',
      'test/deploy/.venv/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Tests walk generated JSON (CloudFormation, query results) whose shape they assert.
    files: ['test/**/*.ts', 'test/**/*.tsx'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The Grafana plugin: React in the browser. JSX uses the classic transform
    // (React.createElement), since Grafana before 12.0.10 shares no react/jsx-runtime.
    files: ['plugin/src/**/*.{ts,tsx}', 'test/plugin/**/*.{ts,tsx}'],
    ...react.configs.flat.recommended,
    ...reactHooks.configs.flat.recommended,
    plugins: { react, 'react-hooks': reactHooks },
    languageOptions: {
      ...react.configs.flat.recommended.languageOptions,
      globals: { ...globals.browser },
    },
    settings: { react: { version: '18.3' } },
    rules: {
      ...react.configs.flat.recommended.rules,
      ...reactHooks.configs.flat.recommended.rules,
      'react/prop-types': 'off',
      'react/react-in-jsx-scope': 'error',
    },
  },
  {
    // CommonJS where jest loads it with require(): resolvers and global setup (test/plugin).
    files: ['test/plugin/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
