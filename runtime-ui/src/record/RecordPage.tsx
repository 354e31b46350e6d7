/**
 * The record page of any entity (/r/:entity/:id, or /r/:entity/new with fields pre-filled from the
 * query string): the form laid out by the view, save with optimistic locking (a 409 opens a dialog
 * with what changed: reload or overwrite), server errors at their fields, a prompt before leaving with
 * unsaved changes, the workflow bar, the approval panel, related lists, history, assign and share.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useBlocker, useNavigate, useParams, useSearchParams } from 'react-router';
import { Alert, App, Button, Modal, Segmented, Skeleton, Space, Tabs, Tag } from 'antd';
import { CopyOutlined, DeleteOutlined, SaveOutlined, ShareAltOutlined, UserSwitchOutlined } from '@ant-design/icons';
import type { ErrorSchema } from '@rjsf/utils';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, get } from '../api';
import { useEntityPage } from '../entity-page';
import { useLang } from '../i18n';
import { rememberRecord } from '../recent';
import type { RecordLayout } from '../views';
import { titleOf } from '../widgets/cells';
import { ApprovalPanel } from './ApprovalPanel';
import { History, useUserNames } from './History';
import { errorSchemaOf, RecordForm } from './RecordForm';
import { Related } from './Related';
import { Attachments, ATTACHMENT_WORDS } from '../documents/Attachments';
import { PrintButton } from '../documents/PrintButton';
import { EmailButton } from '../documents/EmailButton';
import { Comments, COMMENT_WORDS } from '../documents/Comments';
import { AssignDialog, ShareDialog } from './Sharing';
import { WorkflowBar } from './WorkflowBar';

type Data = Record<string, unknown>;

const blank = (v: unknown) => v === null || v === undefined || v === '';
const same = (a: unknown, b: unknown) => (blank(a) && blank(b)) || JSON.stringify(a) === JSON.stringify(b);
/** rjsf wants absent, not null, for empty values. */
const withoutNulls = (record: Data, names: string[]) => Object.fromEntries(names.filter((n) => !blank(record[n])).map((n) => [n, record[n]]));

function pickLayout(layouts: RecordLayout[], roles: string[], chosen?: string | null) {
  const fits = layouts.filter((l) => !l.roles?.length || l.roles.some((r) => roles.includes(r)));
  return { fits, layout: fits.find((l) => l.name === chosen) ?? fits[0] ?? layouts[0] };
}

