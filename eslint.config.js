import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The dependency direction of STYLE.md: main -> (http | jobs | cli) -> services -> store -> domain,
// with entry/ (what `serve` and `worker` run, and the runtime they build) at main's level.
// Each layer lists the layers it must never import.
const forbidden = {
  domain: ['store', 'services', 'jobs', 'http', 'cli', 'config', 'entry', 'main'],
  store: ['services', 'jobs', 'http', 'cli', 'config', 'entry', 'main'],
  services: ['jobs', 'http', 'cli', 'config', 'entry', 'main'],
  jobs: ['http', 'cli', 'entry', 'main'],
  http: ['jobs', 'cli', 'entry', 'main'],
  cli: ['http', 'jobs', 'entry', 'main'],
  config: ['store', 'services', 'jobs', 'http', 'cli', 'entry', 'main'],
};

const layerRules = Object.entries(forbidden).map(([layer, banned]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: banned.map((b) => ({
        group: b === 'main' ? ['**/main.ts', '**/main'] : [`**/${b}/*`],
        message: `${layer}/ must not import ${b}/ (dependency direction: main -> http|jobs|cli -> services -> store -> domain)`,
      })),
    }],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'dist/**', 'web/dist/**', '.tmp/**', 'bench/.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly',
      setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  ...layerRules,
  {
    // Only an entry decides when the process ends: the HTTP app, services and commands return or throw.
    files: ['src/**/*.ts'],
    ignores: ['src/entry/**'],
    rules: {
      'no-restricted-properties': ['error', ...['exit', 'on', 'once'].map((property) => ({ object: 'process', property,
        message: 'process exit and signal handling belong to src/entry/ only' }))],
    },
  },
);
