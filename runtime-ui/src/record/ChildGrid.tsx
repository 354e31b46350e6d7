/**
 * A child collection (a quote's or an order's lines) as a dense grid: one line per child with the column
 * labels once, above the first line, a delete button at the end of the line, an "Add line" button with
 * its word, and the sums of the computed money columns beside it. Wider than the screen it scrolls sideways; on a phone
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
/**
 * The grid's column widths, fixed so that every line (each its own grid) lines up with the labels above
 * the first: a picker or a note wide, the rest narrow; the delete button is beside the grid.
 */
export function gridColumns(names: string[]) {
  return names.map((n) => (n === 'product' || n.endsWith('notes') || n.endsWith('name') ? '200px' : '112px')).join(' ');
}

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
  const itemsUi = (props.uiSchema?.items ?? {}) as Record<string, any>;
  const rows = (Array.isArray(props.formData) ? props.formData : []) as Record<string, unknown>[];
  // Sums of the computed money columns (line amounts, costs, margins): what a rep checks against the
  // record's totals. Prices are per unit (net_price): not summed; nor are typed amounts (a unit cost).
  const summed = child.fields.filter((f) => f.type === 'formula' && itemsUi[f.name]?.['ui:widget'] === 'currency' && !f.name.endsWith('price'));
  const sum = (n: string) => rows.reduce((s, r) => s + (typeof r[n] === 'number' ? (r[n] as number) : Number(r[n]) || 0), 0);
  const editable = !props.readonly && !props.disabled;
  return (
    <fieldset className="mc-child-grid" id={props.fieldPathId.$id}>
      <legend className="mc-visually-hidden">{child.label}</legend>
      {/* The labels show above the first line only (styles.css): one header, aligned by construction. */}
      <div className="mc-child-scroll">{props.items}</div>
      {props.items.length === 0 && <div className="mc-child-empty">{translate(lang, 'empty')}</div>}
      <div className="mc-child-foot">
        {props.canAdd && editable && (
          <Button icon={<PlusOutlined />} onClick={props.onAddClick} className="mc-child-add" data-testid={`add-${name}`}>
            {translate(lang, 'addLine')}
          </Button>
        )}
        {summed.length > 0 && rows.length > 0 && (
          <div className="mc-child-totals" data-testid={`${name}-totals`}>
            <span>{translate(lang, 'sum')}</span>
            {summed.map((f) => (
              <span key={f.name}>
                <span className="mc-child-total-label">{f.label}</span> {formatCurrency(lang, sum(f.name))}
              </span>
            ))}
          </div>
        )}
      </div>
    </fieldset>
  );
}

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
