import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of the design (DESIGN.md): core -> bundle -> log -> services -> client -> cli. A
 * module imports only from its own layer or the layers before it. This rule resolves every
 * relative import (static, dynamic `await import()`, and re-exports) and reports one that
 * reaches a later layer.
 */
const LAYERS = ['core', 'bundle', 'log', 'services', 'client', 'cli'];
const SRC = path.resolve('src');
const layerOf = (file) => {
  const rel = path.relative(SRC, file);
  return rel.startsWith('..') ? -1 : LAYERS.indexOf(rel.split(path.sep)[0]);
};
const layersPlugin = {
  rules: {
    'no-later-layer': {
      meta: { type: 'problem', schema: [] },
      create(context) {
        const mine = layerOf(context.filename);
        if (mine < 0) return {};
        const check = (node) => {
          const spec = node?.source?.value;
          if (typeof spec !== 'string' || !spec.startsWith('.')) return;
          const target = layerOf(path.resolve(path.dirname(context.filename), spec));
          if (target > mine)
            context.report({
              node: node.source,
              message: `${LAYERS[mine]} must not import from ${LAYERS[target]}, a later layer (core -> bundle -> log -> services -> client -> cli): move the shared code down to where both find it`,
            });
        };
        return {
          ImportDeclaration: check,
          ImportExpression: check,
          ExportAllDeclaration: check,
          ExportNamedDeclaration: check,
        };
      },
    },
  },
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.signet/**', 'coverage/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The explorer's browser modules (served as they are, no build step).
    files: ['src/services/explorer/assets/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'fetch',
          'crypto',
          'atob',
          'FileReader',
          'TextEncoder',
          'TextDecoder',
          'setTimeout',
          'HTMLElement',
          'Node',
        ].map((g) => [g, 'readonly']),
      ),
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { layers: layersPlugin },
    rules: { 'layers/no-later-layer': 'error' },
  },
  {
    // The modules a `signet` command loads. An ES import of a builtin makes a module facade
    // that reads every export, and these builtins' lazy exports then load what the command
    // never uses (node:crypto's webcrypto, node:fs's promises, node:http's undici-based
    // WebSocket): milliseconds of every short command's start (bench/sign). The builtin is the
    // same object either way.
    files: ['src/{core,bundle,client,cli}/**/*.ts', 'src/index.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportExpression[source.value=/^node:(crypto|fs|child_process|http|https)$/]",
          message:
            "take it with `process.getBuiltinModule('node:...')`, not `import()`: see eslint.config.js",
        },
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['node:crypto', 'node:fs', 'node:child_process', 'node:http', 'node:https'].map(
            (name) => ({
              name,
              allowTypeImports: true,
              message: `take it with \`const { ... } = process.getBuiltinModule('${name}')\` (types with \`import type\`): see eslint.config.js`,
            }),
          ),
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.mjs'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
