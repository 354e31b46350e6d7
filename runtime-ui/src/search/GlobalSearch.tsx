/**
 * The search box in the header: GET /api/search as the user types (debounced), results grouped by
 * entity, each record opening its page; "all results" opens the entity's list searched for the same
 * text. Keyboard: / or Ctrl+K focuses it, arrows move, Enter opens, Esc closes. On a phone the header
 * shows a search button that opens the box across the top of the screen.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import { AutoComplete, Button, Input, Modal, type InputRef } from 'antd';
import { SearchOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { get, qs } from '../api';
import { useLang } from '../i18n';
import { pick, type Label } from '../meta';

interface Hit {
  id: string;
  title: string | null;
  fields: Record<string, string | null>;
}
interface Group {
  entity: string;
  label: Label;
  titleField: string | null;
  records: Hit[];
  more: boolean;
}

const WORDS = {
  'zh-CN': { placeholder: '搜索客户、联系人、商机…（/）', searching: '搜索中…', none: '没有找到匹配的记录', all: '查看全部', search: '全局搜索' },
  en: { placeholder: 'Search everything… (/)', searching: 'Searching…', none: 'No matching records', all: 'See all', search: 'Search' },
};

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/** The second line of a result: the first other searched field that contains the text. */
function subtitle(hit: Hit, titleField: string | null, q: string): string | undefined {
  const needle = q.toLowerCase();
  const entries = Object.entries(hit.fields).filter(([k, v]) => k !== titleField && v);
  return (entries.find(([, v]) => v!.toLowerCase().includes(needle)) ?? entries[0])?.[1] ?? undefined;
}

function SearchBox({ autoFocus, onDone, width }: { autoFocus?: boolean; onDone?: () => void; width: number | string }) {
  const { lang } = useLang();
  const words = WORDS[lang];
  const navigate = useNavigate();
  const [text, setText] = useState('');
  const q = useDebounced(text.trim(), 200);
  const input = useRef<InputRef>(null);
  const results = useQuery({
    queryKey: ['search', q, lang],
    queryFn: ({ signal }) => get<{ data: Group[] }>(`/api/search${qs({ q, limit: 5 })}`, { signal }).then((r) => r.data),
    enabled: q.length > 0,
    staleTime: 10_000,
  });

  useEffect(() => {
    if (autoFocus) return;
    // "/" or Ctrl/⌘+K from anywhere but a text field focuses the box.
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      const typing = target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
      if ((e.key === '/' && !typing) || (e.key.toLowerCase() === 'k' && (e.ctrlKey || e.metaKey))) {
        e.preventDefault();
        input.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [autoFocus]);

  const options = useMemo(
    () =>
      // Flat, with each entity's heading as a disabled option: antd's grouped options mark their
      // headings aria-selected on role=presentation, which axe reports as a critical violation.
      (results.data ?? []).flatMap((g) => [
          { value: `group:${g.entity}`, disabled: true, label: <span className="mc-search-group">{pick(g.label, lang, g.entity)}</span> },
          ...g.records.map((hit) => {
            const sub = subtitle(hit, g.titleField, q);
            return {
              value: `/r/${g.entity}/${hit.id}`,
              label: (
                <div className="mc-search-hit" data-testid="search-hit">
                  <div className="mc-search-title">{hit.title || sub || hit.id}</div>
                  {sub && hit.title && <span className="mc-search-sub">{sub}</span>}
                </div>
              ),
            };
          }),
          ...(g.more
            ? [{ value: `/l/${g.entity}?${new URLSearchParams({ q })}`, label: <span className="mc-search-all">{words.all} · {pick(g.label, lang, g.entity)}</span> }]
            : []),
        ]),
    [results.data, lang, q, words.all],
  );

  const notFound = q && (results.isFetching ? words.searching : results.data && !results.data.length ? words.none : undefined);
  return (
    <AutoComplete
      value={text}
      options={options}
      onChange={(v) => setText(v)}
      onSelect={(path: string) => {
        setText('');
        onDone?.();
        navigate(path);
      }}
      notFoundContent={notFound}
      style={{ width }}
      popupMatchSelectWidth={Math.max(320, typeof width === 'number' ? width : 0)}
      defaultActiveFirstOption
      // The server already matched: show its results as they are.
      filterOption={false}
    >
      <Input
        ref={input}
        autoFocus={autoFocus}
        allowClear
        prefix={<SearchOutlined />}
        placeholder={words.placeholder}
        aria-label={words.search}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            setText('');
            onDone?.();
          }
        }}
      />
    </AutoComplete>
  );
}

export function GlobalSearch({ phone }: { phone: boolean }) {
  const { lang } = useLang();
  const [open, setOpen] = useState(false);
  if (!phone) return <SearchBox width={300} />;
  return (
    <>
      <Button type="text" icon={<SearchOutlined />} aria-label={WORDS[lang].search} onClick={() => setOpen(true)} />
      <Modal open={open} onCancel={() => setOpen(false)} footer={null} closable={false} style={{ top: 8 }} width="calc(100vw - 16px)" destroyOnHidden>
        <SearchBox autoFocus width="100%" onDone={() => setOpen(false)} />
      </Modal>
    </>
  );
}
