/**
 * The route table: every HTTP route of the engine, in the order hono tries them. A new route goes in
 * the file of its area (or a new file listed here); app.ts mounts it and openapi.ts documents it.
 */
import type { Route } from '../route.js';
import { approvalRoutes } from './approvals.js';
import { authRoutes } from './auth.js';
import { metaRoutes } from './meta.js';
import { ownershipRoutes } from './ownership.js';
import { importRoutes } from './imports.js';
import { recordRoutes } from './records.js';
import { systemRoutes } from './system.js';
import { userRoutes } from './users.js';
import { workflowRoutes } from './workflow.js';
import { reportRoutes } from './reports.js';
import { savedViewRoutes } from './saved-views.js';
import { searchRoutes } from './search.js';
import { fileRoutes } from './files.js';
import { documentRoutes } from './documents.js';
import { commentRoutes } from './comments.js';

export const ROUTES: readonly Route[] = [
  ...systemRoutes,
  ...authRoutes,
  ...userRoutes,
  ...metaRoutes,
  ...importRoutes,
  ...searchRoutes,
  ...fileRoutes,
  ...documentRoutes,
  ...commentRoutes,
  ...recordRoutes,
  ...ownershipRoutes,
  ...workflowRoutes,
  ...approvalRoutes,
  ...reportRoutes,
  ...savedViewRoutes,
];
