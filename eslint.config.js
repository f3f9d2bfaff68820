import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'profiles/', '.stack/', 'coverage/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      curly: 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/only-throw-error': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(?!src/[^/]+$)(?!(src/)?[^/]+/index\\.ts$)(src/)?[^./][^/]*/.+',
              message: 'Import another folder only through its index.ts.',
            },
          ],
        },
      ],
    },
  },
  { files: ['test/**', 'e2e/**', 'bench/**'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['*.js', '*.config.ts'], ...tseslint.configs.disableTypeChecked },
);
