/** The services the HTTP layer calls: handed to createApp by the composition root (engine/engine.ts). */
import type { DataService } from '../data/service.js';
import type { OwnershipService } from '../data/ownership.js';
import type { WorkflowService } from '../workflow/service.js';
import type { Inbox } from '../notifications/inbox.js';
import type { ApprovalService } from '../approvals/service.js';
import type { JobQueue } from '../jobs/queue.js';
import type { MetadataService } from '../../metadata/service.js';
import type { AuthService } from '../auth/service.js';
import type { TrustProxy } from './client.js';
import type { ReportService } from '../reports/service.js';
import type { DashboardService } from '../reports/dashboards.js';
import type { TargetService } from '../reports/targets.js';
import type { ImportService } from '../imports/service.js';
import type { SavedViews } from '../views/saved.js';
import type { FileStorage } from '../files/storage.js';

export interface AppDeps {
  data: DataService;
  ownership: OwnershipService;
  workflows: WorkflowService;
  approvals: ApprovalService;
  inbox: Inbox;
  metadata: MetadataService;
  auth: AuthService;
  jobs: JobQueue;
  reports: ReportService;
  dashboards: DashboardService;
  targets: TargetService;
  imports: ImportService;
  savedViews: SavedViews;
  /** Where file bytes are kept (engine/files/storage.ts). */
  files: FileStorage;
  driver: string;
  /** Whether X-Forwarded-For is believed (TRUST_PROXY): see engine/http/client.ts. */
  trustProxy?: TrustProxy;
}
