/**
 * The kanban of any entity: a column per value of the view's group field (a picklist, or the workflow's
 * state field), with each column's count and the sum of the view's sum field over ALL its records as the
 * server counts them (the list API's `total` and `sums`, in the caller's scope and under the list's filter
 * and search, which the kanban takes from the URL like the list) — the cards shown are the latest 200. Dropping a card in another column fires
 * the workflow transition that leads there (or sets the picklist); a move the workflow or the user's
 * rights forbid snaps back with the API's reason. Cards move with the keyboard too (← →).
 */
import { useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { Alert, App, Button, Skeleton, Tag } from 'antd';
import { UnorderedListOutlined } from '@ant-design/icons';
import { useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, errorText, get, joinMessages, qs } from '../api';
import { useEntityPage } from '../entity-page';
import { formatCurrency, formatNumber } from '../format';
import { useLang } from '../i18n';
import { ColorTag, titleOf } from '../widgets/cells';
import { allOf, FILTER_PARAMS, urlFilter } from '../list/filters';

const LIMIT = 200;

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
  const columns = useQueries({
    queries: values.map((v) => ({
      queryKey: ['list', entity, 'kanban', kanban?.groupBy, v.value, shown.join(','), filter, q, sumName],
      enabled: page.ready && Boolean(kanban),
      // The column's count and sum come with its cards, counted by the server over every record of the column.
      queryFn: () =>
        get(`/api/data/${entity}${qs({ filter: JSON.stringify(allOf([{ '==': [{ var: kanban!.groupBy }, v.value] }, filter])), q, limit: LIMIT, count: 'true', sum: sumName, sort: '-updated_at', fields: shown.join(','), expand: page.expandOf(shown) })}`),
    })),
  });
  const [moved, setMoved] = useState<Record<string, string>>({});
  const [over, setOver] = useState<string | null>(null);
  const cards = useMemo(() => {
    const all = columns.flatMap((c) => (c.data?.data ?? []) as any[]);
    return values.map((v) => all.filter((r) => (moved[r.id] ?? r[kanban!.groupBy]) === v.value));
  }, [columns, values, moved, kanban]);

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
        {values.map((v, i) => {
          const total = columns[i]?.data?.total as number | undefined;
          const sum = sumName ? (columns[i]?.data?.sums?.[sumName] as number | undefined) : undefined;
          const rows = cards[i];
          return (
            <section key={v.value} aria-label={v.label} className={`mc-kanban-col${over === v.value ? ' drop' : ''}`} data-column={v.value}
              onDragOver={(e) => (e.preventDefault(), setOver(v.value))} onDragLeave={() => setOver(null)}
              onDrop={(e) => {
                e.preventDefault();
                setOver(null);
                const id = e.dataTransfer.getData('text/plain');
                const record = columns.flatMap((c) => (c.data?.data ?? []) as any[]).find((r) => r.id === id);
                if (record) void move(record, v.value);
              }}>
              <div style={{ display: 'flex', justifyContent: 'space-between', marginBottom: 6, fontSize: 13 }}>
                <ColorTag color={v.color}>{v.label}</ColorTag>
                <span data-testid={`count-${v.value}`}>{total ?? rows.length}</span>
              </div>
              {sumField && sum !== undefined && (
                <div style={{ fontSize: 12, color: '#4a4a4a', marginBottom: 6 }} data-testid={`sum-${v.value}`}>
                  {t('sum')}: {sumField.type === 'currency' ? formatCurrency(lang, sum) : formatNumber(lang, sum)}
                </div>
              )}
              {rows.map((r) => (
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
              ))}
            </section>
          );
        })}
      </div>
    </>
  );
}
