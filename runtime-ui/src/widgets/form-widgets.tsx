/**
 * The @rjsf widgets of the built-in widget names: antd inputs that keep the API's value formats
 * (dates `YYYY-MM-DD`, date-times ISO in UTC, numbers as numbers, references as ids). Loaded with the
 * record page, not the list.
 */
import { useEffect, useRef, useState } from 'react';
import { DatePicker, Input, InputNumber, Select, Switch } from 'antd';
import type { WidgetProps } from '@rjsf/utils';
import { dayjsIn } from '../dates';
import { instantOf, wallClock } from '../time-zone';
import { useQuery } from '@tanstack/react-query';
import { get, qs } from '../api';
import { mayRead, useEntityLabels, useMe } from '../meta';
import { registerWidget, widget } from './registry';
import { ColorTag, titleOf } from './cells';
import { useLang } from '../i18n';
import { userName } from './user-name';
import './file-upload';

const options = (props: WidgetProps) => (props.options ?? {}) as Record<string, any>;
const aria = (props: WidgetProps) => ({ id: props.id, 'aria-label': props.label || props.name });
/** Inputs (not the Select and picker wrappers, where ARIA does not allow it) also say they are required. */
const ariaInput = (props: WidgetProps) => ({ ...aria(props), 'aria-required': props.required || undefined });
const changeOrUndefined = (props: WidgetProps, v: unknown) => props.onChange(v === null || v === '' ? undefined : v);

/**
 * The value a typing widget shows, kept locally and handed to rjsf when typing pauses (or the field
 * loses focus): rjsf re-renders the whole form on every change, which on a 40-field form costs far
 * more than a frame per keystroke.
 */
function useTyping<T>(props: WidgetProps, toForm: (v: T) => unknown = (v) => v) {
  const [local, setLocal] = useState<T>(props.value);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const pending = useRef(false);
  useEffect(() => {
    if (!pending.current) setLocal(props.value);
  }, [props.value]);
  const flush = (v: T) => {
    clearTimeout(timer.current);
    pending.current = false;
    changeOrUndefined(props, toForm(v));
  };
  const change = (v: T) => {
    setLocal(v);
    pending.current = true;
    clearTimeout(timer.current);
    timer.current = setTimeout(() => flush(v), 250);
  };
  const blur = () => {
    if (pending.current) flush(local);
    props.onBlur(props.id, local);
  };
  useEffect(() => () => clearTimeout(timer.current), []);
  return { local, change, blur };
}

/** Read-only fields show the value as the list does (links, tags, ¥). */
function ReadOnly(props: WidgetProps & { name: string }) {
  const { lang } = useLang();
  const name = props.uiSchema?.['ui:widget'] as string | undefined;
  const def = widget(typeof name === 'string' ? name : 'text') ?? widget('text');
  const field = (props.registry.formContext as any)?.fields?.get(props.name) ?? { name: props.name, type: 'text', label: props.label };
  const shown = def?.cell?.(props.value, { lang, field, options: options(props) });
  return <div className="mc-readonly" id={props.id}>{shown ?? <span className="mc-empty">—</span>}</div>;
}

function picklistOptions(props: WidgetProps, many = false) {
  const field = (props.registry.formContext as any)?.fields?.get(props.name);
  const list = (many ? (props.schema.items as any)?.oneOf : props.schema.oneOf) ?? [];
  return list.map((o: any) => {
    const color = field?.options?.find((x: any) => x.value === o.const)?.color;
    return { value: o.const, label: color ? <ColorTag color={color}>{o.title}</ColorTag> : o.title, title: o.title };
  });
}

function Picklist(props: WidgetProps) {
  if (props.readonly || props.disabled) return <ReadOnly {...props} />;
  return (
    <Select {...aria(props)} allowClear showSearch optionFilterProp="title" value={props.value ?? undefined} placeholder={props.placeholder}
      options={picklistOptions(props)} onChange={(v) => changeOrUndefined(props, v)} onBlur={() => props.onBlur(props.id, props.value)}
      status={props.rawErrors?.length ? 'error' : undefined} style={{ width: '100%' }} />
  );
}
function MultiPicklist(props: WidgetProps) {
  if (props.readonly || props.disabled) return <ReadOnly {...props} />;
  return (
    <Select {...aria(props)} mode="multiple" allowClear optionFilterProp="title" value={props.value ?? []} options={picklistOptions(props, true)}
      onChange={(v) => props.onChange(v)} status={props.rawErrors?.length ? 'error' : undefined} style={{ width: '100%' }} />
  );
}

