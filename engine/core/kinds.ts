/**
 * The document kinds the engine ships, each from the folder of its feature. A new kind (view, report,
 * dashboard, target) is one module exporting a DocumentKindDefinition and one line here; plugins add
 * theirs through Plugin.documentKinds the same way.
 */
import type { DocumentKindDefinition } from '../registry/types.js';
import { appKind } from '../model/kinds/app.js';
import { dictionaryKind } from '../model/kinds/dictionary.js';
import { entityKind } from '../model/kinds/entity.js';
import { roleKind } from '../access/role.js';
import { templateKind } from '../templates/kind.js';
import { workflowKind } from '../workflow/kind.js';
import { automationKind } from '../automations/kind.js';
import { approvalKind } from '../approvals/kind.js';
import { viewKind } from '../views/kind.js';
import { reportKind } from '../reports/kind.js';
import { dashboardKind } from '../reports/dashboard-kind.js';
import { targetKind } from '../reports/targets.js';

export const coreKinds: DocumentKindDefinition[] = [
  appKind,
  dictionaryKind,
  entityKind,
  roleKind,
  templateKind,
  workflowKind,
  automationKind,
  approvalKind,
  viewKind,
  reportKind,
  dashboardKind,
  targetKind,
];
