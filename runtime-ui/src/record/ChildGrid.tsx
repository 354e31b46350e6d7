/**
 * A child collection (a quote's or an order's lines) as a dense grid: one line per child with the column
 * labels once in a header, a delete button at the end of the line, an "Add line" button with its word,
 * and the sums of the amount columns under them. Wider than the screen it scrolls sideways; on a phone
 * each line becomes a compact card with the labels beside the values (styles.css, .mc-child-*).
 * Generic: the columns are the child entity's fields of the form model.
 */
import type { ArrayFieldItemTemplateProps, ArrayFieldTemplateProps, ObjectFieldTemplateProps } from '@rjsf/utils';
import { Button } from 'antd';
import { Templates } from '@rjsf/antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { formatCurrency } from '../format';
import { translate, type Lang } from '../i18n';
import type { FieldInfo } from '../meta';

const HIDDEN = new Set(['id', 'version']);
/** The grid's column widths: a picker or a note wide, numbers narrow (the delete button is beside the grid). */
export function gridColumns(names: string[]) {
  return names.map((n) => (n === 'product' || n.endsWith('notes') || n.endsWith('name') ? 'minmax(180px, 2fr)' : 'minmax(104px, 1fr)')).join(' ');
}
const visibleNames = (properties: Record<string, any>, itemsUi: Record<string, any>) =>
  Object.keys(properties).filter((n) => !HIDDEN.has(n) && itemsUi?.[n]?.['ui:widget'] !== 'hidden');

interface ChildContext {
  lang: Lang;
  children?: { name: string; label: string; fields: FieldInfo[] }[];
}

export function ChildArrayTemplate(props: ArrayFieldTemplateProps) {
  const { lang, children = [] } = props.registry.formContext as ChildContext;
  const name = props.fieldPathId.$id.replace(/^root_/, '');
  const child = children.find((c) => c.name === name);
  // Any other array (none today: lists of values have their own widgets) keeps the theme's template.
  if (!child) {
    const Default = Templates.ArrayFieldTemplate!;
    return <Default {...props} />;
  }
  const itemSchema = (props.schema.items ?? {}) as { properties?: Record<string, any> };
  const names = visibleNames(itemSchema.properties ?? {}, (props.uiSchema?.items ?? {}) as Record<string, any>);
  const fieldOf = (n: string) => child?.fields.find((f) => f.name === n);
  const rows = (Array.isArray(props.formData) ? props.formData : []) as Record<string, unknown>[];
  // Sums of the computed money columns (line amounts, costs, margins): what a rep checks against the
  // record's totals. Prices are per unit: not summed.
  const itemsUi = (props.uiSchema?.items ?? {}) as Record<string, any>;
  const sums = names.map((n) => {
    const f = fieldOf(n);
    const money = f?.type === 'currency' || itemsUi[n]?.['ui:widget'] === 'currency';
    const computed = f?.writable === false || itemSchema.properties?.[n]?.readOnly || itemsUi[n]?.['ui:readonly'];
    if (!money || !computed || n.endsWith('price')) return null;
    return rows.reduce((s, r) => s + (typeof r[n] === 'number' ? (r[n] as number) : Number(r[n]) || 0), 0);
  });
  const template = gridColumns(names);
  const editable = !props.readonly && !props.disabled;
  return (
    <fieldset className="mc-child-grid" id={props.fieldPathId.$id}>
      <legend className="mc-visually-hidden">{child?.label ?? props.title}</legend>
      <div className="mc-child-scroll">
        <div className="mc-child-line mc-child-head" aria-hidden>
          <div className="mc-child-cols" style={{ gridTemplateColumns: template }}>
            {names.map((n) => (
              <div key={n} className={isNumeric(fieldOf(n)) ? 'num' : undefined}>{fieldOf(n)?.label ?? itemSchema.properties?.[n]?.title ?? n}</div>
            ))}
          </div>
          <span className="mc-child-spacer" />
        </div>
        {props.items}
        {props.items.length === 0 && <div className="mc-child-empty">{translate(lang, 'empty')}</div>}
        {sums.some((s) => s !== null) && props.items.length > 0 && (
          <div className="mc-child-line mc-child-foot" data-testid={`${name}-totals`}>
            <div className="mc-child-cols" style={{ gridTemplateColumns: template }}>
              {sums.map((s, i) => (
                <div key={names[i]} className={s === null ? undefined : 'num'}>
                  {s === null ? (i === 0 ? translate(lang, 'sum') : null) : (
                    <>
                      <span className="mc-child-foot-label">{fieldOf(names[i])?.label} </span>
                      {formatCurrency(lang, s)}
                    </>
                  )}
                </div>
              ))}
            </div>
            <span className="mc-child-spacer" />
          </div>
        )}
      </div>
      {props.canAdd && editable && (
        <Button icon={<PlusOutlined />} onClick={props.onAddClick} className="mc-child-add" data-testid={`add-${name}`}>
          {translate(lang, 'addLine')}
        </Button>
      )}
    </fieldset>
  );
}

const isNumeric = (f?: FieldInfo) => Boolean(f && ['currency', 'decimal', 'integer', 'percent', 'formula'].includes(f.type));

export function ChildItemTemplate(props: ArrayFieldItemTemplateProps) {
  const { lang } = props.registry.formContext as ChildContext;
  const b = props.buttonsProps;
  return (
    <div className="mc-child-line">
      {props.children}
      {b.hasRemove && !b.readonly && !b.disabled ? (
        <Button type="text" danger size="small" icon={<DeleteOutlined />} className="mc-child-remove"
          aria-label={`${translate(lang, 'delete')} ${props.index + 1}`} onClick={b.onRemoveItem} />
      ) : (
        <span className="mc-child-spacer" />
      )}
    </div>
  );
}

/** One child's fields in the grid's columns (the labels stay for screen readers and for phone cards). */
export function ChildRowTemplate(props: ObjectFieldTemplateProps) {
  const shown = props.properties.filter((p) => !p.hidden && !HIDDEN.has(p.name));
  return (
    <div className="mc-child-row" style={{ gridTemplateColumns: gridColumns(shown.map((p) => p.name)) }}>
      {shown.map((p) => (
        <div key={p.name} className="mc-child-cell">{p.content}</div>
      ))}
    </div>
  );
}
