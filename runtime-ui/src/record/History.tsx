/**
 * The record's history, one timeline: the audit trail with each field's change (old → new, shown as the
 * list shows values) and "revert to this version"; a workflow transition shows its stages, how long the
 * record stayed in the one it left, and the comment given with it.
 */
import { App, Button, Popconfirm, Tag, Timeline } from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, get, post, qs } from '../api';
import { formatDateTime, formatDuration } from '../format';
import { useLang } from '../i18n';
import { pick, type FieldInfo, type Label } from '../meta';

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
  /** The field the record's workflow keeps its state in. */
  stateField?: string;
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
  const transitions = (props.workflow ? (wf.data?.transitions ?? []) : []) as Transition[];
  const stays = (wf.data?.stays ?? []) as Stay[];
  const entries = (audit.data ?? []) as AuditEntry[];
  const transitionOf = pairTransitions(entries, transitions, props.stateField);
  const paired = new Set(transitionOf.values());
  // A transition without an audit entry of its own (written before the trail kept them) stands alone.
  const items: ({ audit: AuditEntry; index: number } | { transition: Transition })[] = [
    ...entries.map((audit, index) => ({ audit, index })),
    ...transitions.filter((h) => !paired.has(h)).map((transition) => ({ transition })),
  ].sort((a, b) => time(b) - time(a));
  const stateFields = new Set(props.stateField ? [props.stateField] : []);

  const moved = (h: Transition) => {
    const left = stays.find((s) => s.state === h.from && s.leftAt && new Date(s.leftAt).getTime() === new Date(h.at).getTime());
    return (
      <div data-testid="workflow-entry" style={{ paddingInlineStart: 8 }}>
        {h.from ? props.stateLabel(h.from) : '—'} → <Tag color="blue">{props.stateLabel(h.to)}</Tag>
        {left && left.seconds > 0 && (
          <span style={{ color: 'rgba(0,0,0,0.62)' }}>{t('stayedIn', { s: props.stateLabel(h.from!), d: formatDuration(lang, left.seconds) })}</span>
        )}
        {h.comment && <div>{h.comment}</div>}
      </div>
    );
  };

  return (
    <div data-testid="history">
      <Timeline
        items={items.map((item) => {
          if ('transition' in item) {
            const h = item.transition;
            return {
              color: 'blue',
              children: (
                <div style={{ fontSize: 12 }}>
                  <div>
                    <b>{formatDateTime(lang, h.at)}</b> · {who(h.actor)} · <Tag>{words.transition}</Tag>
                  </div>
                  {moved(h)}
                </div>
              ),
            };
          }
          const { audit: h, index: i } = item;
          const transition = transitionOf.get(h);
          return {
            color: h.action === 'create' ? 'green' : h.action === 'delete' ? 'red' : transition ? 'blue' : 'gray',
            children: (
              <div style={{ fontSize: 12 }}>
                <div>
                  <b>{formatDateTime(lang, h.at)}</b> · {who(h.actor)} ·{' '}
                  {/* The timeline's dot gives the colour; a coloured tag's small text would be too faint. */}
                  <Tag>{words[h.action as keyof typeof words] ?? h.action}</Tag>
                  {h.version && `${t('version')} ${h.version}`}
                  {props.canRevert && i > 0 && h.version && (
                    <Popconfirm title={t('revert')} onConfirm={() => revert(h.version!)}>
                      <Button type="link" size="small">{t('revert')}</Button>
                    </Popconfirm>
                  )}
                </div>
                {transition && moved(transition)}
                {Object.entries(h.changes ?? {})
                  // The stage a transition moved is told by its line above.
                  .filter(([f]) => !BOOKKEEPING.has(f) && !(transition && stateFields.has(f)))
                  .map(([f, c]) => (
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
                {/* A transition's note is the engine's "event: from → to": its line above tells it. */}
                {h.note && h.action !== 'transition' ? <div>{pick(h.note, lang)}</div> : null}
              </div>
            ),
          };
        })}
      />
    </div>
  );
}

interface AuditEntry {
  at: string;
  actor: string | null;
  action: string;
  version?: number;
  changes?: Record<string, { from: unknown; to: unknown }>;
  note?: Label | null;
}
interface Transition {
  at: string;
  actor: string | null;
  from: string | null;
  to: string;
  comment?: string | null;
}
interface Stay {
  state: string;
  leftAt: string | null;
  seconds: number;
}
/**
 * Each transition's audit entry: written by the same operation a moment apart (or at the same instant, on
 * a set clock), moving the state field to the same state — the nearest such entry within a minute.
 */
function pairTransitions(entries: AuditEntry[], transitions: Transition[], stateField: string | undefined) {
  const pairs = new Map<AuditEntry, Transition>();
  const free = new Set(transitions);
  for (const entry of entries.filter((e) => e.action === 'transition')) {
    const moved = stateField ? entry.changes?.[stateField] : undefined;
    let best: Transition | undefined;
    let gap = 60_000;
    for (const h of free) {
      const d = Math.abs(new Date(h.at).getTime() - new Date(entry.at).getTime());
      if (d <= gap && (!moved || moved.to === h.to)) [best, gap] = [h, d];
    }
    if (best) {
      pairs.set(entry, best);
      free.delete(best);
    }
  }
  return pairs;
}

const time = (item: { audit: AuditEntry } | { transition: Transition }) =>
  new Date('audit' in item ? item.audit.at : item.transition.at).getTime();
