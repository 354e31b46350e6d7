/**
 * The list's export: CSV or Excel of what the list shows — its filter, sort, search and columns (or the
 * selected rows) — under the export right; the server streams the file.
 */
import { DownloadOutlined } from '@ant-design/icons';
import { App, Dropdown, Button } from 'antd';
import { api, qs } from '../api';
import { useWords } from './words';

export function ExportButton(props: { entity: string; filter?: unknown; sort: string; q: string; fields: string[]; selected: string[]; label: string }) {
  const w = useWords();
  const { message } = App.useApp();
  const download = async (format: 'csv' | 'xlsx') => {
    const idFilter = props.selected.length ? { in: [{ var: 'id' }, props.selected] } : undefined;
    const f = [props.filter, idFilter].filter(Boolean);
    try {
      const res = await api<Response>(
        'GET',
        `/api/data/${props.entity}/export${qs({
          format,
          sort: props.sort,
          q: props.q || undefined,
          fields: props.fields.join(',') || undefined,
          filter: f.length ? JSON.stringify(f.length === 1 ? f[0] : { and: f }) : undefined,
        })}`,
        undefined,
        { raw: true },
      );
      const name = /filename\*=UTF-8''([^;]+)/.exec(res.headers.get('content-disposition') ?? '')?.[1];
      const url = URL.createObjectURL(await res.blob());
      const a = Object.assign(document.createElement('a'), { href: url, download: name ? decodeURIComponent(name) : `${props.entity}.${format}` });
      a.click();
      URL.revokeObjectURL(url);
    } catch (e) {
      message.error((e as Error).message);
    }
  };
  return (
    <Dropdown
      menu={{
        items: [
          { key: 'xlsx', label: w('exportXlsx') },
          { key: 'csv', label: w('exportCsv') },
        ],
        onClick: ({ key }) => void download(key as 'csv' | 'xlsx'),
      }}
    >
      <Button icon={<DownloadOutlined />}>{props.label}</Button>
    </Dropdown>
  );
}
