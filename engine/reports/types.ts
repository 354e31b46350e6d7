/**
 * The `report` document, as written in metadata (checked by report.schema.json and kind.ts). One metric
 * model serves tables, charts, KPI cards and targets: measures aggregated over dimensions of one
 * entity's records, with a filter and parameters.
 */
import type { LocalizedText, MetadataDocument } from '../registry/types.js';

export type Bucket = 'day' | 'week' | 'month' | 'quarter' | 'year' | 'fiscal_quarter' | 'fiscal_year';
export type Bound = string | { var: string };

export interface DimensionDoc {
  name?: string;
  label?: LocalizedText;
  /** A field, or a path through references: `account.industry`, `owner_id.department`. */
  field: string;
  bucket?: Bucket;
  range?: { from: Bound; to: Bound };
  fill?: boolean;
  tree?: true;
}

export type Aggregate = 'count' | 'count_distinct' | 'sum' | 'avg' | 'min' | 'max';
export type Derivation =
  | 'percent_of_total'
  | 'previous'
  | 'growth'
  | 'ratio'
  | 'growth_rate'
  | 'same_period_last_year'
  | 'yoy_growth_rate'
  | 'running_total'
  | 'divide';

export interface MeasureDoc {
  name: string;
  label?: LocalizedText;
  aggregate?: Aggregate;
  field?: string;
  filter?: unknown;
  /** Aggregate related records (`entity` pointing here through `via`) per record; the group sums them. */
  over?: { entity: string; via: string; where?: unknown };
  derive?: Derivation;
  of?: string;
  by?: string;
  format?: 'number' | 'integer' | 'currency' | 'percent';
}

export type ParameterType = 'date' | 'number' | 'integer' | 'text' | 'boolean' | 'picklist' | 'reference';
export interface ParameterDoc {
  name: string;
  label: LocalizedText;
  type: ParameterType;
  dictionary?: string;
  to?: string;
  required?: boolean;
  default?: unknown;
}

export type Shape = 'tabular' | 'summary' | 'matrix' | 'funnel' | 'time_in_stage';

export interface FunnelDoc {
  field: string;
  mode?: 'snapshot' | 'history';
  stages?: string[];
  cumulative?: boolean;
}

export interface ReportDoc extends MetadataDocument {
  entity: string;
  shape?: Shape;
  filter?: unknown;
  parameters?: ParameterDoc[];
  timeZone?: string;
  fiscalYearStartMonth?: number;
  dimensions?: DimensionDoc[];
  pivot?: DimensionDoc;
  measures?: MeasureDoc[];
  columns?: string[];
  sort?: { by: string; desc?: boolean }[];
  limit?: number;
  top?: { n: number; by: string; others?: boolean };
  funnel?: FunnelDoc;
  roles?: string[];
}

/** Derivations that read the same measure one or more periods back along the time dimension. */
export const TIME_DERIVATIONS: ReadonlySet<Derivation> = new Set([
  'previous',
  'growth',
  'ratio',
  'growth_rate',
  'same_period_last_year',
  'yoy_growth_rate',
  'running_total',
]);

/** A dimension's column name: its own, or the path with underscores. */
export const dimensionName = (d: DimensionDoc) => d.name ?? d.field.replace(/\./g, '_');
