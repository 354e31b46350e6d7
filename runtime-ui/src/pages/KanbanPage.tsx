/**
 * The kanban of any entity: a column per value of the view's group field (a picklist, or the workflow's
 * state field), with each column's count and the sum of the view's sum field over ALL its records as the
 * server counts them (the list API's `total` and `sums`, in the caller's scope and under the list's filter
 * and search, which the kanban takes from the URL like the list). Each column shows its latest cards a page
 * at a time (keyset pagination, the list API's cursor) and loads the next page when scrolled to its end or
 * asked to. Dropping a card in another column fires the workflow transition that leads there (or sets the
 * picklist); a move the workflow or the user's rights forbid snaps back with the API's reason. Cards move
 * with the keyboard too (← →).
 */
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { Alert, App, Button, Skeleton, Tag } from 'antd';
import { UnorderedListOutlined } from '@ant-design/icons';
import { useInfiniteQuery, useQuery, useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { api, errorText, get, joinMessages, qs } from '../api';
import { useEntityPage, widgetName } from '../entity-page';
import { formatCurrency, formatNumber } from '../format';
import { useLang } from '../i18n';
import { ColorTag, titleOf } from '../widgets/cells';
import { allOf, FILTER_PARAMS, urlFilter } from '../list/filters';

/** Cards per column and page: enough to fill a screen, few enough that nine columns open at once. */
const PAGE = 50;

interface ColumnPage {
  data: any[];
  nextCursor?: string | null;
  total?: number;
  sums?: Record<string, number>;
}

export default function KanbanPage() {
  const { entity = '' } = useParams();
  const { lang, t } = useLang();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const page = useEntityPage(entity);
  const { model, view, fields, cell } = page;
  const kanban = view?.kanban;
  const group = kanban ? fields.get(kanban.groupBy) : undefined;
  const values = group?.options ?? [];
  const titleField = model?.entity.titleField ?? undefined;
  const shown = [...new Set([titleField, kanban?.groupBy, kanban?.sumField, ...(kanban?.cardFields ?? [])].filter(Boolean) as string[])].filter((f) => fields.has(f));
  const workflow = useQuery({
    queryKey: ['workflow-doc', model?.entity.workflow],
    enabled: Boolean(model?.entity.workflow),
    staleTime: 300_000,
    queryFn: () => get(`/api/meta/documents/workflow/${model!.entity.workflow}`),
  });
  const byWorkflow = Boolean(workflow.data && workflow.data.stateField === kanban?.groupBy);
  const [params] = useSearchParams();
  const q = params.get('q') || undefined;
  const filter = useMemo(() => (view ? urlFilter(params, view.lists, fields) : undefined), [params, view, fields]);
  const filtered = FILTER_PARAMS.some((k) => params.get(k));
  const sumName = kanban?.sumField && fields.has(kanban.sumField) ? kanban.sumField : undefined;
  const columnKey = ['list', entity, 'kanban', kanban?.groupBy, shown.join(','), filter, q, sumName];
  const columnPath = (value: string, cursor?: string) =>
    `/api/data/${entity}${qs({
      filter: JSON.stringify(allOf([{ '==': [{ var: kanban!.groupBy }, value] }, filter])),
      q,
      limit: PAGE,
      cursor,
      // The column's count and sum come with its first page, counted by the server over all its records.
      count: cursor ? undefined : 'true',
      sum: cursor ? undefined : sumName,
      sort: '-updated_at',
      fields: shown.join(','),
      expand: page.expandOf(shown),
    })}`;
  const [moved, setMoved] = useState<Record<string, string>>({});
  const [over, setOver] = useState<string | null>(null);
  /** Every card the columns have loaded, wherever it is now. */
  const loaded = () =>
    queryClient
      .getQueriesData<InfiniteData<ColumnPage>>({ queryKey: ['list', entity, 'kanban'] })
      .flatMap(([, d]) => d?.pages.flatMap((p) => p.data) ?? []);
  // Cards dropped into a column, shown there until the server's answer comes back in its own page.
  const movedIn = useMemo(() => {
    const by = new Map<string, any[]>();
    if (!Object.keys(moved).length) return by;
    const seen = new Set<string>();
    for (const r of loaded()) {
      const to = moved[r.id];
      if (!to || to === r[kanban!.groupBy] || seen.has(r.id)) continue;
      seen.add(r.id);
      by.set(to, [...(by.get(to) ?? []), r]);
    }
    return by;
    // The cache is read when a move changes what a column shows.
  }, [moved, kanban]);

  if (page.error) return <Alert type="error" showIcon message={(page.error as Error).message} />;
  if (!page.ready || !model) return <Skeleton active />;
  if (!kanban || !group) return <Alert type="info" message={t('empty')} />;

  const move = async (record: any, to: string) => {
    const from = moved[record.id] ?? record[kanban.groupBy];
    // Until the workflow is known, a move could not be told apart from a plain picklist change.
    if (from === to || (model.entity.workflow && !workflow.data)) return;
    setMoved((m) => ({ ...m, [record.id]: to }));
    const snapBack = (reason: string) => {
      setMoved((m) => ({ ...m, [record.id]: from }));
      message.error(t('moveRefused', { reason }));
    };
    try {
      if (byWorkflow) {
        const options = (await get(`/api/data/${entity}/${record.id}/transitions`)).data;
        const transition = (options.transitions as any[]).find((x) => x.target === to);
        const name = (v: string) => group.options?.find((o) => o.value === v)?.label ?? v;
        if (!transition) return snapBack(t('noTransition', { from: name(from), to: name(to) }));
        if (!transition.allowed) return snapBack(joinMessages(transition.reasons.map((r: any) => r.message)));
        await api('POST', `/api/data/${entity}/${record.id}/transitions/${transition.event}`, {});
      } else {
        await api('PATCH', `/api/data/${entity}/${record.id}`, { [kanban.groupBy]: to, version: record.version });
      }
      message.success(t('moved'));
      void queryClient.invalidateQueries({ queryKey: ['list', entity] });
      void queryClient.invalidateQueries({ queryKey: ['record', entity, record.id] });
      void queryClient.invalidateQueries({ queryKey: ['workflow-history', entity, record.id] });
    } catch (e) {
      snapBack(errorText(e));
    }
  };

  const sumField = sumName ? fields.get(sumName) : undefined;
  // A currency field, or a formula shown as one (a receivable's balance): the sum in ¥ like its cells.
  const sumCurrency = Boolean(sumField && (sumField.type === 'currency' || widgetName(model, sumField) === 'currency'));
  const card = (r: any, i: number) => (
    <div key={r.id} className="mc-kanban-card" draggable tabIndex={0} data-card={r.id} aria-label={titleOf(r, titleField)}
      onDragStart={(e) => e.dataTransfer.setData('text/plain', r.id)}
      onKeyDown={(e) => {
        if (e.key === 'ArrowRight' && values[i + 1]) void move(r, values[i + 1].value);
        if (e.key === 'ArrowLeft' && values[i - 1]) void move(r, values[i - 1].value);
        if (e.key === 'Enter') navigate(`/r/${entity}/${r.id}`);
      }}>
      <Link to={`/r/${entity}/${r.id}`} style={{ fontWeight: 600 }} tabIndex={-1}>{titleOf(r, titleField) || '—'}</Link>
      {kanban.cardFields.filter((f) => f !== titleField && fields.has(f)).map((f) => (
        <div key={f} style={{ display: 'flex', gap: 6 }}>
          <span style={{ color: '#595959' }}>{fields.get(f)!.label}</span>
          <span>{cell(f, r[f], r) ?? '—'}</span>
        </div>
      ))}
    </div>
  );
  return (
    <>
      <div className="mc-page-title">
        <h1>{page.pluralLabel} · {t('kanban')}</h1>
        <span style={{ flex: 1 }} />
        <Button icon={<UnorderedListOutlined />} onClick={() => navigate(`/l/${entity}${filtered ? `?${new URLSearchParams(FILTER_PARAMS.flatMap((k) => (params.get(k) ? [[k, params.get(k)!]] : [])))}` : ''}`)}>{t('list')}</Button>
      </div>
      {filtered && (
        <Tag closable color="blue" style={{ marginBottom: 8 }} data-testid="kanban-filter" onClose={() => navigate(`/k/${entity}`)}>{t('listFilter')}</Tag>
      )}
      <div className="mc-kanban" data-testid="kanban" tabIndex={0} aria-label={`${page.pluralLabel} · ${t('kanban')}`}>
        {values.map((v, i) => (
          <KanbanColumn key={v.value} value={v.value} label={v.label} color={v.color}
            queryKey={[...columnKey, v.value]} path={(cursor) => columnPath(v.value, cursor)} enabled={page.ready}
            stays={(r) => (moved[r.id] ?? r[kanban.groupBy]) === v.value} movedIn={movedIn.get(v.value) ?? []}
            sumText={(sum) => (sumCurrency ? formatCurrency(lang, sum) : formatNumber(lang, sum))}
            sumName={sumName} sumLabel={t('sum')} loadMore={t('loadMore')} drop={over === v.value}
            onDragOver={() => setOver(v.value)} onDragLeave={() => setOver(null)}
            onDrop={(id) => {
              setOver(null);
              const record = loaded().find((r) => r.id === id);
              if (record) void move(record, v.value);
            }}>
            {(r) => card(r, i)}
          </KanbanColumn>
        ))}
      </div>
    </>
  );
}

/**
 * One column: its first page with the column's count and sum, then further pages as the user scrolls to
 * its end (or presses the button, which the keyboard and screen readers reach).
 */
function KanbanColumn(props: {
  value: string;
  label: string;
  color?: string;
  queryKey: unknown[];
  path: (cursor?: string) => string;
  enabled: boolean;
  /** Whether a loaded card still belongs here (not dropped elsewhere meanwhile). */
  stays: (record: any) => boolean;
  movedIn: any[];
  sumName?: string;
  sumText: (sum: number) => string;
  sumLabel: string;
  loadMore: string;
  drop: boolean;
  onDragOver: () => void;
  onDragLeave: () => void;
  onDrop: (id: string) => void;
  children: (record: any) => ReactNode;
}) {
  const { value, queryKey, path } = props;
  const pages = useInfiniteQuery({
    queryKey,
    enabled: props.enabled,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => get<ColumnPage>(path(pageParam)),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const own = pages.data?.pages.flatMap((p) => p.data) ?? [];
  const ids = new Set(own.map((r) => r.id));
  const rows = [...props.movedIn.filter((r) => !ids.has(r.id)), ...own.filter(props.stays)];
  const first = pages.data?.pages[0];
  const total = first?.total;
  const sum = props.sumName ? first?.sums?.[props.sumName] : undefined;
  const end = useRef<HTMLDivElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = pages;
  useEffect(() => {
    const sentinel = end.current;
    if (!sentinel || !hasNextPage || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
    });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  return (
    <section aria-label={props.label} className={`mc-kanban-col${props.drop ? ' drop' : ''}`} data-column={value}
      onDragOver={(e) => (e.preventDefault(), props.onDragOver())} onDragLeave={props.onDragLeave}
      onDrop={(e) => {
        e.preventDefault();
        props.onDrop(e.dataTransfer.getData('text/plain'));
      }}>
      <div style={{ display: 'flex', justifyContent: 'space-between', marginBottom: 6, fontSize: 13 }}>
        <ColorTag color={props.color}>{props.label}</ColorTag>
        <span data-testid={`count-${value}`}>{total ?? rows.length}</span>
      </div>
      {props.sumName && sum !== undefined && (
        <div style={{ fontSize: 12, color: '#4a4a4a', marginBottom: 6 }} data-testid={`sum-${value}`}>
          {props.sumLabel}: {props.sumText(sum)}
        </div>
      )}
      {rows.map((r) => props.children(r))}
      {hasNextPage && (
        <div ref={end}>
          <Button block size="small" type="text" loading={isFetchingNextPage} data-testid={`more-${value}`}
            onClick={() => void fetchNextPage()}>
            {props.loadMore}{total !== undefined ? ` (${total - own.length})` : ''}
          </Button>
        </div>
      )}
    </section>
  );
}
