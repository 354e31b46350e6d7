/** The record's attachments list (a tab of the record page): upload, download, remove. */
import { App, Button, List, Popconfirm, Upload } from 'antd';
import { DeleteOutlined, PaperClipOutlined, UploadOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, get } from '../api';
import { formatDateTime } from '../format';
import { useLang } from '../i18n';
import { fileSize, uploadBytes, type FileRef } from '../widgets/file-widget';

export const ATTACHMENT_WORDS = {
  'zh-CN': { attachments: '附件', upload: '上传附件', none: '暂无附件', remove: '删除附件？', failed: '上传失败：{m}' },
  en: { attachments: 'Attachments', upload: 'Attach a file', none: 'No attachments', remove: 'Remove this attachment?', failed: 'Upload failed: {m}' },
};

type Attachment = FileRef & { createdAt: string };

export const useAttachments = (entity: string, id: string) =>
  useQuery({ queryKey: ['attachments', entity, id], queryFn: () => get<{ data: Attachment[] }>(`/api/data/${entity}/${id}/attachments`).then((r) => r.data) });

export function Attachments({ entity, id, canEdit }: { entity: string; id: string; canEdit: boolean }) {
  const { lang } = useLang();
  const words = ATTACHMENT_WORDS[lang];
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const list = useAttachments(entity, id);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['attachments', entity, id] });
  return (
    <div>
      {canEdit && (
        <Upload
          multiple
          showUploadList={false}
          customRequest={async ({ file, onSuccess, onError }) => {
            try {
              onSuccess?.(await uploadBytes(`/api/data/${entity}/${id}/attachments`, file as File, lang));
              await refresh();
            } catch (e) {
              message.error(words.failed.replace('{m}', (e as Error).message));
              onError?.(e as Error);
            }
          }}
        >
          <Button icon={<UploadOutlined />} style={{ marginBottom: 8 }}>{words.upload}</Button>
        </Upload>
      )}
      <List
        size="small"
        loading={list.isLoading}
        dataSource={list.data ?? []}
        locale={{ emptyText: words.none }}
        renderItem={(f) => (
          <List.Item
            data-testid="attachment"
            actions={
              canEdit
                ? [
                    <Popconfirm key="rm" title={words.remove} onConfirm={async () => {
                      await api('DELETE', `/api/data/${entity}/${id}/attachments/${f.id}`);
                      await refresh();
                    }}>
                      <Button type="text" size="small" danger icon={<DeleteOutlined />} aria-label={`${words.remove} ${f.name}`} />
                    </Popconfirm>,
                  ]
                : []
            }
          >
            <List.Item.Meta
              avatar={<PaperClipOutlined />}
              title={<a href={`/api/files/${f.id}`}>{f.name}</a>}
              description={`${fileSize(f.size)} · ${formatDateTime(lang, f.createdAt)}`}
            />
          </List.Item>
        )}
      />
    </div>
  );
}
