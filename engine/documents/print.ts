/**
 * The `print` action: a record rendered by a print template (a `template` document with `print: true`
 * for its entity) to HTML or PDF. What the template sees, all within the caller's rights:
 *   record     the record's readable fields, references expanded to the referenced record (read right)
 *   related    { <entity>: [records] } — records of other entities pointing at this one (a quote's
 *              lines, an order's items), readable fields, up to 200 each
 *   approvals  the record's approval trail (requests with their tasks), when it has an approval
 *   now, user  the time of printing and who prints
 * Templates are rendered by the sandboxed Handlebars environment of engine/templates/render.ts.
 */
import { sql } from 'drizzle-orm';
import { AppError, badRequest, notFound } from '../errors.js';
import { t } from '../model/language.js';
import type { DataService, OperationContext } from '../data/service.js';
import type { ApprovalService } from '../approvals/service.js';
import type { TemplateDoc } from '../templates/kind.js';
import { render } from '../templates/render.js';
import { htmlToPdf } from '../templates/pdf.js';
import { columnRef, tableText } from '../data/query.js';

const RELATED_LIMIT = 200;

/** The print templates of an entity, in name order (the first is the default). */
export const printTemplates = (data: DataService, entity: string) =>
  data
    .documents()
    .all<TemplateDoc>('template')
    .filter((d) => d.print && d.entity === entity)
    .sort((a, b) => a.name.localeCompare(b.name));

export async function printRecord(
  data: DataService,
  approvals: ApprovalService,
  ctx: OperationContext,
  entityName: string,
  id: string,
  query: Record<string, string | undefined>,
): Promise<{ format: 'html' | 'pdf'; title: string; body: string | Buffer }> {
  const entity = data.entity(entityName);
  const guard = data.guard(ctx);
  const format = query.format ?? 'pdf';
  if (format !== 'pdf' && format !== 'html') {
    const message = t(ctx.lang, 'format must be pdf or html', 'format 须为 pdf 或 html');
    throw badRequest('invalid_parameter', message, [{ path: '/query/format', code: 'invalid_parameter', message }]);
  }
  const templates = printTemplates(data, entity.name);
  const template = query.template ? templates.find((d) => d.name === query.template) : templates[0];
  if (!template) {
    const message = query.template
      ? t(
          ctx.lang,
          `No print template "${query.template}" for ${entity.name}`,
          `${entity.label['zh-CN']}没有名为“${query.template}”的打印模板`,
        )
      : t(ctx.lang, `${entity.name} has no print template`, `${entity.label['zh-CN']}没有打印模板`);
    throw notFound('template_not_found', message);
  }
  // Readable first (404 outside the read scope, as everywhere), then the print right on this record.
  const references = entity.fields
    .filter((f) => f.reference && guard.readable(entity)(f.name) && guard.can(data.entity(f.reference.to), 'read'))
    .map((f) => f.name);
  const record = await data.get(ctx, entity.name, id, references.length ? { expand: references.join(',') } : {});
  const scope = guard.condition(entity, 'print');
  const [printable] = await data.database.rows(
    sql`select 1 from ${sql.raw(tableText(entity))} where ${columnRef(entity, 'id')} = ${id}::uuid${scope ? sql` and ${scope}` : sql``}`,
  );
  if (!printable)
    throw new AppError(
      403,
      'forbidden',
      t(ctx.lang, `You may not print this ${entity.name}`, `您无权打印此${entity.label['zh-CN']}`),
    );

  const related: Record<string, Record<string, unknown>[]> = {};
  for (const ref of entity.referencedBy) {
    const child = data.entity(ref.entity);
    if (!guard.can(child, 'read') || !guard.readable(child)(ref.field)) continue;
    const page = await data.list(ctx, child.name, {
      filter: JSON.stringify({ '==': [{ var: ref.field }, id] }),
      sort: 'created_at',
      limit: String(RELATED_LIMIT),
    });
    related[child.name] = [...(related[child.name] ?? []), ...page.data];
  }
  const trail = data
    .model()
    .documents.all('approval')
    .some((a) => (a as { entity?: string }).entity === entity.name)
    ? await approvals.history(ctx, entity.name, id)
    : [];
  const context = {
    record,
    related,
    approvals: trail,
    entity: { name: entity.name, label: entity.label[ctx.lang] },
    user: { id: ctx.principal?.userId, username: ctx.principal?.username, display_name: ctx.principal?.displayName },
    now: new Date().toISOString(),
  };
  let title: string;
  let body: string;
  try {
    title = render(template.subject[ctx.lang], context);
    body = render(template.body[ctx.lang], context);
  } catch (e) {
    // A template that fails at run time (an unknown helper, a missing partial) is the template's fault.
    const message = t(
      ctx.lang,
      `The print template "${template.name}" failed: ${(e as Error).message}`,
      `打印模板“${template.name}”出错：${(e as Error).message}`,
    );
    throw new AppError(422, 'template_failed', message);
  }
  const html = `<!doctype html><html lang="${ctx.lang}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;max-width:780px;margin:24px auto;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:4px 6px;text-align:left}</style></head>
<body>${body}</body></html>`;
  return format === 'html' ? { format, title, body: html } : { format, title, body: await htmlToPdf(body, title) };
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
