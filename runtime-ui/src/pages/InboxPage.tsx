/**
 * The approval inbox: the caller's pending tasks (and those of whoever they stand in for); picking one
 * shows the record to decide on, the request's steps, and approve / reject / delegate with a comment.
 */
import { Card, Col, Descriptions, Empty, List, Row, Tag } from 'antd';
import { Link, useSearchParams } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { get } from '../api';
import { useEntityPage } from '../entity-page';
import { formatDateTime } from '../format';
import { useLang } from '../i18n';
import { pick } from '../meta';
import { DecisionButtons, StatusTag } from '../record/ApprovalPanel';
import { titleOf } from '../widgets/cells';
import { useInbox } from './HomePage';

function TaskDetail({ taskId, onDone }: { taskId: string; onDone(): void }) {
  const { lang, t } = useLang();
  const task = useQuery({ queryKey: ['approval-task', taskId], queryFn: () => get(`/api/approvals/${taskId}`).then((r) => r.data) });
  const entity = task.data?.request?.entity ?? '';
  const page = useEntityPage(entity);
  if (!task.data || !page.model) return <Card loading />;
  const { request, record } = task.data;
  const layoutFields = page.view?.layouts[0]?.sections.flatMap((s) => s.fields) ?? [];
  const shown = layoutFields.filter((f) => record[f] !== undefined && record[f] !== null).slice(0, 16);
  return (
    <Card size="small" data-testid="task-detail"
      title={<Link to={`/r/${entity}/${record.id}`}>{titleOf(record, page.model.entity.titleField)}</Link>}
      extra={<DecisionButtons task={taskId} onDone={onDone} />}>
      <Descriptions size="small" column={{ xs: 1, md: 2 }} bordered items={shown.map((f) => ({ key: f, label: page.fields.get(f)?.label ?? f, children: page.cell(f, record[f], record) }))} />
      <h3 style={{ fontSize: 14, marginTop: 12 }}>{t('steps')}</h3>
      <List size="small" dataSource={request.tasks ?? []} renderItem={(x: any) => (
        <List.Item>
          <span>{x.assigneeName ?? x.assignee} · {pick(x.stepLabel, lang, x.step)}</span>
          <span><StatusTag status={x.status} />{x.decidedAt && formatDateTime(lang, x.decidedAt)} {x.comment}</span>
        </List.Item>
      )} />
    </Card>
  );
}

export default function InboxPage() {
  const { lang, t } = useLang();
  const inbox = useInbox();
  const [params, setParams] = useSearchParams();
  const queryClient = useQueryClient();
  const selected = params.get('task') ?? inbox.data?.[0]?.id;
  const done = () => {
    void queryClient.invalidateQueries({ queryKey: ['approvals', 'inbox'] });
    setParams({}, { replace: true });
  };
  return (
    <>
      <div className="mc-page-title"><h1>{t('inbox')}</h1><span style={{ color: '#595959' }}>{t('total', { n: inbox.data?.length ?? 0 })}</span></div>
      <Row gutter={12}>
        <Col xs={24} md={9}>
          <Card size="small" styles={{ body: { padding: 0 } }}>
            <List size="small" loading={inbox.isLoading} dataSource={inbox.data ?? []} locale={{ emptyText: t('empty') }}
              renderItem={(task: any) => (
                <List.Item onClick={() => setParams({ task: task.id })} style={{ cursor: 'pointer', padding: '8px 12px', background: task.id === selected ? '#e8f0fc' : undefined }}
                  data-testid="inbox-item">
                  <List.Item.Meta
                    title={<a href={`/inbox?task=${task.id}`} onClick={(e) => e.preventDefault()}>{task.title || task.recordId}</a>}
                    description={<span style={{ fontSize: 12 }}><Tag>{pick(task.approvalLabel, lang)}</Tag>{pick(task.stepLabel, lang)} · {task.submitterName} · {formatDateTime(lang, task.submittedAt)}</span>}
                  />
                </List.Item>
              )} />
          </Card>
        </Col>
        <Col xs={24} md={15}>
          {selected ? <TaskDetail key={selected} taskId={selected} onDone={done} /> : <Empty description={t('empty')} />}
        </Col>
      </Row>
    </>
  );
}
