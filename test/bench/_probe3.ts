// scratch: where deploy time goes
import { resolve } from 'node:path';
import { Registry } from '../../engine/registry/registry.js';
import { corePlugin } from '../../engine/core/index.js';
import { compileModel } from '../../engine/model/compile.js';
import { MetadataValidator, DocumentMap } from '../../metadata/validate.js';
import { loadPackage } from '../../metadata/loader.js';
const docs = (await loadPackage(resolve(import.meta.dirname, '../../sample-apps/sales'))) as any[];
const registry = new Registry().use(corePlugin);
const validator = new MetadataValidator(registry);
for (let i = 0; i < 5; i++) {
  let t = performance.now();
  const { result } = validator.validate([docs.find((d) => d.name === 'opportunity')], docs, []);
  const tv = performance.now() - t;
  t = performance.now();
  compileModel(1, result ?? new DocumentMap(docs), registry);
  const tc = performance.now() - t;
  console.log(`validate ${tv.toFixed(1)} ms, compileModel ${tc.toFixed(1)} ms (${docs.filter((d) => d.kind === 'entity').length} entities)`);
}
