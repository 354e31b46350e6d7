/** Assignment (hand the record to another owner, with a reason) and sharing (users or departments, read or edit) dialogs. */
import { useState } from 'react';
import { App, Button, Input, List, Modal, Segmented, Space } from 'antd';
import { DeleteOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, get, post } from '../api';
import { useLang } from '../i18n';
import { UserSelect } from '../widgets/UserSelect';
import { useUserNames } from './History';

export function AssignDialog({ entity, id, open, onClose, onDone }: { entity: string; id: string; open: boolean; onClose(): void; onDone(): void }) {
  const { t } = useLang();
  const { message } = App.useApp();
  const [to, setTo] = useState<string>();
  const [reason, setReason] = useState('');
  const submit = async () => {
    try {
      await post(`/api/data/${entity}/${id}/assign`, { to, ...(reason ? { reason } : {}) });
      message.success(t('saved'));
      onDone();
      onClose();
    } catch (e) {
      message.error(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <Modal title={t('assign')} open={open} onCancel={onClose} onOk={submit} okButtonProps={{ disabled: !to }} destroyOnHidden>
      <Space direction="vertical" style={{ width: '100%' }}>
        <UserSelect label={t('owner')} value={to} onChange={setTo} />
        <Input.TextArea aria-label={t('comment')} placeholder={t('comment')} value={reason} onChange={(e) => setReason(e.target.value)} />
      </Space>
    </Modal>
  );
}

export function ShareDialog({ entity, id, open, onClose }: { entity: string; id: string; open: boolean; onClose(): void }) {
  const { t } = useLang();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const shares = useQuery({ queryKey: ['shares', entity, id], enabled: open, queryFn: () => get(`/api/data/${entity}/${id}/shares`).then((r) => r.data as any[]) });
  const names = useUserNames((shares.data ?? []).map((s) => s.user_id ?? s.user).filter(Boolean));
  const [user, setUser] = useState<string>();
  const [access, setAccess] = useState<'read' | 'edit'>('read');
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['shares', entity, id] });
  const add = async () => {
    try {
      await post(`/api/data/${entity}/${id}/shares`, { user, access });
      setUser(undefined);
      void refresh();
    } catch (e) {
      message.error(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <Modal title={t('share')} open={open} onCancel={onClose} footer={null} destroyOnHidden>
      <Space.Compact style={{ width: '100%', marginBottom: 12 }}>
        <div style={{ flex: 1 }}><UserSelect label={t('user')} value={user} onChange={setUser} /></div>
        <Segmented value={access} onChange={(v) => setAccess(v as 'read' | 'edit')} options={[{ value: 'read', label: t('read') }, { value: 'edit', label: t('write') }]} />
        <Button type="primary" disabled={!user} onClick={add}>{t('share')}</Button>
      </Space.Compact>
      <List size="small" dataSource={shares.data ?? []} locale={{ emptyText: t('empty') }}
        renderItem={(s: any) => (
          <List.Item actions={[
            <Button key="d" type="text" aria-label={t('delete')} icon={<DeleteOutlined />} onClick={async () => {
              await api('DELETE', `/api/data/${entity}/${id}/shares/${s.id}`).catch((e) => message.error(e.message));
              void refresh();
            }} />,
          ]}>
            {names.data?.get(s.user_id ?? s.user) ?? s.user_id ?? s.user ?? s.department_id ?? s.department} · {s.access === 'edit' ? t('write') : t('read')}
          </List.Item>
        )} />
    </Modal>
  );
}
