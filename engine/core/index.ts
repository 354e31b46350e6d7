import type { Plugin } from '../registry/types.js';
import { coreKinds } from './kinds.js';
import { coreActions } from './actions.js';
import { rollupFieldType } from '../rollup/field-type.js';
import { coreFieldTypes } from './field-types.js';
import { fileFieldType } from './file-field.js';
import { coreOperations } from '../rules/operations.js';

/** The engine's own contributions, registered exactly like any plugin's. */
export const corePlugin: Plugin = {
  name: 'core',
  fieldTypes: [...coreFieldTypes, rollupFieldType, fileFieldType],
  documentKinds: coreKinds,
  actions: coreActions,
  // Pure functions in the rules layer, so the web UI evaluates rules with the very same code.
  operations: coreOperations,
};
