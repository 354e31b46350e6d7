/**
 * Home: what needs the user now — their pending approval tasks, their open stage tasks (records of the
 * entities workflows wait on before advancing, owned by the user and not yet done), unread
 * notifications, and the records they viewed last.
 */
import { Col, Row, Tag } from 'antd';
import { Panel, PlainList } from '../ui/Panel';
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { get, qs } from '../api';
import { formatDateTime } from '../format';
import { useLang } from '../i18n';
import { mayRead, pick, useEntityLabels, useMe } from '../meta';
import { recentRecords } from '../recent';
import { NotificationList, useUnread } from '../shell/NotificationBell';
import { titleOf } from '../widgets/cells';

export const useInbox = () => useQuery({ queryKey: ['approvals', 'inbox'], queryFn: () => get<{ data: any[] }>('/api/approvals/inbox').then((r) => r.data) });

/** Stage tasks: what workflows' auto-advance counts ("all milestone tasks done"), taken from the deployed workflows. */
function useOpenTasks(userId: string | undefined, readable: (e: string) => boolean) {
  return useQuery({
    queryKey: ['open-tasks', userId],
    enabled: Boolean(userId),
    queryFn: async () => {
      const workflows = (await get<{ data: any[] }>('/api/meta/documents?kind=workflow')).data;
      // By task entity: the conditions of "done", and the reference to the record whose stage waits on it.
      const seen = new Map<string, { dones: unknown[]; via?: string; parent?: string }>();
      for (const w of workflows)
        for (const s of Object.values<any>(w.states ?? {}))
          if (s.autoAdvance?.related?.entity && readable(s.autoAdvance.related.entity)) {
            const entry = seen.get(s.autoAdvance.related.entity) ?? { dones: [] as unknown[], via: s.autoAdvance.related.via, parent: w.entity };
            if (!entry.dones.some((x) => JSON.stringify(x) === JSON.stringify(s.autoAdvance.all))) entry.dones.push(s.autoAdvance.all);
            seen.set(s.autoAdvance.related.entity, entry);
          }
      const items: { entity: string; record: any; parent?: { entity: string; record: any } }[] = [];
      // The heading counts them all; the panel lists the ten latest of each entity.
      let total = 0;
      for (const [entity, { dones, via, parent }] of seen) {
        const filter = { and: [{ '==': [{ var: 'owner_id' }, userId] }, ...dones.map((d) => ({ '!': d }))] };
        // The record each task is for (the deal), when the user may read it: named beside the task.
        const expand = via && parent && readable(parent) ? via : undefined;
        const page = await get<{ data: any[]; total?: number }>(
          `/api/data/${entity}${qs({ filter: JSON.stringify(filter), limit: 10, sort: '-updated_at', count: 'true', ...(expand ? { expand } : {}) })}`,
        );
        items.push(
          ...page.data.map((record) => ({
            entity,
            record,
            parent: expand && record[expand] && typeof record[expand] === 'object' ? { entity: parent!, record: record[expand] } : undefined,
          })),
        );
        total += page.total ?? page.data.length;
      }
      return { items, total };
    },
  });
}

export default function HomePage() {
  const { lang, t } = useLang();
  const me = useMe();
  const labels = useEntityLabels();
  const inbox = useInbox();
  const unread = useUnread();
  const tasks = useOpenTasks(me.data?.user.id, (e) => mayRead(me.data, e));
  const recent = me.data ? recentRecords(me.data.user.id) : [];
  const entityLabel = (e: string) => pick(labels.data?.[e]?.label, lang, e);

  return (
    <>
      <div className="mc-page-title"><h1>{t('home')}</h1></div>
      <Row gutter={[12, 12]}>
        <Col xs={24} lg={12}>
          <Panel title={`${t('myApprovals')} (${inbox.data?.length ?? 0})`} extra={<Link to="/inbox">{t('more')}</Link>} data-testid="home-approvals">
            <PlainList loading={inbox.isLoading} items={(inbox.data ?? []).slice(0, 8)} empty={t('empty')}
              render={(task) => (
                <>
                  <Link to={`/inbox?task=${task.id}`}>{task.title || task.recordId}</Link>
                  <span><Tag>{pick(task.approvalLabel, lang)}</Tag>{task.submitterName}</span>
                </>
              )} />
          </Panel>
        </Col>
        <Col xs={24} lg={12}>
          <Panel title={`${t('myTasks')} (${tasks.data?.total ?? 0})`} data-testid="home-tasks">
            <PlainList loading={tasks.isLoading} items={tasks.data?.items ?? []} empty={t('empty')}
              render={({ entity, record, parent }) => (
                <>
                  <Link to={`/r/${entity}/${record.id}`}>{titleOf(record, labels.data?.[entity]?.titleField)}</Link>
                  {parent ? (
                    <Link to={`/r/${parent.entity}/${parent.record.id}`} className="mc-task-parent">
                      {titleOf(parent.record, labels.data?.[parent.entity]?.titleField)}
                    </Link>
                  ) : (
                    <Tag>{entityLabel(entity)}</Tag>
                  )}
                </>
              )} />
          </Panel>
        </Col>
        <Col xs={24} lg={12}>
          <Panel title={`${t('unread')} (${unread.data?.length ?? 0})`} data-testid="home-unread">
            <NotificationList items={(unread.data ?? []).slice(0, 8)} />
          </Panel>
        </Col>
        <Col xs={24} lg={12}>
          <Panel title={t('recent')} data-testid="home-recent">
            <PlainList items={recent} empty={t('empty')}
              render={(r) => (
                <>
                  <Link to={`/r/${r.entity}/${r.id}`}>{r.title}</Link>
                  <span><Tag>{entityLabel(r.entity)}</Tag>{formatDateTime(lang, new Date(r.at).toISOString())}</span>
                </>
              )} />
          </Panel>
        </Col>
      </Row>
    </>
  );
}
