/**
 * The import wizard of any entity (/import/:entity): upload → map columns → check (a dry run) → import with
 * a progress bar → result, with the error file and undo. Everything is the public import API
 * (docs/import-export.md); the server suggests the mapping and checks every row.
 */
import { InboxOutlined } from '@ant-design/icons';
import { App, Alert, Button, Card, Checkbox, Descriptions, Grid, Input, Progress, Radio, Result, Select, Space, Statistic, Steps, Table, Tag, Upload } from 'antd';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api, get, post } from '../api';
import { useLang } from '../i18n';
import { useEntityPage } from '../entity-page';
import { useWords } from './words';

interface Counts { rows: number; create: number; update: number; skip: number; error: number }
interface ImportState {
  id: string; fileName: string | null; format: string; encoding?: string; sheets?: string[]; header: string[];
  state: string; dryRun: boolean | null; committed: boolean | null; counts: Counts; progress: number; error: { message: string } | null;
}
interface Uploaded extends ImportState {
  sample: unknown[][]; mapping: Record<string, string | null>; targets: { name: string; label: string }[];
  templates: { id: string; name: string; mapping: Record<string, string | null> }[]; match: string[][]; mode: string;
}
interface RowProblem { line: number; outcome: string; errors: { column?: string; value?: unknown; message: string }[] }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export default function ImportPage() {
  const { entity = '' } = useParams();
  const { lang } = useLang();
  const w = useWords();
  const navigate = useNavigate();
  const { message, modal } = App.useApp();
  const page = useEntityPage(entity);
  const phone = !Grid.useBreakpoint().md;
  const [step, setStep] = useState(0);
  const [upload, setUpload] = useState<Uploaded>();
  const [mapping, setMapping] = useState<Record<string, string | null>>({});
  const [mode, setMode] = useState('insert');
  const [atomic, setAtomic] = useState(true);
  const [automations, setAutomations] = useState(true);
  const [templateName, setTemplateName] = useState('');
  const [saveTemplate, setSaveTemplate] = useState(false);
  const [state, setState] = useState<ImportState>();
  const [problems, setProblems] = useState<RowProblem[]>([]);
  const [busy, setBusy] = useState(false);
  const base = `/api/data/${entity}/import`;

