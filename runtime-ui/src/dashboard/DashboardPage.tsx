/**
 * A dashboard (the `dashboard` document kind, engine/reports/dashboards.ts): one request brings every
 * widget with its data computed as the viewer, laid out on the document's 12-column grid (one column on
 * a phone, in reading order). Charts come from ECharts in a chunk of their own; clicking a bar, slice,
 * funnel step or table row opens the list of exactly those records (the row's json-logic `_filter`).
 */
import { lazy, Suspense, useMemo } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { Alert, Card, Empty, Grid, List, Progress, Select, Skeleton, Spin, Statistic, Table, Tag } from 'antd';
import { ArrowDownOutlined, ArrowUpOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { get } from '../api';
import { formatDateTime } from '../format';
import { useLang } from '../i18n';
import { pick, useEntityLabels } from '../meta';
import { titleOf } from '../widgets/cells';
import { chartOption, detailRows, formatValue, type ChartKind, type ReportData } from './chart-options';
import { drillUrl } from './drill';

const EChart = lazy(() => import('./EChart'));
const ROW = 56;

interface Widget {
  name: string;
  type: 'chart' | 'table' | 'number' | 'approvals' | 'records' | 'target';
  title?: string;
  x?: number;
  y?: number;
  w?: number;
  h?: number;
  chart?: ChartKind;
  measures?: string[];
  measure?: string;
  compare?: string;
  max?: number;
  entity?: string;
  data?: any;
  error?: { code: string; message: string };
}

export function useDashboards() {
  const { lang } = useLang();
  return useQuery({
    queryKey: ['dashboards', lang],
    staleTime: 300_000,
    queryFn: () => get<{ data: { name: string; label: string; home: boolean }[] }>('/api/dashboards').then((r) => r.data),
  });
}

function NumberWidget({ w }: { w: Widget }) {
  const { lang, t } = useLang();
  const navigate = useNavigate();
  const report: ReportData = w.data.report;
  const col = (name?: string) => report.columns.find((c) => c.name === name);
  const rows = detailRows(report);
  // Over periods the card shows the last period's row: that row's records are behind the number.
  const filter = rows.length ? rows[rows.length - 1]!._filter : undefined;
  const change: number | null | undefined = w.data.change;
  const entity = report.report?.entity;
  return (
    <div style={{ cursor: filter && entity ? 'pointer' : undefined }} onClick={() => filter && entity && navigate(drillUrl(entity, filter))}>
      <Statistic value={formatValue(lang, col(w.measure)?.type, w.data.value)} valueStyle={{ fontSize: 24, fontWeight: 600 }} />
      {w.compare && (
        <div style={{ fontSize: 12, marginTop: 4, color: '#595959' }}>
          {t('versus', { label: col(w.compare)?.label ?? w.compare })} {formatValue(lang, col(w.measure)?.type, w.data.compare)}
          {typeof change === 'number' && (
            <span style={{ marginInlineStart: 8, color: change >= 0 ? '#237804' : '#cf1322' }}>
              {change >= 0 ? <ArrowUpOutlined /> : <ArrowDownOutlined />} {formatValue(lang, 'percent', Math.abs(change))}
            </span>
          )}
        </div>
      )}
    </div>
  );
}

function ChartWidget({ w }: { w: Widget }) {
  const { lang } = useLang();
  const navigate = useNavigate();
  const data: ReportData = w.data;
  const option = useMemo(() => chartOption(w.chart ?? 'bar', data, w, lang), [w, data, lang]);
  const entity = data.report?.entity;
  if (!detailRows(data).length) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />;
  return (
    <div style={{ height: '100%' }}>
      <Suspense fallback={<Spin />}>
        <EChart option={option} label={w.title ?? ''} onPick={entity ? (p) => p?.filter && navigate(drillUrl(entity, p.filter)) : undefined} />
      </Suspense>
    </div>
  );
}

function TableWidget({ w }: { w: Widget }) {
  const { lang, t } = useLang();
  const navigate = useNavigate();
  const data: ReportData = w.data;
  const entity = data.report?.entity;
  const columns = data.columns.map((c, i) => ({
    key: c.name,
    title: c.label,
    align: c.role === 'measure' ? ('right' as const) : undefined,
    render: (_: unknown, row: any) =>
      c.role === 'dimension'
        ? row._subtotal && row[c.name] === undefined ? (i === 0 ? '' : t('subtotal')) : (row._labels?.[c.name] ?? row[c.name] ?? '—')
        : formatValue(lang, c.type, row[c.name]),
  }));
  return (
    <div>
      <Table size="small" pagination={false} rowKey={(_, i) => String(i)} columns={columns} dataSource={data.rows}
        rowClassName={(r: any) => (r._subtotal ? 'mc-subtotal' : '')}
        onRow={(r: any) => ({ onClick: () => entity && r._filter && navigate(drillUrl(entity, r._filter)), style: { cursor: r._filter ? 'pointer' : undefined } })}
        summary={() => (
          <Table.Summary.Row>
            {data.columns.map((c, i) => (
              <Table.Summary.Cell key={c.name} index={i} align={c.role === 'measure' ? 'right' : undefined}>
                <b>{c.role === 'measure' ? formatValue(lang, c.type, data.totals[c.name]) : i === 0 ? t('sum') : ''}</b>
              </Table.Summary.Cell>
            ))}
          </Table.Summary.Row>
        )}
        locale={{ emptyText: t('empty') }} />
    </div>
  );
}

function ApprovalsWidget({ w }: { w: Widget }) {
  const { lang, t } = useLang();
  return (
    <List size="small" dataSource={(w.data as any[]).slice(0, 8)} locale={{ emptyText: t('empty') }}
      renderItem={(task: any) => (
        <List.Item>
          <Link to={`/inbox?task=${task.id}`}>{task.title || task.recordId}</Link>
          <span style={{ fontSize: 12, color: '#595959' }}>{pick(task.stepLabel, lang)} · {task.submitterName} · {formatDateTime(lang, task.submittedAt)}</span>
        </List.Item>
      )} />
  );
}

function RecordsWidget({ w }: { w: Widget }) {
  const { t } = useLang();
  const entities = useEntityLabels();
  const titleField = entities.data?.[w.entity!]?.titleField;
  return (
    <List size="small" dataSource={w.data.data as any[]} locale={{ emptyText: t('empty') }}
      renderItem={(r: any) => (
        <List.Item>
          <Link to={`/r/${w.entity}/${r.id}`}>{titleOf(r, titleField) || r.id}</Link>
        </List.Item>
      )} />
  );
}

/** Attainment of the periods today falls in (year, quarter, month…), per subject the viewer covers. */
function TargetWidget({ w }: { w: Widget }) {
  const { lang, t } = useLang();
  const today = new Date().toISOString().slice(0, 10);
  const current = (r: any) =>
    r.period === 'year' ? r.period_start.slice(0, 4) === today.slice(0, 4)
      : r.period === 'quarter' ? r.period_start.slice(0, 4) === today.slice(0, 4) && Math.floor((Number(r.period_start.slice(5, 7)) - 1) / 3) === Math.floor((Number(today.slice(5, 7)) - 1) / 3)
        : r.period === 'month' ? r.period_start.slice(0, 7) === today.slice(0, 7) : r.period_start <= today;
  const rows = (w.data.rows as any[]).filter(current);
  if (!rows.length) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('noTargets')} />;
  return (
    <>
      {(w.data.issues as any[]).length > 0 && <Alert type="warning" showIcon message={w.data.issues[0].message} style={{ marginBottom: 8 }} />}
      <Table size="small" pagination={false} rowKey={(r: any) => `${r.level}|${r.subject}|${r.period}|${r.period_start}`} dataSource={rows}
        columns={[
          { key: 'who', title: t('subject'), render: (_: unknown, r: any) => r.label },
          { key: 'period', title: t('period'), render: (_: unknown, r: any) => r.period_label },
          { key: 'target', title: t('targetValue'), align: 'right', render: (_: unknown, r: any) => formatValue(lang, 'number', r.target) },
          { key: 'actual', title: t('actual'), align: 'right', render: (_: unknown, r: any) => formatValue(lang, 'number', r.actual) },
          { key: 'attainment', title: t('attainment'), width: 160,
            render: (_: unknown, r: any) => <Progress size="small" percent={Math.round((r.attainment ?? 0) * 100)} status={(r.pacing ?? 1) < 0.9 ? 'exception' : 'normal'} /> },
          { key: 'pacing', title: t('pacing'), align: 'right', render: (_: unknown, r: any) => formatValue(lang, 'percent', r.pacing) },
        ]} />
    </>
  );
}

