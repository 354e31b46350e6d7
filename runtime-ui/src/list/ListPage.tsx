/**
 * The list of any entity: columns from the view (or the user's own choice), click-to-sort, quick search
 * (q), the filter builder (json-logic), keyset paging with the total, bulk assign / delete / export, and
 * the recycle bin with restore. On a phone the rows become cards. State lives in the URL, so a reload or
 * a shared link shows the same list.
 */
import { lazy, Suspense, useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { App, Alert, Badge, Button, Checkbox, Grid, Input, Modal, Popover, Space, Spin, Tag } from 'antd';
import { DataTable, type Column } from './DataTable';
import { Panel } from '../ui/Panel';
import {
  AppstoreOutlined, CalendarOutlined, DeleteOutlined, FilterOutlined, PlusOutlined, RestOutlined, SettingOutlined, UndoOutlined, UploadOutlined, UserSwitchOutlined,
} from '@ant-design/icons';
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { api, errorText, get, post, qs } from '../api';
import { useLang } from '../i18n';
import { useEntityPage } from '../entity-page';
import { titleOf } from '../widgets/cells';
// The filter builder brings the date pickers: loaded when first opened, not with the list.
const FilterBuilder = lazy(() => import('./FilterBuilder').then((m) => ({ default: m.FilterBuilder })));
import { UserSelect } from '../widgets/UserSelect';
import { allOf, FILTER_PARAMS, toJsonLogic, type Condition } from './filters';
import { ExportButton } from '../import/ExportButton';
import { useWords } from '../import/words';
import { SaveViewButton, useSavedViews, ViewPicker } from './SavedViews';

const PAGE = 50;

/** The columns a user chose for a list view, remembered in this browser (null: the view's own). */
function storedColumns(key: string): string[] | null {
  if (!key) return null;
  try {
    const value = JSON.parse(localStorage.getItem(key) ?? 'null');
    return Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

export default function ListPage() {
  const { entity = '' } = useParams();
  const { lang, t } = useLang();
  const w = useWords();
  const page = useEntityPage(entity);
  const { model, fields, view, me, cell, can } = page;
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message, modal } = App.useApp();
  const phone = !Grid.useBreakpoint().md;
  const [selected, setSelected] = useState<string[]>([]);
  const [assignTo, setAssignTo] = useState<string>();
  const [assignOpen, setAssignOpen] = useState(false);
  const [filterOpen, setFilterOpen] = useState(false);

  const bin = params.get('bin') === '1';
  const q = params.get('q') ?? '';
  const listView = view?.lists.find((l) => l.name === params.get('view')) ?? view?.lists[0];
  const savedViews = useSavedViews(entity);
  const saved = savedViews.data?.find((v) => v.id === params.get('saved'));
  const sort = params.get('sort') ?? listView?.sort ?? '-updated_at';
  const conditions: Condition[] = useMemo(() => JSON.parse(params.get('filter') ?? '[]'), [params]);
  // A report's drill-down: the json-logic of the records behind a number (dashboard/drill.ts).
  const where = useMemo(() => (params.get('where') ? JSON.parse(params.get('where')!) : undefined), [params]);
  // Known once the caller, the view and (when one is asked for) the saved views have arrived: a choice made
  // before would be kept under another view's key and lost when they arrive (the chooser waits for it).
  const savedPending = Boolean(params.get('saved')) && !savedViews.data;
  const colsKey = me && view && !savedPending ? `mc.cols.${me.user.id}.${entity}.${saved ? `saved:${saved.id}` : listView?.name}` : '';
  // The user's columns for this list view, read again whenever the key changes: the caller (`me`) and the
  // view arrive after the first render, and another list view has columns of its own.
  const [picked, setPicked] = useState<{ key: string; columns: string[] } | null>(null);
  const chosen = useMemo(() => (picked && picked.key === colsKey ? picked.columns : storedColumns(colsKey)), [picked, colsKey]);
  // The user's own choice first (per list view or saved view), then the saved view's, then the list view's.
  const columns = (chosen ?? (saved ? saved.state.columns : undefined) ?? listView?.columns ?? []).filter((c) => fields.has(c));
  const titleField = model?.entity.titleField ?? columns[0];

  const filter = useMemo(() => allOf([listView?.filter, toJsonLogic(conditions, fields), where]), [listView, conditions, fields, where]);
  const shown = useMemo(() => [...new Set([titleField, ...columns].filter(Boolean) as string[])], [titleField, columns]);
  const expand = page.expandOf(shown)?.split(',') ?? [];

  const set = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) (v === null || v === '' ? next.delete(k) : next.set(k, v));
    setParams(next, { replace: true });
    setSelected([]);
  };

  const queryString = (cursor?: string, count?: boolean) =>
    qs({
      sort, q: q || undefined, filter: filter ? JSON.stringify(filter) : undefined, limit: PAGE, cursor, count: count ? 'true' : undefined,
      fields: shown.join(','), expand: expand.join(',') || undefined, deleted: bin ? 'only' : undefined,
    });
  const rows = useInfiniteQuery({
    queryKey: ['list', entity, sort, q, filter, shown.join(','), bin],
    enabled: page.ready,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => get<{ data: any[]; nextCursor?: string | null; total?: number }>(`/api/data/${entity}${queryString(pageParam, !pageParam)}`),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const records = useMemo(() => rows.data?.pages.flatMap((p) => p.data) ?? [], [rows.data]);
  const total = rows.data?.pages[0]?.total;

  if (page.error) return <Alert type="error" showIcon message={(page.error as Error).message} />;
  if (!page.ready || !model || !view) return <Spin />;

  const refresh = () => queryClient.invalidateQueries({ queryKey: ['list', entity] });
  // The kanban shows what this list shows: its list view, filter, drill-down and search.
  const kanbanQuery = () => {
    const keep = new URLSearchParams();
    for (const k of FILTER_PARAMS) if (params.get(k)) keep.set(k, params.get(k)!);
    if (listView && !keep.has('view')) keep.set('view', listView.name);
    return keep.size ? `?${keep}` : '';
  };
  const sortOf = (name: string) => (sort === name ? 'ascend' : sort === `-${name}` ? 'descend' : null);
  const tableColumns: Column<any>[] = shown.map((name) => {
    const f = fields.get(name)!;
    return {
      key: name,
      title: f.label,
      ellipsis: f.type === 'text' || f.type === 'textarea',
      sortable: f.sortable !== false,
      align: ['currency', 'decimal', 'integer', 'percent'].includes(f.type) ? 'right' : undefined,
      render: (record: any) =>
        name === titleField ? <Link to={`/r/${entity}/${record.id}`}>{titleOf(record, titleField) || '—'}</Link> : cell(name, record[name], record),
    };
  });
  // In the recycle bin every row (or phone card) has its restore button.
  const restoreButton = (record: any) => (
    <Button size="small" icon={<UndoOutlined />} onClick={async () => {
      try {
        await post(`/api/data/${entity}/${record.id}/restore`);
        message.success(t('restored'));
        void refresh();
      } catch (e) {
        message.error((e as Error).message);
      }
    }}>{t('restore')}</Button>
  );
  if (bin) tableColumns.push({ key: '_restore', title: '', width: 90, render: restoreButton });

  // Each selected record is deleted on its own (its delete behaviours, its rights): those refused are
  // named with the server's reason, every one of them, and stay selected.
  const bulkDelete = () =>
    modal.confirm({
      title: t('confirmDelete'),
      okButtonProps: { danger: true },
      onOk: async () => {
        const titles = new Map(records.map((r) => [r.id as string, titleOf(r, titleField) || String(r.id)]));
        const refused: { id: string; title: string; reason: string }[] = [];
        for (const id of selected)
          await api('DELETE', `/api/data/${entity}/${id}`).catch((e) =>
            refused.push({ id, title: titles.get(id) ?? id, reason: errorText(e) }),
          );
        const done = selected.length - refused.length;
        setSelected(refused.map((r) => r.id));
        void refresh();
        if (!refused.length) return void message.success(`${t('deleted')} · ${t('total', { n: done })}`);
        modal.error({
          title: t('deletedPartly', { done, n: refused.length }),
          width: 520,
          content: (
            <ul data-testid="delete-refused" style={{ paddingInlineStart: 18, margin: 0, maxHeight: 320, overflow: 'auto' }}>
              {refused.map((r) => <li key={r.id}><b>{r.title}</b>{lang === 'zh-CN' ? '：' : ': '}{r.reason}</li>)}
            </ul>
          ),
        });
      },
    });
  const assign = async () => {
    try {
      const result = await post(`/api/data/${entity}/assign`, { to: assignTo, filter: { in: [{ var: 'id' }, selected] } });
      message.success(`${t('assign')} · ${t('total', { n: result.data?.assigned ?? result.data?.count ?? selected.length })}`);
      setAssignOpen(false);
      setSelected([]);
      void refresh();
    } catch (e) {
      message.error((e as Error).message);
    }
  };

  const selection = selected.length > 0 && (
    <>
      <span>{t('selected', { n: selected.length })}</span>
      {can('assign') && !bin && <Button icon={<UserSwitchOutlined />} onClick={() => (setAssignTo(undefined), setAssignOpen(true))}>{t('assign')}</Button>}
      {can('delete') && !bin && <Button danger icon={<DeleteOutlined />} onClick={bulkDelete}>{t('delete')}</Button>}
    </>
  );

  const columnChooser = (
    <Checkbox.Group
      style={{ display: 'flex', flexDirection: 'column', maxHeight: 360, overflow: 'auto' }}
      value={columns}
      options={model.fields.filter((f) => f.readable !== false).map((f) => ({ value: f.name, label: f.label }))}
      onChange={(v) => {
        const next = model.fields.map((f) => f.name).filter((n) => (v as string[]).includes(n));
        setPicked({ key: colsKey, columns: next });
        if (colsKey) localStorage.setItem(colsKey, JSON.stringify(next));
      }}
    />
  );

  return (
    <>
      <div className="mc-page-title">
        <h1>{bin ? `${page.pluralLabel} · ${t('recycleBin')}` : page.pluralLabel}</h1>
        {total !== undefined && <span style={{ color: '#595959' }} data-testid="total">{t('total', { n: total })}</span>}
        <span style={{ flex: 1 }} />
        {!bin && can('create') && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate(`/r/${entity}/new`)}>{t('new')}</Button>
        )}
        {view.kanban && !bin && <Button icon={<AppstoreOutlined />} onClick={() => navigate(`/k/${entity}${kanbanQuery()}`)}>{t('kanban')}</Button>}
        {view.calendar && !bin && <Button icon={<CalendarOutlined />} onClick={() => navigate(`/c/${entity}`)}>{t('calendar')}</Button>}
        <Button icon={<RestOutlined />} type={bin ? 'primary' : 'default'} ghost={bin} onClick={() => set({ bin: bin ? null : '1' })}>{t('recycleBin')}</Button>
      </div>
      <Space wrap style={{ marginBottom: 8 }}>
        <Input.Search key={q} allowClear placeholder={t('search')} aria-label={t('search')} defaultValue={q} style={{ width: phone ? 200 : 260 }} onSearch={(v) => set({ q: v })} />
        <ViewPicker entity={entity} lists={view.lists} saved={savedViews.data ?? []} value={saved ? `s:${saved.id}` : `v:${listView?.name}`}
          onChange={(v) => {
            const chosenView = savedViews.data?.find((x) => `s:${x.id}` === v);
            const st = chosenView?.state ?? {};
            // A saved view brings its whole state; a deployed one starts clean.
            set({ view: chosenView ? null : v.slice(2), saved: chosenView?.id ?? null, sort: st.sort ?? null, q: st.q ?? null,
              filter: st.filter?.length ? JSON.stringify(st.filter) : null, where: st.where ? JSON.stringify(st.where) : null });
          }} />
        {/* Content always given (a popover without any never opens); drawn on first opening, and destroyed on
            closing so that it opens on the list's current conditions. */}
        <Popover trigger="click" open={filterOpen} onOpenChange={setFilterOpen} placement="bottomLeft" destroyOnHidden
          content={
            <Suspense fallback={<Spin />}>
              <FilterBuilder fields={model.fields} initial={conditions} onApply={(c) => (set({ filter: c.length ? JSON.stringify(c) : null }), setFilterOpen(false))} />
            </Suspense>
          }>
          <Badge count={conditions.length} size="small">
            <Button icon={<FilterOutlined />}>{t('filter')}</Button>
          </Badge>
        </Popover>
        {where && <Tag closable color="blue" onClose={() => set({ where: null })} data-testid="drill-filter">{t('drillFilter')}</Tag>}
        <Popover trigger="click" content={columnChooser} placement="bottomLeft">
          <Button icon={<SettingOutlined />} disabled={!colsKey}>{t('columns')}</Button>
        </Popover>
        {me && !bin && (
          <SaveViewButton entity={entity} me={me} state={{ columns, sort, filter: conditions, q: q || undefined, where }}
            onSaved={(v) => set({ saved: v.id, view: null })} />
        )}
        {can('export') && <ExportButton entity={entity} filter={filter} sort={sort} q={q} fields={shown} selected={selected} label={t('export')} />}
        {can('import') && !bin && <Button icon={<UploadOutlined />} onClick={() => navigate(`/import/${entity}`)}>{w('import')}</Button>}
        {!phone && selection}
      </Space>
      {/* On a phone the selection's actions stay in reach at the bottom, wherever the cards were ticked. */}
      {phone && selected.length > 0 && (
        <div className="mc-selection-bar" data-testid="selection-bar">
          {selection}
          <span style={{ flex: 1 }} />
          <Button type="text" onClick={() => setSelected([])}>{t('cancel')}</Button>
        </div>
      )}
      {rows.error && <Alert type="error" showIcon message={(rows.error as Error).message} style={{ marginBottom: 8 }} />}
      {phone ? (
        <div className={`mc-card-list${selected.length ? ' selecting' : ''}`} data-testid="cards">
          {records.map((r) => (
            <Panel key={r.id} extra={bin ? restoreButton(r) : undefined} title={
              // Selecting on a phone: a checkbox on each card, the actions on the selection in the toolbar.
              <span style={{ display: 'inline-flex', gap: 8, alignItems: 'center' }}>
                <Checkbox aria-label={titleOf(r, titleField) || r.id} checked={selected.includes(r.id)}
                  onChange={(e) => setSelected((s) => (e.target.checked ? [...s, r.id] : s.filter((x) => x !== r.id)))} />
                <Link to={`/r/${entity}/${r.id}`}>{titleOf(r, titleField) || '—'}</Link>
              </span>
            }>
              {shown.filter((c) => c !== titleField).slice(0, 5).map((c) => (
                <div key={c} style={{ display: 'flex', gap: 8, fontSize: 13 }}>
                  <span style={{ color: '#595959', flex: '0 0 104px' }}>{fields.get(c)!.label}</span>
                  <span>{cell(c, r[c], r) ?? '—'}</span>
                </div>
              ))}
            </Panel>
          ))}
          {rows.isLoading && <Spin />}
        </div>
      ) : (
        <DataTable
          columns={tableColumns}
          rows={records}
          loading={rows.isLoading}
          empty={t('empty')}
          sortOrder={sortOf}
          onSort={(name, order) => set({ sort: order === 'descend' ? `-${name}` : name })}
          selected={selected}
          onSelect={setSelected}
          rowLabel={(r) => titleOf(r, titleField) || r.id}
          selectAllLabel={t('selectAll')}
        />
      )}
      {rows.hasNextPage && (
        <div style={{ textAlign: 'center', marginTop: 8 }}>
          <Button onClick={() => rows.fetchNextPage()} loading={rows.isFetchingNextPage}>{t('loadMore')}</Button>
        </div>
      )}
      <Modal title={`${t('assign')} · ${t('selected', { n: selected.length })}`} open={assignOpen} onCancel={() => setAssignOpen(false)} onOk={assign}
        okButtonProps={{ disabled: !assignTo }} destroyOnHidden>
        <div style={{ marginBottom: 4 }}>{t('owner')}</div>
        <UserSelect label={t('owner')} value={assignTo} onChange={setAssignTo} />
      </Modal>
    </>
  );
}
