/**
 * Light stand-ins for antd's Card and List on the pages every user opens first (login, home, the list's
 * phone cards, notifications): antd's Card imports its Tabs (for `tabList`) and List its Pagination,
 * ~25 KB gzip that these pages never use. Same look, plain elements.
 */
import type { HTMLAttributes, ReactNode } from 'react';
import { Spin } from 'antd';

export function Panel({
  title,
  extra,
  children,
  className,
  ...rest
}: { title?: ReactNode; extra?: ReactNode; children?: ReactNode } & Omit<HTMLAttributes<HTMLElement>, 'title'>) {
  return (
    <section className={`mc-panel${className ? ` ${className}` : ''}`} {...rest}>
      {(title || extra) && (
        <header className="mc-panel-head">
          <h2 className="mc-panel-title">{title}</h2>
          {extra}
        </header>
      )}
      <div className="mc-panel-body">{children}</div>
    </section>
  );
}

/** A plain list of rows: each item's content spread over the row, the empty text, a spinner while loading. */
export function PlainList<T>({
  items,
  render,
  empty,
  loading,
  itemProps,
  style,
}: {
  items: T[];
  render: (item: T) => ReactNode;
  empty: string;
  loading?: boolean;
  itemProps?: (item: T) => HTMLAttributes<HTMLLIElement> & Record<`data-${string}`, string>;
  style?: React.CSSProperties;
}) {
  if (loading) return <div className="mc-list-empty"><Spin size="small" /></div>;
  if (items.length === 0) return <div className="mc-list-empty">{empty}</div>;
  return (
    <ul className="mc-list" style={style}>
      {items.map((item, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the items have no id of their own here
        <li key={i} {...itemProps?.(item)}>{render(item)}</li>
      ))}
    </ul>
  );
}
