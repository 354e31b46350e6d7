/**
 * The `file` field's widget: uploads each chosen file at once (POST /api/files, within the field's size
 * and type limits, which the server checks again), keeps the references `{id, name, size, type}` as the
 * field's value, links each to its download. Read-only: the links. This module holds the links (lists,
 * read-only fields); the upload widget is file-upload.tsx, loaded with the record form.
 */
import { PaperClipOutlined } from '@ant-design/icons';
import { ApiError } from '../api';
import type { Lang } from '../i18n';
import { registerWidget } from './registry';

export interface FileRef {
  id: string;
  name: string;
  size: number;
  type: string;
}

export const fileSize = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(0)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

/** Sends a file's bytes as the body (Content-Type its type), the name in the query. */
export async function uploadBytes(path: string, file: File, lang: Lang): Promise<FileRef> {
  const res = await fetch(`${path}${path.includes('?') ? '&' : '?'}name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': file.type || 'application/octet-stream', 'accept-language': lang },
    body: file,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, json.error?.code ?? 'http_error', json.error?.message ?? res.statusText);
  return json.data as FileRef;
}

export function FileLinks({ files }: { files: FileRef[] }) {
  return (
    <span style={{ display: 'inline-flex', flexDirection: 'column', gap: 2 }}>
      {files.map((f) => (
        <a key={f.id} href={`/api/files/${f.id}`} data-testid="file-link">
          <PaperClipOutlined /> {f.name} <span style={{ color: '#595959', fontSize: 12 }}>({fileSize(f.size)})</span>
        </a>
      ))}
    </span>
  );
}

// The upload button (antd Upload and its progress bars) is the form part: registered with the other form
// widgets, so the list and the frame ship only the links.
registerWidget('file', {
  cell: (v) => (Array.isArray(v) && v.length ? <FileLinks files={v as FileRef[]} /> : null),
});
