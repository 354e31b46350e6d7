/**
 * The record's comments (a tab beside the history): a timeline, newest first, and a box where "@"
 * suggests users; the users mentioned are sent along and notified when they may read the record.
 */
import { useState } from 'react';
import { App, Button, Empty, Mentions, Popconfirm, Timeline, Typography } from 'antd';
import { DeleteOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, get, post, qs } from '../api';
import { formatDateTime } from '../format';
import { useLang } from '../i18n';
import { useMe } from '../meta';

export const COMMENT_WORDS = {
  'zh-CN': { comments: '评论', placeholder: '写评论，输入 @ 提及同事', send: '发表', none: '暂无评论', remove: '删除这条评论？', notified: '已通知 {n} 人' },
  en: { comments: 'Comments', placeholder: 'Write a comment; type @ to mention someone', send: 'Post', none: 'No comments yet', remove: 'Delete this comment?', notified: '{n} notified' },
};

interface Comment {
  id: string;
  body: string;
  createdBy: string | null;
  authorName: string | null;
  createdAt: string;
}

export function Comments({ entity, id }: { entity: string; id: string }) {
  const { lang } = useLang();
  const words = COMMENT_WORDS[lang];
  const { message } = App.useApp();
  const me = useMe();
  const queryClient = useQueryClient();
  const [text, setText] = useState('');
  const [search, setSearch] = useState('');
  const [picked, setPicked] = useState<Map<string, string>>(new Map());
  const key = ['comments', entity, id];
  const comments = useQuery({ queryKey: key, queryFn: () => get<{ data: Comment[] }>(`/api/data/${entity}/${id}/comments`).then((r) => r.data) });
  const users = useQuery({
    queryKey: ['users', 'mention', search],
    queryFn: () => get(`/api/data/user${qs({ q: search || undefined, limit: 10, fields: 'display_name,username' })}`).then((r) => r.data as any[]),
  });
  const send = async () => {
    // Only the mentions still in the text count.
    const mentions = [...picked].filter(([, name]) => text.includes(`@${name}`)).map(([userId]) => userId);
    try {
      const res = await post<{ data: { mentions: string[] } }>(`/api/data/${entity}/${id}/comments`, { body: text, mentions });
      if (res.data.mentions.length) message.success(words.notified.replace('{n}', String(res.data.mentions.length)));
      setText('');
      setPicked(new Map());
      await queryClient.invalidateQueries({ queryKey: key });
    } catch (e) {
      message.error((e as Error).message);
    }
  };
  return (
    <div>
      <div style={{ display: 'flex', gap: 8, marginBottom: 16, alignItems: 'flex-start' }}>
        <Mentions
          aria-label={words.comments}
          value={text}
          onChange={setText}
          onSearch={setSearch}
          onSelect={(option) => {
            const user = users.data?.find((u) => u.display_name === option.value);
            if (user) setPicked(new Map(picked).set(user.id, user.display_name));
          }}
          placeholder={words.placeholder}
          autoSize={{ minRows: 2, maxRows: 6 }}
          options={(users.data ?? []).map((u) => ({ key: u.id, value: u.display_name, label: `${u.display_name} (${u.username})` }))}
          style={{ flex: 1 }}
        />
        <Button type="primary" onClick={send} disabled={!text.trim()}>{words.send}</Button>
      </div>
      {comments.data?.length ? (
        <Timeline
          items={comments.data.map((c) => ({
            key: c.id,
            children: (
              <div data-testid="comment">
                <Typography.Text strong>{c.authorName ?? '—'}</Typography.Text>{' '}
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>{formatDateTime(lang, c.createdAt)}</Typography.Text>
                {c.createdBy === me.data?.user.id && (
                  <Popconfirm title={words.remove} onConfirm={async () => {
                    await api('DELETE', `/api/data/${entity}/${id}/comments/${c.id}`);
                    await queryClient.invalidateQueries({ queryKey: key });
                  }}>
                    <Button type="text" size="small" icon={<DeleteOutlined />} aria-label={words.remove} />
                  </Popconfirm>
                )}
                <div style={{ whiteSpace: 'pre-wrap' }}>{c.body}</div>
              </div>
            ),
          }))}
        />
      ) : (
        <Empty description={words.none} image={Empty.PRESENTED_IMAGE_SIMPLE} />
      )}
    </div>
  );
}
