/**
 * The record's history: the audit trail as a timeline with each field's change (old → new, shown as
 * the list shows values) and "revert to this version", plus the workflow's transitions.
 */
import { App, Button, Popconfirm, Tag, Timeline } from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, get, post, qs } from '../api';
import { formatDateTime } from '../format';
import { useLang } from '../i18n';
import { pick, type FieldInfo } from '../meta';

/** What each audited action is called, and the actor of the engine's own changes (an automation, a timer). */
const WORDS = {
  'zh-CN': {
    create: '创建', update: '修改', delete: '删除', restore: '恢复', assign: '转移负责人', share: '共享',
    unshare: '取消共享', revert: '恢复版本', transition: '流程流转', system: '系统',
  },
  en: {
    create: 'Created', update: 'Edited', delete: 'Deleted', restore: 'Restored', assign: 'Owner changed', share: 'Shared',
    unshare: 'Unshared', revert: 'Reverted', transition: 'Moved on', system: 'System',
  },
} as const;
/** Kept by the engine on every write: the entry's own time, actor and version already say them. */
const BOOKKEEPING = new Set(['id', 'created_at', 'created_by', 'updated_at', 'updated_by', 'version', 'deleted_at']);

export function useUserNames(ids: string[]) {
  const unique = [...new Set(ids.filter(Boolean))].sort();
  return useQuery({
    queryKey: ['user-names', unique.join(',')],
    enabled: unique.length > 0,
    staleTime: 300_000,
    queryFn: () =>
      get(`/api/data/user${qs({ filter: JSON.stringify({ in: [{ var: 'id' }, unique] }), fields: 'display_name', limit: 500 })}`)
        .then((r) => new Map<string, string>((r.data as any[]).map((u) => [u.id, u.display_name])))
        .catch(() => new Map<string, string>()),
  });
}

export function History(props: {
  entity: string;
  id: string;
  fields: Map<string, FieldInfo>;
  cell(name: string, value: unknown): React.ReactNode;
  canRevert: boolean;
  onReverted(): void;
  workflow: boolean;
  stateLabel(state: string): string;
}) {
  const { lang, t } = useLang();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const audit = useQuery({ queryKey: ['history', props.entity, props.id], queryFn: () => get(`/api/data/${props.entity}/${props.id}/history`).then((r) => r.data as any[]) });
  const wf = useQuery({
    queryKey: ['workflow-history', props.entity, props.id],
    enabled: props.workflow,
    queryFn: () => get(`/api/data/${props.entity}/${props.id}/workflow-history`).then((r) => r.data),
  });
  const names = useUserNames([...(audit.data ?? []).map((h) => h.actor), ...((wf.data?.transitions ?? []) as any[]).map((h) => h.actor)]);
  const words = WORDS[lang];
  const who = (id: string | null) => (id ? names.data?.get(id) ?? id.slice(0, 8) : words.system);
  const revert = async (version: number) => {
    try {
      await post(`/api/data/${props.entity}/${props.id}/revert`, { version });
      message.success(t('saved'));
      void queryClient.invalidateQueries({ queryKey: ['history', props.entity, props.id] });
      props.onReverted();
    } catch (e) {
      message.error(e instanceof ApiError ? e.message : String(e));
    }
  };
  const label = (f: string) => props.fields.get(f)?.label ?? f;
  return (
    <div data-testid="history">
      {props.workflow && (wf.data?.transitions?.length ?? 0) > 0 && (
        <Timeline
          style={{ marginBottom: 8 }}
          items={(wf.data.transitions as any[]).map((h) => ({
            color: 'blue',
            children: (
              <div style={{ fontSize: 12 }} data-testid="workflow-entry">
                <b>{formatDateTime(lang, h.at)}</b> · {who(h.actor)} · {h.from ? props.stateLabel(h.from) : '—'} → <Tag color="blue">{props.stateLabel(h.to)}</Tag>
                {h.comment && <div>{h.comment}</div>}
              </div>
            ),
          }))}
        />
      )}
      <Timeline
        items={(audit.data ?? []).map((h, i) => ({
          color: h.action === 'create' ? 'green' : h.action === 'delete' ? 'red' : 'gray',
          children: (
            <div style={{ fontSize: 12 }}>
              <div>
                <b>{formatDateTime(lang, h.at)}</b> · {who(h.actor)} ·{' '}
                {/* The timeline's dot gives the colour; a coloured tag's small text would be too faint. */}
                <Tag>{words[h.action as keyof typeof words] ?? h.action}</Tag>
                {h.version && `${t('version')} ${h.version}`}
                {props.canRevert && i > 0 && h.version && (
                  <Popconfirm title={t('revert')} onConfirm={() => revert(h.version)}>
                    <Button type="link" size="small">{t('revert')}</Button>
                  </Popconfirm>
                )}
              </div>
              {Object.entries(h.changes ?? {})
                .filter(([f]) => !BOOKKEEPING.has(f))
                .map(([f, c]: [string, any]) => (
                  <div key={f} style={{ paddingInlineStart: 8 }} data-testid="history-change">
                    {label(f)}:{' '}
                    {h.action === 'create' ? (
                      (props.cell(f, c.to) ?? '—')
                    ) : (
                      <>
                        <span style={{ textDecoration: 'line-through', color: '#595959' }}>{props.cell(f, c.from) ?? '—'}</span> →{' '}
                        {props.cell(f, c.to) ?? '—'}
                      </>
                    )}
                  </div>
                ))}
              {/* A transition's note is the engine's "event: from → to": the workflow timeline above tells it. */}
              {h.note && h.action !== 'transition' && <div>{pick(h.note, lang)}</div>}
            </div>
          ),
        }))}
      />
    </div>
  );
}