export default function RecordPage() {
  const { entity = '', id = '' } = useParams();
  const isNew = id === 'new';
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { lang, t } = useLang();
  const { message, modal } = App.useApp();
  const page = useEntityPage(entity);
  const { model, view, me, fields, cell, can } = page;
  const record = useQuery({
    queryKey: ['record', entity, id],
    enabled: !isNew,
    queryFn: () => get<{ data: Data }>(`/api/data/${entity}/${id}`).then((r) => r.data),
  });
  const [layoutName, setLayoutName] = useState<string | null>(null);
  const picked = view && me ? pickLayout(view.layouts, me.roles, layoutName) : { fits: [], layout: undefined };
  const fits = picked.fits;
  // The workflow's state field moves only by transitions (the step bar): read-only in the form.
  const workflowDoc = useQuery({
    queryKey: ['workflow-doc', model?.entity.workflow],
    enabled: Boolean(model?.entity.workflow),
    staleTime: 300_000,
    queryFn: () => get(`/api/meta/documents/workflow/${model!.entity.workflow}`),
  });
  const stateField: string | undefined = workflowDoc.data?.stateField;
  // An approval's status field needs nothing here: the form model (GET /api/meta/forms) already marks the
  // fields the engine controls read-only, so the page does not read the approval document.
  const layout = useMemo(
    () => {
      return picked.layout && stateField ? { ...picked.layout, readOnly: [...(picked.layout.readOnly ?? []), stateField] } : picked.layout;
    },
    [picked.layout, stateField],
  );
  // The record's own fields and its child collections (a quote's lines, saved with it).
  const names = useMemo(
    () => (model ? [...model.fields.filter((f) => !f.system).map((f) => f.name), ...(model.children ?? []).map((c) => c.name)] : []),
    [model],
  );

  const [data, setData] = useState<Data | null>(null);
  const [base, setBase] = useState<Data | null>(null);
  const [serverErrors, setServerErrors] = useState<ErrorSchema | undefined>();
  const [conflict, setConflict] = useState<{ latest: Data; changed: string[] } | null>(null);
  const [saving, setSaving] = useState(false);
  const [assignOpen, setAssignOpen] = useState(false);
  const [shareOpen, setShareOpen] = useState(false);
  const formRef = useRef<any>(null);

  // Start from the record (or, for a new one, the defaults and what the query string pre-fills).
  useEffect(() => {
    if (!model) return;
    if (isNew) {
      // The server's defaults count as the starting point, not as changes (leaving untouched asks nothing).
      const defaults: Data = {};
      for (const [k, p] of Object.entries<any>(model.create.properties ?? {})) if (p.default !== undefined) defaults[k] = p.default;
      const initial: Data = { ...defaults };
      for (const [k, v] of params) if (model.create.properties?.[k]) initial[k] = v;
      setBase(defaults);
      setData(initial);
    } else if (record.data) {
      setBase(record.data);
      setData(withoutNulls(record.data, names));
    }
  }, [model, isNew, record.data, names, params]);

  useEffect(() => {
    if (!isNew && record.data && me && model)
      rememberRecord(me.user.id, { entity, id, title: titleOf(record.data, model.entity.titleField), entityLabel: model.entity.label });
  }, [isNew, record.data, me, model, entity, id]);

  const changed = useMemo(() => {
    if (!data || !base || !model) return [];
    const writable = isNew ? model.create.properties ?? {} : model.update.properties ?? {};
    // The form's own fields only: owner and version are written by their own actions (assign, save).
    return names.filter((n) => writable[n] && !same(data[n], base[n]));
  }, [data, base, model, isNew, names]);
  const dirty = changed.length > 0 && !saving;

  const blocker = useBlocker(({ currentLocation, nextLocation }) => dirty && currentLocation.pathname !== nextLocation.pathname);
  // One question per attempt to leave: the blocker object changes on every render while blocked.
  const asking = useRef(false);
  useEffect(() => {
    if (blocker.state !== 'blocked' || asking.current) return;
    asking.current = true;
    const done = (leave: boolean) => {
      asking.current = false;
      if (leave) blocker.proceed?.();
      else blocker.reset?.();
    };
    modal.confirm({ title: t('unsaved'), onOk: () => done(true), onCancel: () => done(false) });
  }, [blocker, modal, t]);
  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => {
      if (dirty) e.preventDefault();
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const refresh = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: ['record', entity, id] });
    void queryClient.invalidateQueries({ queryKey: ['list', entity] });
    void queryClient.invalidateQueries({ queryKey: ['history', entity, id] });
  }, [queryClient, entity, id]);

  // Automations may warn without refusing (a `warn` action): the save went through, the user is told.
  const showWarnings = (warnings?: { message: string }[]) => {
    for (const w of warnings ?? []) message.warning(w.message, 8);
  };

  const save = async (formData: Data, version?: number) => {
    if (!model) return;
    setSaving(true);
    setServerErrors(undefined);
    try {
      if (isNew) {
        // Read-only fields (a workflow's state) show their default; the server fills them in itself.
        const body = Object.fromEntries(
          Object.entries(formData).filter(([k, v]) => model.create.properties?.[k] && !model.create.properties[k].readOnly && !blank(v)),
        );
        const created = await api<{ data: Data; meta?: { warnings?: { message: string }[] } }>('POST', `/api/data/${entity}`, body);
        message.success(t('created'));
        showWarnings(created.meta?.warnings);
        setBase(formData);
        void queryClient.invalidateQueries({ queryKey: ['list'] });
        navigate(`/r/${entity}/${created.data.id}`, { replace: true });
      } else {
        const body: Data = { version: version ?? base?.version };
        for (const n of changed) body[n] = blank(formData[n]) ? null : formData[n];
        const updated = await api<{ data: Data; meta?: { warnings?: { message: string }[] } }>(
          'PATCH',
          `/api/data/${entity}/${id}`,
          body,
        );
        queryClient.setQueryData(['record', entity, id], updated.data);
        message.success(t('saved'));
        showWarnings(updated.meta?.warnings);
        refresh();
      }
    } catch (e) {
      if (e instanceof ApiError && e.code === 'version_conflict') {
        const latest = (await get<{ data: Data }>(`/api/data/${entity}/${id}`)).data;
        setConflict({ latest, changed: names.filter((n) => !same(latest[n], base?.[n])) });
      } else if (e instanceof ApiError) {
        if (e.details.length) setServerErrors(errorSchemaOf(e.details));
        message.error(e.message);
      } else message.error(String(e));
    } finally {
      setSaving(false);
    }
  };

  // A copy with the child collections (a quote's new version), as the entity's `copy` says; then open it.
  const copyRecord = async () => {
    try {
      const copied = await api<{ data: Data }>('POST', `/api/data/${entity}/${id}/copy`, {});
      message.success(t('created'));
      void queryClient.invalidateQueries({ queryKey: ['list', entity] });
      navigate(`/r/${entity}/${copied.data.id}`);
    } catch (e) {
      message.error((e as Error).message);
    }
  };

  const remove = () =>
    modal.confirm({
      title: t('confirmDelete'),
      okButtonProps: { danger: true },
      onOk: async () => {
        try {
          await api('DELETE', `/api/data/${entity}/${id}`, undefined, { headers: { 'if-match': `"${base?.version}"` } });
          message.success(t('deleted'));
          setBase(data);
          void queryClient.invalidateQueries({ queryKey: ['list', entity] });
          navigate(`/l/${entity}`);
        } catch (e) {
          message.error((e as Error).message);
        }
      },
    });

  const owner = useUserNames(record.data?.owner_id ? [String(record.data.owner_id)] : []);
  const onFormChange = useCallback((d: Data) => setData(d), []);
  const stateLabels = useMemo(() => {
    const f = [...fields.values()].find((x) => x.name === stateField) ?? [...fields.values()].find((x) => x.name === 'stage' || x.name === 'status');
    return new Map((f?.options ?? []).map((o) => [o.value, o.label]));
  }, [fields, stateField]);

  const error = page.error ?? record.error;
  if (error) return <Alert type="error" showIcon message={(error as Error).message} />;
  if (!page.ready || !model || !layout || !data) return <Skeleton active />;

  const title = isNew ? `${t('new')} · ${model.entity.label}` : titleOf(record.data, model.entity.titleField) || model.entity.label;
  const mayWrite = isNew ? can('create') : can('update');
  const context = { ...(base ?? {}), $user: { id: me?.user.id, department: me?.user.department, roles: me?.roles }, $now: new Date().toISOString() };
  const form = (
    <RecordForm formRef={formRef} model={model} layout={layout} mode={isNew ? 'create' : 'update'} lang={lang} formData={data}
      context={context} serverErrors={serverErrors} onChange={onFormChange} onSubmit={(d) => save(d)} />
  );

  return (
    <div onKeyDown={(e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 's') {
        e.preventDefault();
        // Leaving the field hands its typed value to the form first (widgets hold it while typing).
        (document.activeElement as HTMLElement | null)?.blur();
        setTimeout(() => formRef.current?.submit(), 0);
      }
    }}>
      <div className="mc-page-title">
        <h1 data-testid="record-title">{title}</h1>
        <Tag>{model.entity.label}</Tag>
        {!isNew && owner.data && <span style={{ color: '#595959' }}>{t('owner')}: {owner.data.get(String(record.data?.owner_id))}</span>}
        {fits.length > 1 && (
          <Segmented size="small" value={layout.name} onChange={(v) => setLayoutName(String(v))} options={fits.map((l) => ({ value: l.name, label: l.label ?? l.name }))} />
        )}
        <span style={{ flex: 1 }} />
        <Space wrap>
          {mayWrite && (
            <Button type="primary" icon={<SaveOutlined />} loading={saving} disabled={!isNew && !dirty} onClick={() => formRef.current?.submit()} data-testid="save" data-changed={changed.join(',')}>
              {t('save')}
            </Button>
          )}
          {!isNew && model.entity.copy && can('create') && (
            <Button icon={<CopyOutlined />} onClick={copyRecord} disabled={dirty} data-testid="copy">{model.entity.copy}</Button>
          )}
          {!isNew && can('print') && <PrintButton entity={entity} id={id} />}
          {!isNew && can('print') && <EmailButton entity={entity} id={id} />}
          {!isNew && can('assign') && <Button icon={<UserSwitchOutlined />} onClick={() => setAssignOpen(true)}>{t('assign')}</Button>}
          {!isNew && can('share') && <Button icon={<ShareAltOutlined />} onClick={() => setShareOpen(true)}>{t('share')}</Button>}
          {!isNew && can('delete') && <Button danger icon={<DeleteOutlined />} onClick={remove} aria-label={t('delete')} />}
        </Space>
      </div>
      {!isNew && model.entity.workflow && stateField && fields.has(stateField) && <WorkflowBar entity={entity} id={id} stateLabels={stateLabels} onChanged={refresh} />}
      {!isNew && model.entity.approval && <ApprovalPanel entity={entity} id={id} onChanged={refresh} />}
      {isNew ? (
        <div style={{ background: '#fff', padding: 12, borderRadius: 6 }}>{form}</div>
      ) : (
        <Tabs
          style={{ background: '#fff', padding: '0 12px 12px', borderRadius: 6 }}
          items={[
            { key: 'details', label: t('details'), children: form },
            {
              key: 'related',
              label: `${t('related')} (${layout.related.length})`,
              children: layout.related.map((r) => <Related key={`${r.entity}.${r.via}`} related={r} id={id} />),
            },
            { key: 'attachments', label: ATTACHMENT_WORDS[lang].attachments, children: <Attachments entity={entity} id={id} canEdit={can('update')} /> },
            { key: 'comments', label: COMMENT_WORDS[lang].comments, children: <Comments entity={entity} id={id} /> },
            {
              key: 'history',
              label: t('history'),
              children: (
                <History entity={entity} id={id} fields={fields} cell={cell} canRevert={can('update')} onReverted={refresh}
                  workflow={Boolean(model.entity.workflow)} stateField={stateField} stateLabel={(s) => stateLabels.get(s) ?? s} />
              ),
            },
          ]}
        />
      )}
      <Modal open={Boolean(conflict)} title={t('conflictTitle')} onCancel={() => setConflict(null)} footer={[
        <Button key="reload" onClick={() => {
          queryClient.setQueryData(['record', entity, id], conflict!.latest);
          setConflict(null);
        }}>{t('reload')}</Button>,
        <Button key="overwrite" type="primary" danger onClick={() => {
          const latest = conflict!.latest;
          setConflict(null);
          void save(data, latest.version as number);
        }}>{t('overwrite')}</Button>,
      ]}>
        <p>{t('conflictText')}</p>
        <ul>
          {conflict?.changed.map((n) => (
            <li key={n}>{fields.get(n)?.label ?? n}: {cell(n, base?.[n]) ?? '—'} → {cell(n, conflict.latest[n]) ?? '—'}</li>
          ))}
        </ul>
      </Modal>
      {!isNew && <AssignDialog entity={entity} id={id} open={assignOpen} onClose={() => setAssignOpen(false)} onDone={refresh} />}
      {!isNew && <ShareDialog entity={entity} id={id} open={shareOpen} onClose={() => setShareOpen(false)} />}
    </div>
  );
}
