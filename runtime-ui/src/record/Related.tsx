/**
 * A related list on the record page: records of another entity that reference this one (an account's
 * contacts, opportunities, visits), with the total and "new" opening that entity's form with the
 * reference filled in.
 */
import { Button, Card, Table } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { Link, useNavigate } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { get, qs } from '../api';
import { useEntityPage } from '../entity-page';
import { useLang } from '../i18n';
import type { RelatedList } from '../views';
import { titleOf } from '../widgets/cells';

export function Related({ related, id }: { related: RelatedList; id: string }) {
  const { t } = useLang();
  const navigate = useNavigate();
  const page = useEntityPage(related.entity);
  const { model, view, fields, cell, can } = page;
  const titleField = model?.entity.titleField ?? undefined;
  const columns = (related.columns.length ? related.columns : view?.lists[0]?.columns ?? [])
    .filter((c) => fields.has(c) && c !== related.via && c !== titleField)
    .slice(0, 4);
  const shown = [titleField, ...columns].filter(Boolean) as string[];
  const rows = useQuery({
    queryKey: ['list', related.entity, 'related', related.via, id, shown.join(',')],
    // Only lists the user may read: an account is referenced by entities the rep has no grant on (receivables).
    enabled: page.ready && can('read'),
    queryFn: () =>
      get(`/api/data/${related.entity}${qs({ filter: JSON.stringify({ '==': [{ var: related.via }, id] }), limit: 20, count: 'true', sort: '-updated_at', fields: shown.join(','), expand: page.expandOf(shown) })}`),
  });
  if (!page.ready || !model || !can('read')) return null;
  const title = `${related.label ?? page.pluralLabel} (${rows.data?.total ?? '…'})`;
  return (
    <Card size="small" title={title} style={{ marginBottom: 12 }} data-testid={`related-${related.entity}`}
      extra={can('create') && (
        <Button size="small" icon={<PlusOutlined />} onClick={() => navigate(`/r/${related.entity}/new?${related.via}=${id}`)}>{t('new')}</Button>
      )}>
      <Table size="small" rowKey="id" pagination={false} loading={rows.isLoading} dataSource={rows.data?.data ?? []}
        locale={{ emptyText: t('empty') }}
        columns={shown.map((name) => ({
          key: name,
          title: fields.get(name)?.label ?? name,
          dataIndex: name,
          render: (v: unknown, r: any) => (name === titleField ? <Link to={`/r/${related.entity}/${r.id}`}>{titleOf(r, titleField) || '—'}</Link> : cell(name, v, r)),
        }))} />
    </Card>
  );
}
