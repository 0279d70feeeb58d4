/**
 * Import rules: the stages point one way (docs/architecture.md). Run with `npm run lint:deps`
 * (also part of `npm run lint`).
 *
 * Layers, lowest first; a module may import its own layer's files and any lower layer, never a
 * higher one:
 *   util → config core (errors, formats, section) → kernel → process → filter | pressure
 *     → otel → delivery → traces → telemetry → pipeline → agent, cli, config assembly
 */
const LAYERS = [
  ['util', '^src/util/'],
  ['config-core', '^src/config/(errors|formats|section)\\.ts$'],
  ['kernel', '^src/kernel/'],
  ['process', '^src/process/'],
  ['filter', '^src/filter/'],
  ['pressure', '^src/pressure/'],
  ['otel', '^src/otel/'],
  ['delivery', '^src/delivery/'],
  ['traces', '^src/traces/'],
  ['telemetry', '^src/telemetry/'],
  ['pipeline', '^src/pipeline/'],
];
// Everything above the stages: they may import any of them.
const TOP = '^src/(agent/|cli/|index\\.ts$|config/(schema|load|defaults)\\.ts$)';

const layerRules = LAYERS.map(([name, path], i) => ({
  name: `${name}-imports-down`,
  comment: `${name} may import only lower layers: util → config core → kernel → process → filter|pressure → otel → delivery → traces → telemetry → pipeline → top (docs/architecture.md)`,
  severity: 'error',
  from: { path },
  to: { path: [...LAYERS.slice(i + 1).map(([, p]) => p), TOP] },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'pressure-not-to-filter',
      comment: 'filter and pressure are peers after the process model: neither knows the other (the pipeline orders them).',
      severity: 'error',
      from: { path: '^src/pressure/' },
      to: { path: '^src/filter/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles, type-only ones included: each stage must be readable on its own.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'convict-only-in-the-loader',
      comment: 'Sections declare formats without convict (config/formats.ts); only config/load.ts hands them to convict.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/config/load\\.ts$' },
      to: { path: 'node_modules/convict/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'library-stays-light',
      comment: 'The event source and the pipeline are usable as a library: they must not load convict, the schema or the redactor.',
      severity: 'error',
      from: { path: '^src/(kernel/source|pipeline/pipeline)\\.ts$' },
      to: {
        path: ['node_modules/convict/', '^src/config/(schema|load|defaults)\\.ts$', '^src/filter/redact\\.ts$'],
        reachable: true,
      },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: ['^src/', 'node_modules/convict/'],
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
