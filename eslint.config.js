// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)].filter(
  // The workflow sandbox provides these three deterministically.
  (m) => !['assert', 'url', 'util'].includes(m.replace(/^node:/, '')),
);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself tracks.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed deterministically in Temporal's sandbox: it imports values only from
    // an allowlist of pure modules (types from anywhere). Node builtins are named for a clearer message.
    files: [
      'src/workflows/**/*.ts',
      'src/workload/{workflow,context,handlers,state,status,cost,messages,activityOptions,autoShutdownSettings,specSchema,instanceLoss}.ts',
      'src/workload/steps/**/*.ts',
      'src/budget/workflow.ts',
      'src/budget/messages.ts',
      'src/budget/ledger.ts',
      'src/catalog/sync/workflow.ts',
      'src/catalog/sync/storeWorkflow.ts',
      'src/catalog/sync/store.ts',
      'src/catalog/sync/messages.ts',
      'src/catalog/sync/loopWorkflow.ts',
      'src/catalog/sync/loopMessages.ts',
      'src/sync/manifest.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'ssh2', 'pino', 'yaml', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'],
          patterns: [
            {
              // Allowed: the workflow SDK, zod, ms, dinero.js; relative imports of money/, routing/,
              // workload/ (and its steps/), workflows/, budget/config, ledger and messages, catalog/sync/store, diff and messages, sync/manifest, and siblings.
              regex: String.raw`^(?!(?:@temporalio/(?:workflow|common)|zod|ms|dinero\.js)$)(?!(?:\.\.?/)+(?:(?:money|routing|workload|workload/steps|workflows|steps)/[\w.-]+|budget/(?:config|ledger|messages|workflow)\.js|catalog/sync/(?:store|diff|messages|workflow|storeWorkflow|loopWorkflow|loopMessages)\.js|sync/manifest\.js|[\w.-]+)$)`,
              message: 'workflow code imports values only from pure modules (see the allowlist in eslint.config.js); import types with `import type`',
              allowTypeImports: true,
            },
            {
              // The spec's boundary parser expands recipes from the filesystem: workflows use specSchema.js.
              group: ['**/workload/spec.js', './spec.js', '../spec.js', '**/recipes/*'],
              message: 'workflow code imports the spec schemas from workload/specSchema.js (spec.js reads recipes from disk)',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
