/** The bell in the header: unread notifications (polled every 30 s), opening the list; a click marks read and opens the record. */
import { Badge, Button, Popover } from 'antd';
import { PlainList } from '../ui/Panel';
import { BellOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { get, post } from '../api';
import { formatDateTime } from '../format';
import { useLang } from '../i18n';
import { pick, type Label } from '../meta';

export interface Notification {
  id: string;
  entity: string | null;
  recordId: string | null;
  /** Text, or the same text in both languages. */
  subject: Label;
  body: Label;
  createdAt: string;
  readAt: string | null;
}

export const useUnread = () =>
  useQuery({ queryKey: ['notifications', 'unread'], queryFn: () => get<{ data: Notification[] }>('/api/notifications?unread=true').then((r) => r.data), refetchInterval: 30_000 });

export function NotificationList({ items, compact }: { items: Notification[]; compact?: boolean }) {
  const { lang, t } = useLang();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const open = async (n: Notification) => {
    await post(`/api/notifications/${n.id}/read`).catch(() => undefined);
    void queryClient.invalidateQueries({ queryKey: ['notifications'] });
    if (n.entity && n.recordId) navigate(`/r/${n.entity}/${n.recordId}`);
  };
  return (
    <PlainList
      style={{ width: compact ? 340 : undefined, maxHeight: 420, overflow: 'auto' }}
      items={items}
      empty={t('noNotifications')}
      itemProps={() => ({ className: 'mc-notification', 'data-testid': 'notification' })}
      render={(n) => (
        // A button: the row opens the record and marks it read, from the keyboard too.
        <button type="button" className="mc-notification-open" onClick={() => open(n)}>
          <span className="mc-notification-subject">{pick(n.subject, lang)}</span>
          <span className="mc-clamp2 mc-notification-body">{pick(n.body, lang)}</span>
          <span className="mc-notification-body">{formatDateTime(lang, n.createdAt)}</span>
        </button>
      )}
    />
  );
}

export function NotificationBell() {
  const { t } = useLang();
  const unread = useUnread();
  const count = unread.data?.length ?? 0;
  return (
    <Popover trigger="click" placement="bottomRight" title={t('notifications')} content={<NotificationList items={unread.data ?? []} compact />}>
      <Badge count={count} size="small" offset={[-4, 4]}>
        <Button type="text" icon={<BellOutlined />} aria-label={`${t('notifications')} (${count})`} data-testid="bell" />
      </Badge>
    </Popover>
  );
}
