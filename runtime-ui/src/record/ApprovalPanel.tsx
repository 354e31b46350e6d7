/**
 * Approval on the record page: where the request stands, its steps with who decided what, submit and
 * recall for the submitter (disabled with the API's reasons), and approve / reject / delegate with a
 * comment for the approver whose task is open. The same decision controls serve the inbox page.
 */
import { useState } from 'react';
import { App, Button, Card, Input, Modal, Space, Timeline, Tooltip } from 'antd';
import { ColorTag } from '../widgets/cells';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, errorText, get, joinMessages, post } from '../api';
import { formatDateTime } from '../format';
import { useLang, type Lang, type MessageKey } from '../i18n';
import { pick } from '../meta';
import { UserSelect } from '../widgets/UserSelect';

const STATUS_COLOR: Record<string, string> = {
  pending: '#1f5fbf', approved: '#389e0d', rejected: '#cf1322', returned: '#8e24aa', recalled: '#8c8c8c', none: '#8c8c8c',
  delegated: '#8c8c8c', cancelled: '#8c8c8c', escalated: '#fa8c16',
};
/** Statuses of requests (returned for changes) and of tasks (delegated, cancelled, escalated) the shared words lack. */
const MORE_STATUS: Record<Lang, Record<string, string>> = {
  'zh-CN': { returned: '退回修改', delegated: '已转交', cancelled: '已取消', escalated: '已上报' },
  en: { returned: 'Returned for changes', delegated: 'Delegated', cancelled: 'Cancelled', escalated: 'Escalated' },
};

/** A request's status (pending, approved, rejected, returned, recalled, none) or a task's (those, delegated…). */
export function StatusTag({ status }: { status: string }) {
  const { lang, t } = useLang();
  const text = MORE_STATUS[lang][status] ?? t((['pending', 'approved', 'rejected', 'recalled'].includes(status) ? status : 'none') as MessageKey);
  return <ColorTag color={STATUS_COLOR[status] ?? '#8c8c8c'}>{text}</ColorTag>;
}

export function DecisionButtons({ task, onDone }: { task: string; onDone(): void }) {
  const { t } = useLang();
  const { message } = App.useApp();
  const [mode, setMode] = useState<'approve' | 'reject' | 'delegate' | null>(null);
  const [comment, setComment] = useState('');
  const [to, setTo] = useState<string>();
  const [busy, setBusy] = useState(false);
  const decide = async () => {
    setBusy(true);
    try {
      await post(`/api/approvals/${task}/${mode}`, { ...(comment ? { comment } : {}), ...(mode === 'delegate' ? { to } : {}) });
      message.success(t(mode!));
      setMode(null);
      setComment('');
      onDone();
    } catch (e) {
      message.error(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Space>
        <Button type="primary" size="small" onClick={() => setMode('approve')} data-testid="approve">{t('approve')}</Button>
        <Button danger size="small" onClick={() => setMode('reject')}>{t('reject')}</Button>
        <Button size="small" onClick={() => setMode('delegate')}>{t('delegate')}</Button>
      </Space>
      <Modal open={mode !== null} title={mode ? t(mode) : ''} onCancel={() => setMode(null)} onOk={decide} confirmLoading={busy}
        okButtonProps={{ disabled: mode === 'delegate' && !to, danger: mode === 'reject' }} destroyOnHidden>
        {mode === 'delegate' && <div style={{ marginBottom: 8 }}><UserSelect label={t('user')} value={to} onChange={setTo} /></div>}
        <Input.TextArea aria-label={t('comment')} placeholder={t('comment')} value={comment} onChange={(e) => setComment(e.target.value)} autoSize={{ minRows: 2 }} />
      </Modal>
    </>
  );
}

export function ApprovalPanel({ entity, id, onChanged }: { entity: string; id: string; onChanged(): void }) {
  const { lang, t } = useLang();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const state = useQuery({ queryKey: ['approval', entity, id], queryFn: () => get(`/api/data/${entity}/${id}/approval`).then((r) => r.data) });
  const history = useQuery({ queryKey: ['approvals', entity, id], queryFn: () => get(`/api/data/${entity}/${id}/approvals`).then((r) => r.data as any[]) });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['approval', entity, id] });
    void queryClient.invalidateQueries({ queryKey: ['approvals', entity, id] });
    void queryClient.invalidateQueries({ queryKey: ['approvals', 'inbox'] });
    onChanged();
  };
  const act = async (what: 'submit' | 'recall') => {
    try {
      await post(`/api/data/${entity}/${id}/approval/${what}`);
      message.success(t(what === 'submit' ? 'submitApproval' : 'recall'));
      refresh();
    } catch (e) {
      message.error(errorText(e));
    }
  };
  const s = state.data;
  if (!s) return null;
  const reasons = joinMessages((s.reasons ?? []).map((r: any) => r.message));
  const latest = history.data?.[0];
  return (
    <Card size="small" title={<span>{t('approval')} · {pick(s.label, lang)}</span>} extra={<StatusTag status={s.status} />} style={{ marginBottom: 12 }} data-testid="approval-panel">
      <Space wrap style={{ marginBottom: latest ? 8 : 0 }}>
        {s.stepLabel && <span>{pick(s.stepLabel, lang)}</span>}
        <Tooltip title={s.canSubmit ? undefined : reasons}>
          <Button size="small" type="primary" disabled={!s.canSubmit} onClick={() => act('submit')} data-testid="submit-approval">{t('submitApproval')}</Button>
        </Tooltip>
        {s.canRecall && <Button size="small" onClick={() => act('recall')}>{t('recall')}</Button>}
        {s.task && <DecisionButtons task={s.task} onDone={refresh} />}
      </Space>
      {latest && (
        <Timeline
          style={{ marginTop: 8, marginBottom: -16 }}
          items={(latest.tasks ?? []).map((task: any) => ({
            color: task.status === 'approved' ? 'green' : task.status === 'rejected' ? 'red' : task.status === 'pending' ? 'blue' : 'gray',
            children: (
              <div style={{ fontSize: 12 }}>
                <b>{task.assigneeName ?? task.assignee}</b> · <StatusTag status={task.status} />
                {task.decidedAt && formatDateTime(lang, task.decidedAt)}
                {task.comment && <div>{task.comment}</div>}
              </div>
            ),
          }))}
        />
      )}
    </Card>
  );
}
