/** The `dashboard` document (dashboard.schema.json). */
import type { LocalizedText, MetadataDocument } from '../registry/types.js';

export interface WidgetDoc {
  name: string;
  title?: LocalizedText;
  type: 'chart' | 'table' | 'number' | 'approvals' | 'records' | 'target';
  x?: number;
  y?: number;
  w?: number;
  h?: number;
  report?: string;
  parameters?: Record<string, string | number | boolean>;
  chart?: 'bar' | 'stacked_bar' | 'line' | 'pie' | 'funnel' | 'gauge';
  measures?: string[];
  measure?: string;
  compare?: string;
  max?: number;
  entity?: string;
  filter?: unknown;
  sort?: string;
  limit?: number;
  target?: string;
}

export interface DashboardDoc extends MetadataDocument {
  roles?: string[];
  home?: string[];
  columns?: number;
  widgets: WidgetDoc[];
}
