/**
 * How each built-in widget shows a value read-only: picklists as coloured tags with the dictionary's
 * labels, references as links to the record, amounts with ¥, e-mail/phone/URL as links, booleans as
 * 是/否, dates in the user's language.
 */
import { Tag } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { get, qs } from '../api';
import { Link } from 'react-router';
import { formatCurrency, formatDate, formatDateTime, formatNumber, formatPercent } from '../format';
import { translate } from '../i18n';
import { registerWidget, type CellContext } from './registry';
import { UserName } from './user-name';

/**
 * A dictionary value as a tag in its colour: preset names (blue, green…) through antd; hex colours as
 * a light tint with the colour as text, which stays readable for pale colours too.
 */
export function ColorTag({ color, children }: { color?: string; children: React.ReactNode }) {
  if (color && /^#[0-9a-f]{6}$/i.test(color)) {
    // Dark text on a tint of the colour, with the colour as a marker: readable (WCAG AA) whatever the colour.
    return (
      <Tag bordered={false} style={{ marginInlineEnd: 4, color: '#1f2329', background: `${color}26`, borderInlineStart: `3px solid ${color}` }}>
        {children}
      </Tag>
    );
  }
  return <Tag color={color} bordered={false} style={{ marginInlineEnd: 4 }}>{children}</Tag>;
}
function optionTag(value: string, ctx: CellContext) {
  const option = ctx.field.options?.find((o) => o.value === value);
  return <ColorTag key={value} color={option?.color}>{option?.label ?? value}</ColorTag>;
}

export function titleOf(record: Record<string, any> | null | undefined, titleField?: string | null): string {
  if (!record) return '';
  const t = titleField ? record[titleField] : undefined;
  return t === undefined || t === null || t === '' ? String(record.name ?? record.title ?? record.display_name ?? record.id ?? '') : String(t);
}

const empty = (v: unknown) => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);

registerWidget('text', { cell: (v) => (empty(v) ? null : String(v)) });
registerWidget('textarea', { cell: (v) => (empty(v) ? null : <span style={{ whiteSpace: 'pre-wrap' }}>{String(v)}</span>) });
registerWidget('readonly', { cell: (v, ctx) => (empty(v) ? null : typeof v === 'number' ? formatNumber(ctx.lang, v) : String(v)) });
registerWidget('picklist', { cell: (v, ctx) => (empty(v) ? null : optionTag(String(v), ctx)) });
registerWidget('multipicklist', { cell: (v, ctx) => (empty(v) ? null : (v as string[]).map((x) => optionTag(x, ctx))) });
registerWidget('switch', { cell: (v, ctx) => (v === null || v === undefined ? null : translate(ctx.lang, v ? 'yes' : 'no')) });
registerWidget('integer', { cell: (v, ctx) => (empty(v) ? null : formatNumber(ctx.lang, Number(v))) });
registerWidget('decimal', { cell: (v, ctx) => (empty(v) ? null : formatNumber(ctx.lang, Number(v))) });
registerWidget('currency', { cell: (v, ctx) => (empty(v) ? null : formatCurrency(ctx.lang, Number(v), ctx.options.currency ?? 'CNY')) });
registerWidget('percent', { cell: (v, ctx) => (empty(v) ? null : formatPercent(ctx.lang, Number(v))) });
registerWidget('date', { cell: (v, ctx) => (empty(v) ? null : formatDate(ctx.lang, String(v))) });
registerWidget('datetime', { cell: (v, ctx) => (empty(v) ? null : formatDateTime(ctx.lang, String(v))) });
registerWidget('email', { cell: (v) => (empty(v) ? null : <a href={`mailto:${v}`}>{String(v)}</a>) });
registerWidget('phone', { cell: (v) => (empty(v) ? null : <a href={`tel:${v}`}>{String(v)}</a>) });
registerWidget('url', {
  cell: (v) => (empty(v) ? null : <a href={String(v)} target="_blank" rel="noreferrer noopener">{String(v)}</a>),
});
registerWidget('json', {
  cell: (v) => (v === null || v === undefined ? null : <code className="mc-code">{JSON.stringify(v).slice(0, 80)}</code>),
});
registerWidget('reference', {
  cell: (v, ctx) => {
    if (empty(v)) return null;
    const target = ctx.options.entity ?? ctx.field.to;
    // A record of an entity the user may not read: neither its title nor a link (entity-page.ts).
    if (ctx.options.unreadable) return <span style={{ color: 'rgba(0,0,0,0.62)' }}>{translate(ctx.lang, 'noAccess')}</span>;
    if (typeof v === 'object') return <Link to={`/r/${target}/${v.id}`}>{titleOf(v, ctx.options.titleField)}</Link>;
    return <RefTitle entity={target} id={String(v)} titleField={ctx.options.titleField} />;
  },
});
registerWidget('user', { cell: (v) => (empty(v) ? null : <UserName id={String(v)} />) });
registerWidget('users', {
  cell: (v) => (empty(v) || !Array.isArray(v) ? null : v.map((id, i) => <span key={String(id)}>{i > 0 && '、'}<UserName id={String(id)} /></span>)),
});

/** A reference that came as an id (not expanded): its title read from the server. */
function RefTitle({ entity, id, titleField }: { entity: string; id: string; titleField?: string | null }) {
  const record = useQuery({
    queryKey: ['ref-title', entity, id],
    queryFn: () => get(`/api/data/${entity}/${id}${qs({ fields: titleField ?? undefined })}`).then((r) => r.data),
    staleTime: 60_000,
    retry: false,
  });
  return <Link to={`/r/${entity}/${id}`}>{record.data ? titleOf(record.data, titleField) : `${id.slice(0, 8)}…`}</Link>;
}