function WidgetBody({ w }: { w: Widget }) {
  const { t } = useLang();
  if (w.error) return <Alert type="warning" showIcon message={t('widgetError', { reason: w.error.message })} />;
  switch (w.type) {
    case 'number':
      return <NumberWidget w={w} />;
    case 'chart':
      return <ChartWidget w={w} />;
    case 'table':
      return <TableWidget w={w} />;
    case 'approvals':
      return <ApprovalsWidget w={w} />;
    case 'records':
      return <RecordsWidget w={w} />;
    case 'target':
      return <TargetWidget w={w} />;
  }
}

export default function DashboardPage() {
  const { name } = useParams();
  const { lang, t } = useLang();
  const navigate = useNavigate();
  const phone = !Grid.useBreakpoint().md;
  const list = useDashboards();
  const chosen = name ?? list.data?.find((d) => d.home)?.name ?? list.data?.[0]?.name;
  const dashboard = useQuery({
    queryKey: ['dashboard', chosen, lang],
    enabled: Boolean(chosen),
    queryFn: () => get<{ data: { name: string; label: string; columns: number; widgets: Widget[] } }>(`/api/dashboards/${chosen}`).then((r) => r.data),
  });
  if (list.data && !chosen) return <Empty description={t('empty')} />;
  if (dashboard.error) return <Alert type="error" showIcon message={(dashboard.error as Error).message} />;
  const d = dashboard.data;
  const widgets = [...(d?.widgets ?? [])].sort((a, b) => (a.y ?? 0) - (b.y ?? 0) || (a.x ?? 0) - (b.x ?? 0));
  const columns = d?.columns ?? 12;
  return (
    <>
      <div className="mc-page-title">
        <h1>{d?.label ?? t('dashboards')}</h1>
        <span style={{ flex: 1 }} />
        {(list.data?.length ?? 0) > 1 && (
          <Select aria-label={t('dashboards')} value={chosen} style={{ width: 200 }} onChange={(v) => navigate(`/d/${v}`)}
            options={list.data!.map((x) => ({ value: x.name, label: x.label }))} />
        )}
      </div>
      {!d ? <Skeleton active /> : (
        <div className="mc-dashboard" style={{ gridTemplateColumns: phone ? '1fr' : `repeat(${columns}, minmax(0, 1fr))`, gridAutoRows: phone ? 'auto' : ROW }}>
          {widgets.map((w) => {
            const h = w.h ?? 4;
            // On the grid the card fills its cell; on a phone it takes the height of its content (charts: their rows').
            const cell = h * ROW + (h - 1) * 12;
            return (
              <Card key={w.name} size="small" title={w.title} data-testid={`widget-${w.name}`}
                style={phone ? undefined : { gridColumn: `${(w.x ?? 0) + 1} / span ${w.w ?? columns}`, gridRow: `${(w.y ?? 0) + 1} / span ${h}` }}
                styles={{ body: { overflow: 'hidden', ...(phone && w.type === 'chart' ? { height: Math.max(cell - 40, 220) } : {}) } }}>
                {w.type === 'chart' || w.type === 'number' ? (
                  <WidgetBody w={w} />
                ) : (
                  // A box that scrolls is a region the keyboard can reach (and scroll) too.
                  <div className="mc-widget-scroll" tabIndex={0} role="region" aria-label={w.title ?? w.name} style={phone ? { maxHeight: 420 } : undefined}>
                    <WidgetBody w={w} />
                  </div>
                )}
              </Card>
            );
          })}
        </div>
      )}
    </>
  );
}