/** Searches the referenced entity on the server (q) as the user types; shows the current record's title. */
function Reference(props: WidgetProps) {
  const entity = options(props).entity as string;
  const labels = useEntityLabels();
  const me = useMe();
  // An entity the user may not read is neither searched nor looked up: its value shows as "no access".
  const readable = mayRead(me.data, entity);
  const titleField = options(props).titleField ?? labels.data?.[entity]?.titleField ?? null;
  const [search, setSearch] = useState('');
  const current = useQuery({
    queryKey: ['ref-title', entity, props.value],
    enabled: Boolean(props.value && entity && readable),
    queryFn: () => get(`/api/data/${entity}/${props.value}${qs({ fields: titleField ?? undefined })}`).then((r) => r.data),
    staleTime: 60_000,
  });
  const found = useQuery({
    queryKey: ['ref-search', entity, search],
    enabled: Boolean(entity) && !props.readonly && readable,
    queryFn: () => get(`/api/data/${entity}${qs({ q: search || undefined, limit: 20, fields: titleField ?? undefined })}`).then((r) => r.data as any[]),
    staleTime: 10_000,
  });
  if (me.data && !readable) return <ReadOnly {...props} options={{ ...props.options, unreadable: true }} />;
  if (props.readonly || props.disabled) return <ReadOnly {...props} value={current.data ?? props.value} />;
  const opts = (found.data ?? []).map((r) => ({ value: r.id, label: titleOf(r, titleField) }));
  if (props.value && !opts.some((o) => o.value === props.value)) opts.unshift({ value: props.value, label: current.data ? titleOf(current.data, titleField) : '…' });
  return (
    <Select {...aria(props)} showSearch allowClear filterOption={false} onSearch={setSearch} value={props.value ?? undefined}
      options={opts} loading={found.isFetching} onChange={(v) => changeOrUndefined(props, v)}
      status={props.rawErrors?.length ? 'error' : undefined} style={{ width: '100%' }} placeholder={props.placeholder} />
  );
}

/** Several users (a `users` field): searched on the server as the user types, chosen ones shown by name. */
function Users(props: WidgetProps) {
  const [search, setSearch] = useState('');
  const value: string[] = Array.isArray(props.value) ? props.value : [];
  const found = useQuery({
    queryKey: ['users', search],
    enabled: !props.readonly && !props.disabled,
    queryFn: () => get(`/api/data/user${qs({ q: search || undefined, limit: 20, fields: 'display_name,username' })}`).then((r) => r.data as any[]),
    staleTime: 10_000,
  });
  const chosen = useQuery({
    queryKey: ['user-names', [...value].sort().join(',')],
    enabled: value.length > 0,
    queryFn: () => Promise.all(value.map((id) => userName(id).then((name) => [id, name ?? id.slice(0, 8)] as const))),
    staleTime: 300_000,
  });
  if (props.readonly || props.disabled) return <ReadOnly {...props} />;
  const names = new Map<string, string>(chosen.data ?? []);
  const opts = (found.data ?? []).map((u) => ({ value: u.id as string, label: `${u.display_name} (${u.username})` }));
  for (const id of value) if (!opts.some((o) => o.value === id)) opts.unshift({ value: id, label: names.get(id) ?? '…' });
  return (
    <Select {...aria(props)} mode="multiple" allowClear showSearch filterOption={false} onSearch={setSearch} value={value}
      options={opts} loading={found.isFetching} onChange={(v) => props.onChange(v)}
      status={props.rawErrors?.length ? 'error' : undefined} style={{ width: '100%' }} placeholder={props.placeholder} />
  );
}

function DateWidget(props: WidgetProps) {
  const { lang } = useLang();
  if (props.readonly || props.disabled) return <ReadOnly {...props} />;
  return (
    <DatePicker {...aria(props)} value={props.value ? dayjsIn(lang)(props.value) : null} style={{ width: '100%' }}
      status={props.rawErrors?.length ? 'error' : undefined} onChange={(d) => changeOrUndefined(props, d ? d.format('YYYY-MM-DD') : undefined)} />
  );
}
/**
 * A date-time picked on the wall clock of the user's time zone (not the browser's): the picker works in
 * local dayjs values, so the zone's wall clock is handed to it as a local time and read back the same way.
 */
