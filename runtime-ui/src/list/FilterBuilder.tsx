/** The filter builder: rows of field · operator · value, giving json-logic for the list's `filter`. */
import { useState } from 'react';
import { Button, DatePicker, Input, InputNumber, Select, Space, Switch } from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { dayjsIn } from '../dates';
import { dayIn, startOfDay } from '../time-zone';
import { useLang } from '../i18n';
import type { FieldInfo } from '../meta';
import { UserSelect } from '../widgets/UserSelect';
import { complete, operatorLabel, operatorsFor, type Condition, type Relative } from './filters';

function ValueInput({ field, condition, onChange }: { field: FieldInfo; condition: Condition; onChange(v: any): void }) {
  const { lang, t } = useLang();
  const dayjs = dayjsIn(lang);
  const label = `${field.label} ${t('value')}`;
  const { op, value } = condition;
  if (op === 'isEmpty' || op === 'isNotEmpty' || op === 'containsMe') return null;
  if (field.type === 'users')
    return <div style={{ minWidth: 200 }}><UserSelect label={label} multiple={op === 'oneOf'} value={value} onChange={onChange} /></div>;
  const numeric = ['integer', 'decimal', 'currency', 'percent', 'number', 'formula', 'rating'].includes(field.type);
  const date = field.type === 'date' || field.type === 'datetime';
  if (op === 'relative') {
    const rel: { value: Relative; label: string }[] = [
      { value: 'today', label: t('today') },
      { value: 'last7', label: t('lastDays', { n: 7 }) },
      { value: 'last30', label: t('lastDays', { n: 30 }) },
      { value: 'thisMonth', label: t('thisMonth') },
      { value: 'thisYear', label: t('thisYear') },
    ];
    return <Select aria-label={label} style={{ width: 140 }} value={value} options={rel} onChange={onChange} />;
  }
  if (op === 'oneOf' || (field.type === 'multipicklist' && op === 'contains')) {
    const multiple = op === 'oneOf';
    return (
      <Select aria-label={label} mode={multiple ? 'multiple' : undefined} style={{ minWidth: 180 }} value={value}
        options={(field.options ?? []).map((o) => ({ value: o.value, label: o.label }))} onChange={onChange} />
    );
  }
  if (field.type === 'boolean') return <Switch aria-label={label} checked={Boolean(value)} onChange={onChange} />;
  const one = (v: any, set: (x: any) => void, aria: string) =>
    numeric ? (
      <InputNumber aria-label={aria} value={v} onChange={set} style={{ width: 120 }} />
    ) : date ? (
      <DatePicker aria-label={aria} value={v ? dayjs(field.type === 'date' ? v : dayIn(v)) : null} onChange={(d) => set(d ? (field.type === 'date' ? d.format('YYYY-MM-DD') : startOfDay(d.format('YYYY-MM-DD'))) : undefined)} />
    ) : (
      <Input aria-label={aria} value={v} onChange={(e) => set(e.target.value)} style={{ width: 180 }} />
    );
  if (op === 'between') {
    const pair = Array.isArray(value) ? value : [undefined, undefined];
    return (
      <Space size={4}>
        {one(pair[0], (x) => onChange([x, pair[1]]), `${label} 1`)}–{one(pair[1], (x) => onChange([pair[0], x]), `${label} 2`)}
      </Space>
    );
  }
  return one(value, onChange, label);
}

export function FilterBuilder({ fields, initial, onApply }: { fields: FieldInfo[]; initial: Condition[]; onApply(c: Condition[]): void }) {
  const { t } = useLang();
  const [rows, setRows] = useState<Condition[]>(initial.length ? initial : []);
  const filterable = fields.filter((f) => f.filterable !== false && f.readable !== false);
  const byName = new Map(filterable.map((f) => [f.name, f]));
  const set = (i: number, c: Partial<Condition>) => setRows(rows.map((r, j) => (i === j ? { ...r, ...c } : r)));
  return (
    <div style={{ maxWidth: 620 }} data-testid="filter-builder">
      {rows.map((row, i) => {
        const field = byName.get(row.field);
        return (
          <Space key={i} wrap style={{ marginBottom: 6 }}>
            <Select aria-label={t('field')} showSearch optionFilterProp="label" style={{ width: 180 }} value={row.field}
              options={filterable.map((f) => ({ value: f.name, label: f.label }))}
              onChange={(name) => set(i, { field: name, op: operatorsFor(byName.get(name)!)[0], value: undefined })} />
            {field && (
              <Select aria-label={t('operator')} style={{ width: 110 }} value={row.op}
                options={operatorsFor(field).map((op) => ({ value: op, label: t(operatorLabel[op]) }))}
                onChange={(op) => set(i, { op, value: undefined })} />
            )}
            {field && <ValueInput field={field} condition={row} onChange={(value) => set(i, { value })} />}
            <Button aria-label={t('delete')} type="text" icon={<DeleteOutlined />} onClick={() => setRows(rows.filter((_, j) => j !== i))} />
          </Space>
        );
      })}
      <Space style={{ display: 'flex', justifyContent: 'space-between', marginTop: 4 }}>
        <Button size="small" icon={<PlusOutlined />} onClick={() => setRows([...rows, { field: filterable[0].name, op: operatorsFor(filterable[0])[0] }])}>
          {t('addCondition')}
        </Button>
        <Space>
          <Button size="small" onClick={() => (setRows([]), onApply([]))}>{t('clear')}</Button>
          <Button size="small" type="primary" onClick={() => onApply(rows.filter(complete))}>{t('apply')}</Button>
        </Space>
      </Space>
    </div>
  );
}
