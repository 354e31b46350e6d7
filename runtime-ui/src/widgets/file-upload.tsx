/**
 * The `file` field's form widget: an upload button that stores each chosen file at once (within the
 * field's size and type limits, which the server checks again). Loaded with the record form only.
 */
import { App, Button, Upload } from 'antd';
import { UploadOutlined } from '@ant-design/icons';
import type { WidgetProps } from '@rjsf/utils';
import { useParams } from 'react-router';
import { useLang } from '../i18n';
import { registerWidget } from './registry';
import { FileLinks, fileSize, uploadBytes, type FileRef } from './file-widget';

const WORDS = {
  'zh-CN': { upload: '上传文件', tooLarge: '文件超过 {mb} MB', failed: '上传失败：{m}' },
  en: { upload: 'Upload', tooLarge: 'The file is larger than {mb} MB', failed: 'Upload failed: {m}' },
};

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

registerWidget('file', { form: FileWidget });