function DateTimeWidget(props: WidgetProps) {
  const { lang } = useLang();
  if (props.readonly || props.disabled) return <ReadOnly {...props} />;
  const dayjs = dayjsIn(lang);
  const shown = (iso: string) => {
    const w = wallClock(Date.parse(iso));
    return dayjs(new Date(w.year, w.month - 1, w.day, w.hour, w.minute, w.second));
  };
  return (
    <DatePicker {...aria(props)} showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" value={props.value ? shown(props.value) : null}
      style={{ width: '100%' }} status={props.rawErrors?.length ? 'error' : undefined}
      onChange={(d) =>
        changeOrUndefined(props, d ? instantOf({ year: d.year(), month: d.month() + 1, day: d.date(), hour: d.hour(), minute: d.minute() }).toISOString() : undefined)
      } />
  );
}

function numberWidget(kind: 'integer' | 'decimal' | 'currency' | 'percent') {
  return function NumberWidget(props: WidgetProps) {
    const typing = useTyping<number | null>(props);
    if (props.readonly || props.disabled) return <ReadOnly {...props} />;
    const extra =
      kind === 'currency' ? { prefix: '¥', precision: 2 } : kind === 'percent' ? { suffix: '%' } : kind === 'integer' ? { precision: 0 } : {};
    return (
      <InputNumber<number> {...ariaInput(props)} {...extra} value={typing.local ?? null} style={{ width: '100%' }}
        min={props.schema.minimum} max={props.schema.maximum} status={props.rawErrors?.length ? 'error' : undefined}
        formatter={kind === 'currency' ? (v) => (v === undefined || `${v}` === '' ? '' : `${v}`.replace(/\B(?=(\d{3})+(?!\d))/g, ',')) : undefined}
        parser={kind === 'currency' ? (v) => (v ?? '').replace(/,/g, '') as unknown as number : undefined}
        onChange={(v) => typing.change(v)} onBlur={typing.blur} />
    );
  };
}

function SwitchWidget(props: WidgetProps) {
  return <Switch {...aria(props)} checked={Boolean(props.value)} disabled={props.readonly || props.disabled} onChange={(v) => props.onChange(v)} />;
}

function textWidget(type: string) {
  return function TextWidget(props: WidgetProps) {
    const typing = useTyping<string>(props);
    if (props.readonly || props.disabled) return <ReadOnly {...props} />;
    return (
      <Input {...ariaInput(props)} type={type} value={typing.local ?? ''} placeholder={props.placeholder} status={props.rawErrors?.length ? 'error' : undefined}
        maxLength={props.schema.maxLength} onChange={(e) => typing.change(e.target.value)} onBlur={typing.blur} />
    );
  };
}
function TextArea(props: WidgetProps) {
  const typing = useTyping<string>(props);
  if (props.readonly || props.disabled) return <ReadOnly {...props} />;
  return (
    <Input.TextArea {...ariaInput(props)} autoSize={{ minRows: 2, maxRows: 8 }} value={typing.local ?? ''} status={props.rawErrors?.length ? 'error' : undefined}
      maxLength={props.schema.maxLength} onChange={(e) => typing.change(e.target.value)} onBlur={typing.blur} />
  );
}

/** JSON edited as text; the value changes only when the text parses. */
function JsonWidget(props: WidgetProps) {
  const [text, setText] = useState(() => (props.value === undefined ? '' : JSON.stringify(props.value, null, 2)));
  const [bad, setBad] = useState(false);
  if (props.readonly || props.disabled) return <ReadOnly {...props} />;
  return (
    <Input.TextArea {...aria(props)} autoSize={{ minRows: 3, maxRows: 12 }} value={text} status={bad || props.rawErrors?.length ? 'error' : undefined}
      style={{ fontFamily: 'monospace' }}
      onChange={(e) => {
        setText(e.target.value);
        if (!e.target.value.trim()) return (setBad(false), props.onChange(undefined));
        try {
          props.onChange(JSON.parse(e.target.value));
          setBad(false);
        } catch {
          setBad(true);
        }
      }} />
  );
}

registerWidget('text', { form: textWidget('text') });
registerWidget('textarea', { form: TextArea });
registerWidget('email', { form: textWidget('email') });
registerWidget('phone', { form: textWidget('tel') });
registerWidget('url', { form: textWidget('url') });
registerWidget('picklist', { form: Picklist });
registerWidget('multipicklist', { form: MultiPicklist });
registerWidget('reference', { form: Reference });
registerWidget('users', { form: Users });
registerWidget('date', { form: DateWidget });
registerWidget('datetime', { form: DateTimeWidget });
registerWidget('integer', { form: numberWidget('integer') });
registerWidget('decimal', { form: numberWidget('decimal') });
registerWidget('currency', { form: numberWidget('currency') });
registerWidget('percent', { form: numberWidget('percent') });
registerWidget('switch', { form: SwitchWidget });
registerWidget('json', { form: JsonWidget });
registerWidget('readonly', { form: ReadOnly });
export { ReadOnly };