  const send = async (file: File) => {
    setBusy(true);
    try {
      const res = await fetch(`${base}/files?name=${encodeURIComponent(file.name)}`, {
        method: 'POST', body: file, credentials: 'same-origin', headers: { 'accept-language': lang, 'content-type': 'application/octet-stream' },
      });
      const json = await res.json();
      if (!res.ok) throw new Error(json.error?.message ?? res.statusText);
      const data = json.data as Uploaded;
      setUpload(data);
      setMapping(data.mapping);
      setMode(data.mode);
      setStep(1);
    } catch (e) {
      message.error((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  /** Starts a run and follows it until it ends (a queued one by polling), then reads its problem rows. */
  const start = async (dryRun: boolean) => {
    if (!upload) return;
    setBusy(true);
    try {
      const res = await post<{ data: ImportState }>(base, {
        file: upload.id, mapping, mode, atomic, automations, dryRun,
        ...(saveTemplate && templateName.trim() && !dryRun ? { saveTemplate: templateName.trim() } : {}),
      });
      let current = res.data;
      setState(current);
      setStep(dryRun ? 2 : 3);
      while (current.state === 'queued' || current.state === 'running') {
        await sleep(600);
        current = (await get<{ data: ImportState }>(`${base}/${upload.id}`)).data;
        setState(current);
      }
      setProblems((await get<{ data: RowProblem[] }>(`${base}/${upload.id}/rows?limit=200`)).data);
      if (!dryRun) setStep(4);
    } catch (e) {
      message.error((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const downloadErrors = async () => {
    const res = await api<Response>('GET', `${base}/${upload!.id}/errors`, undefined, { raw: true });
    const url = URL.createObjectURL(await res.blob());
    Object.assign(document.createElement('a'), { href: url, download: `${entity}-errors.${upload!.format === 'xlsx' ? 'xlsx' : 'csv'}` }).click();
    URL.revokeObjectURL(url);
  };

  const undo = () =>
    modal.confirm({
      title: w('undo'), content: w('confirmUndo'), okButtonProps: { danger: true },
      onOk: async () => {
        try {
          setState((await post<{ data: ImportState }>(`${base}/${upload!.id}/undo`)).data);
          message.success(w('undone'));
        } catch (e) {
          message.error((e as Error).message);
        }
      },
    });

  const counts = state?.counts;
  const countsView = counts && (
    <Space size="large" wrap>
      <Statistic title={w('rows')} value={counts.rows} />
      <Statistic title={w('toCreate')} value={counts.create} valueStyle={{ color: '#389e0d' }} />
      <Statistic title={w('toUpdate')} value={counts.update} valueStyle={{ color: '#1677ff' }} />
      <Statistic title={w('toSkip')} value={counts.skip} />
      <Statistic title={w('errors')} value={counts.error} valueStyle={{ color: counts.error ? '#cf1322' : undefined }} />
    </Space>
  );
  const problemTable = problems.length > 0 && (
    <Table<RowProblem>
      size="small" rowKey="line" dataSource={problems} pagination={{ pageSize: 10, hideOnSinglePage: true }} scroll={{ x: true }}
      columns={[
        { title: w('line'), dataIndex: 'line', width: 70 },
        { title: '', dataIndex: 'outcome', width: 80, render: (o: string) => <Tag color={o === 'error' ? 'red' : 'default'}>{o === 'error' ? w('errors') : w('toSkip')}</Tag> },
        {
          title: w('problems'),
          render: (_: unknown, r) => r.errors.map((e, i) => (
            <div key={i}>{e.column && <b>{e.column}</b>}{e.value !== undefined && <> “{String(e.value)}”</>}{e.column ? '：' : ''}{e.message}</div>
          )),
        },
      ]}
    />
  );

  const stepTitles = [w('upload'), w('map'), w('check'), w('run'), w('result')];
  const targetOptions = [{ value: '', label: w('skipColumn') }, ...(upload?.targets ?? []).map((f) => ({ value: f.name, label: f.label }))];

  return (
    <>
      <div className="mc-page-title"><h1>{w('importTitle', { entity: page.pluralLabel ?? entity })}</h1></div>
      {phone ? (
        // Five steps do not fit a phone's width: the current one, and how far along.
        <div style={{ marginBottom: 12 }}>
          <b>{step + 1}/5 · {stepTitles[step]}</b>
          <Progress percent={(step + 1) * 20} steps={5} showInfo={false} size={[56, 6]} />
        </div>
      ) : (
        <Steps current={step} size="small" style={{ marginBottom: 16 }} items={stepTitles.map((title) => ({ title }))} />
      )}
      {step === 0 && (
        <Card>
          <Upload.Dragger accept=".csv,.xlsx,.txt,.zip" showUploadList={false} disabled={busy} customRequest={({ file }) => void send(file as File)}>
            <p className="ant-upload-drag-icon"><InboxOutlined /></p>
            <p className="ant-upload-text">{w('dropHere')}</p>
            <p className="ant-upload-hint">{w('dropHint')}</p>
          </Upload.Dragger>
        </Card>
      )}
      {step === 1 && upload && (
        <Card>
          <Descriptions size="small" column={1} style={{ marginBottom: 12 }}
            items={[{ key: 'f', label: w('file'), children: `${upload.fileName ?? ''} · ${upload.format.toUpperCase()}${upload.encoding ? ` · ${upload.encoding.toUpperCase()}` : ''} · ${w('columns', { n: upload.header.length })}` },
              ...(upload.match.length ? [{ key: 'm', label: w('matching'), children: w('matchBy', { fields: upload.match.map((m) => m.join('+')).join(lang === 'zh-CN' ? '，或' : ', else ') }) }] : [])]} />
          {upload.templates.length > 0 && (
            <Space style={{ marginBottom: 12 }}>
              <span>{w('template')}</span>
              <Select style={{ width: 200 }} allowClear aria-label={w('template')}
                options={upload.templates.map((t) => ({ value: t.id, label: t.name }))}
                onChange={(id) => { const t = upload.templates.find((x) => x.id === id); if (t) setMapping(t.mapping); }} />
            </Space>
          )}
          <Table size="small" rowKey="column" pagination={false} scroll={{ x: true }}
            dataSource={upload.header.filter(Boolean).map((column) => ({ column, sample: upload.sample.slice(0, 2).map((r) => r[upload.header.indexOf(column)]).filter((v) => v !== null && v !== '').join(' / ') }))}
            columns={[
              { title: w('column'), dataIndex: 'column' },
              { title: w('sample'), dataIndex: 'sample', ellipsis: true, responsive: ['md'] },
              {
                title: w('target'), width: 220,
                render: (_: unknown, r: { column: string }) => (
                  <Select style={{ width: 200 }} aria-label={`${w('target')} ${r.column}`} value={mapping[r.column] ?? ''} options={targetOptions} showSearch optionFilterProp="label"
                    onChange={(v) => setMapping({ ...mapping, [r.column]: v || null })} />
                ),
              },
            ]} />
          <Space direction="vertical" style={{ marginTop: 16 }}>
            <Space wrap>
              <span>{w('mode')}</span>
              <Radio.Group value={mode} onChange={(e) => setMode(e.target.value)} optionType="button"
                options={[{ value: 'insert', label: w('insert') }, { value: 'update', label: w('update') }, { value: 'upsert', label: w('upsert') }]} />
            </Space>
            <Radio.Group value={atomic} onChange={(e) => setAtomic(e.target.value)}
              options={[{ value: true, label: w('atomic') }, { value: false, label: w('partial') }]} />
            <Checkbox checked={automations} onChange={(e) => setAutomations(e.target.checked)}>{w('automations')}</Checkbox>
            <Space wrap>
              <Checkbox checked={saveTemplate} onChange={(e) => setSaveTemplate(e.target.checked)}>{w('saveTemplate')}</Checkbox>
              {saveTemplate && <Input placeholder={w('templateName')} aria-label={w('templateName')} value={templateName} onChange={(e) => setTemplateName(e.target.value)} style={{ width: 200 }} />}
            </Space>
          </Space>
          <div style={{ marginTop: 16, display: 'flex', gap: 8 }}>
            <Button onClick={() => setStep(0)}>{w('back')}</Button>
            <Button type="primary" loading={busy} onClick={() => void start(true)}>{w('dryRun')}</Button>
          </div>
        </Card>
      )}
      {step === 2 && state && (
        <Card>
          {state.state === 'failed' ? <Alert type="error" showIcon message={state.error?.message} /> : (
            <>
              {busy ? <Progress percent={Math.round(state.progress * 100)} /> : countsView}
              {!busy && counts && (counts.error ? <Alert style={{ margin: '12px 0' }} type="warning" showIcon message={`${w('errors')}: ${counts.error}`} /> : <Alert style={{ margin: '12px 0' }} type="success" showIcon message={w('allGood')} />)}
              {problemTable}
            </>
          )}
          <div style={{ marginTop: 16, display: 'flex', gap: 8, flexWrap: 'wrap' }}>
            <Button onClick={() => setStep(1)}>{w('back')}</Button>
            {counts?.error ? <Button onClick={() => void downloadErrors()}>{w('downloadErrors')}</Button> : null}
            <Button type="primary" disabled={busy || state.state === 'failed'} loading={busy} onClick={() => void start(false)}>{w('commit')}</Button>
          </div>
        </Card>
      )}
      {step === 3 && state && (
        <Card>
          <p>{w('running')}</p>
          <Progress percent={Math.round(state.progress * 100)} status="active" />
          {countsView}
        </Card>
      )}
      {step === 4 && state && (
        <Card>
          <Result
            status={state.state === 'failed' ? 'error' : state.committed ? (counts?.error ? 'warning' : 'success') : 'warning'}
            title={state.state === 'undone' ? w('undone') : state.state === 'failed' ? w('failed') : w('done')}
            subTitle={state.state === 'failed' ? state.error?.message : !state.committed && state.state !== 'undone' ? w('nothingWritten') : undefined}
            extra={[
              <Button key="list" type="primary" onClick={() => navigate(`/l/${entity}`)}>{w('openList')}</Button>,
              counts?.error ? <Button key="err" onClick={() => void downloadErrors()}>{w('downloadErrors')}</Button> : null,
              state.committed && state.state === 'done' ? <Button key="undo" danger onClick={undo}>{w('undo')}</Button> : null,
              <Button key="again" onClick={() => { setStep(0); setUpload(undefined); setState(undefined); setProblems([]); }}>{w('restart')}</Button>,
            ]}
          >
            {countsView}
          </Result>
          {problemTable}
        </Card>
      )}
    </>
  );
}
