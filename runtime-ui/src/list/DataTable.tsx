/**
 * The list's table: a plain semantic <table> with click-to-sort headers (aria-sort), row selection and a
 * loading / empty state. antd's Table brings rc-table, its filter dropdown with rc-tree and Pagination
 * (~50 KB gzip) for features the list does not use (column filters, paging, virtual rows, fixed columns);
 * the list is the page every user opens first. Looks like antd's small bordered table.
 */
import type { ReactNode } from 'react';
import { Checkbox, Spin } from 'antd';
import { ArrowDownOutlined, ArrowUpOutlined } from '@ant-design/icons';

export interface Column<T> {
  key: string;
  title: ReactNode;
  render: (record: T) => ReactNode;
  align?: 'right';
  /** Long text: one line, cut with an ellipsis (the full text in the tooltip). */
  ellipsis?: boolean;
  sortable?: boolean;
  width?: number;
}
export type SortOrder = 'ascend' | 'descend' | null;

export function DataTable<T extends { id: string }>({
  columns,
  rows,
  loading,
  empty,
  sortOrder,
  onSort,
  selected,
  onSelect,
  rowLabel,
  selectAllLabel,
}: {
  columns: Column<T>[];
  rows: T[];
  loading?: boolean;
  empty: string;
  sortOrder: (key: string) => SortOrder;
  /** A header clicked: ascending first, then it flips. */
  onSort: (key: string, order: 'ascend' | 'descend') => void;
  selected?: string[];
  onSelect?: (ids: string[]) => void;
  /** The accessible name of a row's checkbox. */
  rowLabel: (record: T) => string;
  selectAllLabel: string;
}) {
  const picked = new Set(selected ?? []);
  const all = rows.length > 0 && rows.every((r) => picked.has(r.id));
  const some = !all && rows.some((r) => picked.has(r.id));
  const toggle = (id: string, on: boolean) => onSelect?.(on ? [...picked, id] : [...picked].filter((x) => x !== id));
  const span = columns.length + (onSelect ? 1 : 0);
  return (
    <div className="mc-table-wrap">
      <table className="mc-table">
        <thead>
          <tr>
            {onSelect && (
              <th className="mc-table-select">
                <Checkbox checked={all} indeterminate={some} aria-label={selectAllLabel} disabled={rows.length === 0}
                  onChange={(e) => onSelect(e.target.checked ? rows.map((r) => r.id) : [])} />
              </th>
            )}
            {columns.map((c) => {
              const order = c.sortable ? sortOrder(c.key) : null;
              return (
                <th key={c.key} scope="col" style={{ width: c.width, textAlign: c.align }}
                  aria-sort={c.sortable ? (order === 'ascend' ? 'ascending' : order === 'descend' ? 'descending' : 'none') : undefined}>
                  {c.sortable ? (
                    <button type="button" className={`mc-sort${order ? ' active' : ''}`} onClick={() => onSort(c.key, order === 'ascend' ? 'descend' : 'ascend')}>
                      <span>{c.title}</span>
                      <span className="mc-sort-icon" aria-hidden>{order === 'descend' ? <ArrowDownOutlined /> : <ArrowUpOutlined />}</span>
                    </button>
                  ) : (
                    c.title
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} data-row-key={r.id} className={picked.has(r.id) ? 'mc-row selected' : 'mc-row'}>
              {onSelect && (
                <td className="mc-table-select">
                  <Checkbox checked={picked.has(r.id)} aria-label={rowLabel(r)} onChange={(e) => toggle(r.id, e.target.checked)} />
                </td>
              )}
              {columns.map((c) => {
                const content = c.render(r);
                return (
                  <td key={c.key} style={{ textAlign: c.align }} className={c.ellipsis ? 'mc-ellipsis' : undefined}
                    title={c.ellipsis && (typeof content === 'string' || typeof content === 'number') ? String(content) : undefined}>
                    {content}
                  </td>
                );
              })}
            </tr>
          ))}
          {rows.length === 0 && (
            <tr>
              <td colSpan={span} className="mc-table-empty">{loading ? <Spin size="small" /> : empty}</td>
            </tr>
          )}
        </tbody>
      </table>
      {loading && rows.length > 0 && <div className="mc-table-loading"><Spin /></div>}
    </div>
  );
}
