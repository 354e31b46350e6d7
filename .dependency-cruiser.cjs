/**
 * Which folder may import which (docs/architecture.md, "Layers"). Lower layers never import higher
 * ones, and no two folders import each other. Type-only imports count for layers too: a type belongs to
 * the layer that defines it. Run by `npm run lint:deps` and by test/architecture.test.ts.
 */
const LAYERS = [
  ['base', '^engine/(errors[.]ts|log[.]ts|registry/|db/)'],
  ['rules', '^engine/rules/'],
  ['model', '^engine/model/'],
  ['services', '^engine/(access|audit|jobs|templates|notifications|files)/'],
  ['data', '^engine/data/'],
  ['metadata', '^metadata/'],
  ['features', '^engine/(workflow|approvals|automations|auth|core|seed|views|reports|rollup|imports|documents)/'],
  ['http', '^engine/http/'],
];

/** The composition root may import anything; nothing imports it. */
const ROOT = '^engine/(engine|main)[.]ts$';

const upward = LAYERS.map(([name, path], i) => ({
  name: `no-upward-from-${name}`,
  comment: `${name} may import only ${LAYERS.slice(0, i + 1).map(([n]) => n).join(', ')}`,
  severity: 'error',
  from: { path },
  to: { path: [...LAYERS.slice(i + 1).map(([, p]) => p), ROOT, '^plugins/'].join('|') },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'Modules must not import each other in a circle (type-only imports excepted: they vanish at run time)',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'every-folder-in-a-layer',
      comment: 'A new folder under engine/ takes its place in LAYERS (and in docs/architecture.md)',
      severity: 'error',
      from: { path: '^engine/', pathNot: `(${LAYERS.map(([, p]) => p).join('|')}|${ROOT})` },
      to: {},
    },
    {
      name: 'engine-not-from-tests',
      severity: 'error',
      from: { path: '^(engine|metadata)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|[.]test[.]ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },

};
