/**
 * The record's workflow: its states as a step bar (the current one with time in stage, those the record
 * passed through done, the others waiting, skipped or not reached), a button per
 * transition — disabled with the API's reasons when the user may not fire it — and a dialog for the
 * transition's input (its JSON Schema, through @rjsf) and a comment.
 */
import { useRef, useState } from 'react';
import { App, Button, Grid, Input, Modal, Space, Steps, Tooltip } from 'antd';
import { ColorTag } from '../widgets/cells';
import Form from '@rjsf/antd';
import { validators } from './RecordForm';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { errorText, get, joinMessages, post } from '../api';
import { formatDuration } from '../format';
import { useLang } from '../i18n';
import { pick } from '../meta';
import { formWidgets } from '../widgets/registry';

/**
 * The input dialog's uiSchema: a property that names a record (`x-reference`, which the API adds for inputs
 * a transition writes into a reference field — a new owner) is picked with the reference widget, searching
 * that entity by name, not typed as an id.
 */
export function inputUiSchema(schema: any): Record<string, unknown> {
  const ui: Record<string, unknown> = { 'ui:submitButtonOptions': { norender: true } };
  for (const [name, p] of Object.entries<any>(schema?.properties ?? {}))
    if (typeof p?.['x-reference'] === 'string') ui[name] = { 'ui:widget': 'reference', 'ui:options': { entity: p['x-reference'] } };
  return ui;
}

export function useWorkflow(entity: string, id: string, enabled: boolean) {
  const transitions = useQuery({ queryKey: ['transitions', entity, id], enabled, queryFn: () => get(`/api/data/${entity}/${id}/transitions`).then((r) => r.data) });
  const history = useQuery({ queryKey: ['workflow-history', entity, id], enabled, queryFn: () => get(`/api/data/${entity}/${id}/workflow-history`).then((r) => r.data) });
  const name = transitions.data?.workflow;
  const doc = useQuery({ queryKey: ['workflow-doc', name], enabled: Boolean(name), staleTime: 300_000, queryFn: () => get(`/api/meta/documents/workflow/${name}`) });
  return { transitions, history, doc };
}

/** Fires a transition; the caller refreshes what changed. Throws the API's error (with its reason). */
export const fireTransition = (entity: string, id: string, event: string, body?: unknown) =>
  post(`/api/data/${entity}/${id}/transitions/${event}`, body);

export function WorkflowBar({ entity, id, stateLabels, onChanged }: { entity: string; id: string; stateLabels: Map<string, string>; onChanged(): void }) {
  const { lang, t } = useLang();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const { transitions, history, doc } = useWorkflow(entity, id, true);
  const [dialog, setDialog] = useState<any>(null);
  const [comment, setComment] = useState('');
  const [input, setInput] = useState<any>({});
  const [busy, setBusy] = useState(false);
  const inputForm = useRef<any>(null);
  // On a phone nine steps do not fit: the current state and its time instead.
  const phone = !Grid.useBreakpoint().md;
  if (!transitions.data) return null;
  const state = transitions.data.state as string;
  // The state field's dictionary order (how the business reads its stages), then any other states.
  const declared = Object.keys(doc.data?.states ?? { [state]: {} });
  const states = [...[...stateLabels.keys()].filter((s) => declared.includes(s)), ...declared.filter((s) => !stateLabels.has(s))];
  const stays = history.data?.stays ?? [];
  const current = [...stays].reverse().find((s: any) => s.state === state && !s.leftAt);
  // Done means the record was there: a deal won straight from the quote did not negotiate, and a lost one
  // was never won, whatever their places in the order. A record without stays (its history predates the
  // workflow) falls back to the order.
  const visited = new Set<string>(stays.map((s: any) => s.state));
  const at = states.indexOf(state);
  const status = (s: string, i: number) =>
    s === state ? 'process' : (visited.size ? visited.has(s) : i < at) ? 'finish' : 'wait';
  const label = (s: string) => stateLabels.get(s) ?? s;

  const fire = async (tr: any, body?: any) => {
    setBusy(true);
    try {
      await fireTransition(entity, id, tr.event, body);
      message.success(pick(tr.label, lang, tr.event));
      setDialog(null);
      setComment('');
      setInput({});
      void queryClient.invalidateQueries({ queryKey: ['transitions', entity, id] });
      void queryClient.invalidateQueries({ queryKey: ['workflow-history', entity, id] });
      onChanged();
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div style={{ background: '#fff', padding: '10px 12px', borderRadius: 6, marginBottom: 12 }} data-testid="workflow-bar">
      {phone ? (
        <div style={{ marginBottom: 8 }}>
          <ColorTag color="#1f5fbf">{label(state)}</ColorTag>
          {current && <span style={{ fontSize: 12 }}>{t('timeInStage', { d: formatDuration(lang, current.seconds) })}</span>}
        </div>
      ) : (
      // Labels under the icons: each state gets its share of the width for its name and the time in stage
      // (beside the icons, nine states cut both short: "已停留 3 天 5 小").
      <Steps
        size="small"
        labelPlacement="vertical"
        className="mc-workflow-steps"
        current={at}
        items={states.map((s, i) => ({
          title: label(s),
          status: status(s, i),
          description: s === state && current ? t('timeInStage', { d: formatDuration(lang, current.seconds) }) : undefined,
        }))}
        style={{ marginBottom: 8, overflowX: 'auto' }}
      />
      )}
      <Space wrap>
        {(transitions.data.transitions as any[]).map((tr) => {
          const reason = tr.reasons ? joinMessages(tr.reasons.map((r: any) => r.message)) : undefined;
          // The button says what it does (the transition's label); where it leads is in its tooltip.
          const text = pick(tr.label, lang, '') || label(tr.target);
          const button = (
            <Button key={tr.event} size="small" type={tr.allowed ? 'primary' : 'default'} ghost={tr.allowed} disabled={!tr.allowed || busy}
              onClick={() => setDialog(tr)} data-testid={`transition-${tr.event}`}>
              {text}
            </Button>
          );
          const tip = tr.allowed ? (text === label(tr.target) ? undefined : `→ ${label(tr.target)}`) : reason;
          // A disabled button takes no focus: its wrapper does, so the reason is there from the keyboard too.
          return (
            <Tooltip key={tr.event} title={tip} trigger={['hover', 'focus']}>
              <span {...(tr.allowed ? {} : { tabIndex: 0, role: 'group', 'aria-label': `${text}: ${reason}` })}>{button}</span>
            </Tooltip>
          );
        })}
      </Space>
      <Modal open={Boolean(dialog)} title={dialog ? pick(dialog.label, lang, dialog.event) : ''} onCancel={() => setDialog(null)} confirmLoading={busy}
        onOk={() => {
          // The input is checked against its schema in the browser first: a wrong one sends nothing.
          if (dialog?.input && !inputForm.current?.validateForm()) return;
          void fire(dialog, { ...(comment ? { comment } : {}), ...(dialog?.input ? { input } : {}) });
        }} destroyOnHidden>
        {dialog?.input && (
          <Form ref={inputForm} schema={dialog.input} validator={validators[lang] as any} formData={input} onChange={(e) => setInput(e.formData)}
            showErrorList={false} onError={() => undefined} uiSchema={inputUiSchema(dialog.input)} widgets={formWidgets()} />
        )}
        <Input.TextArea aria-label={t('comment')} placeholder={t('comment')} value={comment} onChange={(e) => setComment(e.target.value)} autoSize={{ minRows: 2 }} />
      </Modal>
    </div>
  );
}
