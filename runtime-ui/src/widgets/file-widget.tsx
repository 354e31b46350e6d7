/**
 * The `file` field's widget: uploads each chosen file at once (POST /api/files, within the field's size
 * and type limits, which the server checks again), keeps the references `{id, name, size, type}` as the
 * field's value, links each to its download. Read-only: the links.
 */
import { App, Button, Upload } from 'antd';
import { PaperClipOutlined, UploadOutlined } from '@ant-design/icons';
import type { WidgetProps } from '@rjsf/utils';
import { useParams } from 'react-router';
import { ApiError } from '../api';
import { useLang, type Lang } from '../i18n';
import { registerWidget } from './registry';

export interface FileRef {
  id: string;
  name: string;
  size: number;
  type: string;
}

const WORDS = {
  'zh-CN': { upload: '上传文件', tooLarge: '文件超过 {mb} MB', failed: '上传失败：{m}' },
  en: { upload: 'Upload', tooLarge: 'The file is larger than {mb} MB', failed: 'Upload failed: {m}' },
};

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

function FileWidget(props: WidgetProps) {
  const { lang } = useLang();
  const { message } = App.useApp();
  const { entity } = useParams();
  const words = WORDS[lang];
  const value: FileRef[] = Array.isArray(props.value) ? props.value : [];
  const opts = props.options as { multiple?: boolean; maxFiles?: number; maxSize?: number; accept?: string[] };
  if (props.readonly || props.disabled) return value.length ? <FileLinks files={value} /> : <span className="mc-empty">—</span>;
  const full = value.length >= (opts.maxFiles ?? 1);
  return (
    <Upload
      multiple={opts.multiple}
      accept={opts.accept?.join(',')}
      fileList={value.map((f) => ({ uid: f.id, name: `${f.name} (${fileSize(f.size)})`, status: 'done' as const, url: `/api/files/${f.id}` }))}
      onRemove={(file) => props.onChange(value.filter((f) => f.id !== file.uid).length ? value.filter((f) => f.id !== file.uid) : undefined)}
      beforeUpload={(file) => {
        if (opts.maxSize && file.size > opts.maxSize) {
          message.error(words.tooLarge.replace('{mb}', (opts.maxSize / 1024 / 1024).toFixed(0)));
          return Upload.LIST_IGNORE;
        }
        return true;
      }}
      customRequest={async ({ file, onSuccess, onError }) => {
        try {
          const ref = await uploadBytes(`/api/files?entity=${entity}&field=${props.name}`, file as File, lang);
          // rjsf hands the latest value to the next change: several files uploaded at once all stay.
          props.onChange([...(opts.multiple ? (Array.isArray(props.value) ? props.value : []) : []), ref]);
          onSuccess?.(ref);
        } catch (e) {
          message.error(words.failed.replace('{m}', (e as Error).message));
          onError?.(e as Error);
        }
      }}
      showUploadList={{ showRemoveIcon: true }}
    >
      {!full || opts.multiple === false ? (
        <Button icon={<UploadOutlined />} aria-label={`${props.label} · ${words.upload}`}>{words.upload}</Button>
      ) : null}
    </Upload>
  );
}

registerWidget('file', {
  cell: (v) => (Array.isArray(v) && v.length ? <FileLinks files={v as FileRef[]} /> : null),
  form: FileWidget,
});
