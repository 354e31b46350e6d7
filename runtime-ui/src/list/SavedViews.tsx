/**
 * Saved list views on the server (GET/POST/DELETE /api/saved-views/:entity): the view picker that mixes
 * the entity's deployed list views with the user's own saved views and those shared with them, and the
 * "save view as…" dialog (name; private, shared with the user's roles, or — with the views.share right —
 * with everyone). A saved view's state is the list's URL state plus its columns.
 */
import { useState } from 'react';
import { App, Button, Input, Modal, Radio, Select, Space, Tooltip } from 'antd';
import { DeleteOutlined, SaveOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, errorText, get, post } from '../api';
import { useLang } from '../i18n';
import { pick, type Me } from '../meta';
import type { ListView } from '../views';

export interface ViewState {
  columns?: string[];
  sort?: string;
  filter?: unknown[];
  q?: string;
  where?: unknown;
}
export interface SavedView {
  id: string;
  name: string;
  state: ViewState;
  share: { roles: string[]; everyone: boolean };
  mine: boolean;
  ownerName: string | null;
}

export function useSavedViews(entity: string) {
  return useQuery({
    queryKey: ['saved-views', entity],
    enabled: Boolean(entity),
    staleTime: 60_000,
    queryFn: () => get<{ data: SavedView[] }>(`/api/saved-views/${entity}`).then((r) => r.data),
  });
}

/** The picker: deployed list views (`v:name`) and saved ones (`s:id`), with delete for the user's own. */
export function ViewPicker({ entity, lists, saved, value, onChange }: {
  entity: string;
  lists: ListView[];
  saved: SavedView[];
  value: string;
  onChange(value: string): void;
}) {
  const { t } = useLang();
  const { message, modal } = App.useApp();
  const queryClient = useQueryClient();
  const current = saved.find((s) => `s:${s.id}` === value);
  const options = [
    { label: t('views'), options: lists.map((l) => ({ value: `v:${l.name}`, label: l.label ?? l.name })) },
    ...(saved.some((s) => s.mine) ? [{ label: t('myViews'), options: saved.filter((s) => s.mine).map((s) => ({ value: `s:${s.id}`, label: s.name })) }] : []),
    ...(saved.some((s) => !s.mine)
      ? [{ label: t('sharedViews'), options: saved.filter((s) => !s.mine).map((s) => ({ value: `s:${s.id}`, label: `${s.name} · ${s.ownerName ?? ''}` })) }]
      : []),
  ];
  const remove = () =>
    modal.confirm({
      title: t('deleteView', { name: current!.name }),
      okButtonProps: { danger: true },
      onOk: async () => {
        try {
          await api('DELETE', `/api/saved-views/${entity}/${current!.id}`);
          message.success(t('deleted'));
          onChange(`v:${lists[0]?.name ?? ''}`);
          void queryClient.invalidateQueries({ queryKey: ['saved-views', entity] });
        } catch (e) {
          message.error((e as Error).message);
        }
      },
    });
  if (lists.length <= 1 && saved.length === 0) return null;
  return (
    <Space.Compact>
      <Select aria-label={t('viewAs')} value={value} onChange={onChange} options={options} style={{ width: 180 }} data-testid="view-picker" />
      {current?.mine && (
        <Tooltip title={t('delete')}>
          <Button aria-label={t('deleteView', { name: current.name })} icon={<DeleteOutlined />} onClick={remove} />
        </Tooltip>
      )}
    </Space.Compact>
  );
}

/** "Save view as…": stores the list's current state under a name. */
export function SaveViewButton({ entity, me, state, onSaved }: { entity: string; me: Me; state: ViewState; onSaved(view: SavedView): void }) {
  const { t, lang } = useLang();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [scope, setScope] = useState<'private' | 'roles' | 'everyone'>('private');
  const [roles, setRoles] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  const mayShareAll = me.system.includes('views.share');
  const save = async () => {
    setError(undefined);
    try {
      const share = scope === 'everyone' ? { everyone: true } : scope === 'roles' ? { roles } : undefined;
      const r = await post<{ data: SavedView }>(`/api/saved-views/${entity}`, { name, state, ...(share ? { share } : {}) });
      message.success(t('saved'));
      setOpen(false);
      setName('');
      await queryClient.invalidateQueries({ queryKey: ['saved-views', entity] });
      onSaved(r.data);
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <>
      <Button icon={<SaveOutlined />} onClick={() => setOpen(true)}>{t('saveViewAs')}</Button>
      <Modal title={t('saveViewAs')} open={open} onCancel={() => setOpen(false)} onOk={save} okButtonProps={{ disabled: !name.trim() || (scope === 'roles' && !roles.length) }} destroyOnHidden>
        <label htmlFor="mc-view-name" className="mc-login-label">{t('viewName')}</label>
        <Input id="mc-view-name" value={name} maxLength={60} onChange={(e) => setName(e.target.value)} status={error ? 'error' : undefined} />
        {error && <div role="alert" style={{ color: '#cf1322', fontSize: 12, marginTop: 4 }}>{error}</div>}
        <div className="mc-login-label">{t('shareWith')}</div>
        <Radio.Group value={scope} onChange={(e) => setScope(e.target.value)}
          options={[
            { value: 'private', label: t('onlyMe') },
            { value: 'roles', label: t('myRoles') },
            ...(mayShareAll ? [{ value: 'everyone', label: t('everyone') }] : []),
          ]} />
        {scope === 'roles' && (
          <Select mode="multiple" aria-label={t('myRoles')} style={{ width: '100%', marginTop: 8 }} value={roles} onChange={setRoles}
            options={me.roles.map((r) => ({ value: r, label: pick(me.roleLabels?.[r], lang, r) }))} />
        )}
      </Modal>
    </>
  );
}
