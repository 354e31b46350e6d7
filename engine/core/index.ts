import type { Plugin } from '../registry/types.js';
import { appKind, approvalKind, automationKind, dictionaryKind, entityKind, roleKind, templateKind, workflowKind } from '../../metadata/kinds.js';
import { coreActions } from './actions.js';
import { coreFieldTypes } from './field-types.js';

/** The engine's own contributions, registered exactly like any plugin's. */
export const corePlugin: Plugin = {
  name: 'core',
  fieldTypes: coreFieldTypes,
  documentKinds: [appKind, dictionaryKind, entityKind, roleKind, templateKind, workflowKind, automationKind, approvalKind],
  actions: coreActions,
};
