/**
 * Personal settings: language, time zone (stored on the user through PATCH /api/auth/me; every date-time
 * is shown and picked in it), password, and personal API tokens (created — shown once —, listed, revoked).
 */
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { Alert, App, Button, Card, Form, Input, Popconfirm, Segmented, Select, Space, Table, Tag, Typography } from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, errorText, get, post } from '../api';
import { formatDateTime } from '../format';
import { useLang, type Lang } from '../i18n';
import { useMe } from '../meta';
import { setUserTimeZone, userTimeZone, zoneNames } from '../time-zone';

/** This page's own words. */
const WORDS = {
  'zh-CN': {
    passwordChanged: '密码已修改。所有登录会话和 API 令牌都已失效，请用新密码重新登录。',
    passwordHint: '至少 10 个字符；修改后需要重新登录，已有的 API 令牌会被吊销',
    passwordTooShort: '密码至少需要 10 个字符',
    active: '有效', revoked: '已吊销', expired: '已过期', lastUsed: '最近使用', never: '未使用',
    confirmRevoke: '吊销令牌「{name}」？使用它的程序将无法再访问。', revokedOk: '令牌已吊销',
  },
  en: {
    passwordChanged: 'Password changed. Every session and API token has ended; log in with the new password.',
    passwordHint: 'At least 10 characters; you log in again afterwards, and your API tokens are revoked',
    passwordTooShort: 'The password must be at least 10 characters',
    active: 'Active', revoked: 'Revoked', expired: 'Expired', lastUsed: 'Last used', never: 'Never',
    confirmRevoke: 'Revoke the token “{name}”? Programs using it lose access.', revokedOk: 'Token revoked',
  },
};
/** The form's field for each path of the password API's errors. */
const PASSWORD_FIELDS: Record<string, string> = { '/currentPassword': 'current', '/password': 'password', '/newPassword': 'password' };

export default function SettingsPage() {
  const { lang, setLang, t } = useLang();
  const w = (key: keyof (typeof WORDS)['en'], params: Record<string, string> = {}) =>
    WORDS[lang][key].replace(/\{(\w+)\}/g, (_, p) => params[p] ?? '');
  const { message } = App.useApp();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => get('/api/auth/tokens').then((r) => r.data as any[]) });
  const [fresh, setFresh] = useState<string | null>(null);
  const me = useMe();
  const [zoneSaving, setZoneSaving] = useState(false);
  const setZone = async (zone: string | undefined) => {
    setZoneSaving(true);
    try {
      const r = await api('PATCH', '/api/auth/me', { time_zone: zone ?? null });
      setUserTimeZone(r.data.time_zone);
      // Everything on screen was formatted in the old zone: read it again.
      await queryClient.invalidateQueries();
      message.success(t('saved'));
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setZoneSaving(false);
    }
  };
  const [passwordForm] = Form.useForm();
  const changePassword = async (v: { current: string; password: string }) => {
    try {
      await post('/api/auth/password', { currentPassword: v.current, newPassword: v.password });
    } catch (e) {
      if (!(e instanceof ApiError)) return void message.error(errorText(e));
      // Shown at the field the API names (a wrong current password, a weak new one).
      const fields = e.details.filter((d) => d.path && PASSWORD_FIELDS[d.path]);
      if (fields.length === 0) return void message.error(errorText(e));
      passwordForm.setFields(fields.map((d) => ({ name: PASSWORD_FIELDS[d.path!], errors: [d.path === '/currentPassword' ? e.message : d.message] })));
      return;
    }
    // The server ended every session of the user, this one included (and their API tokens): log in again.
    message.success(w('passwordChanged'), 6);
    queryClient.clear();
    navigate('/login', { replace: true });
  };
  const revoke = async (id: string) => {
    try {
      await api('DELETE', `/api/auth/tokens/${id}`);
      message.success(w('revokedOk'));
    } catch (e) {
      message.error(errorText(e));
    }
    void queryClient.invalidateQueries({ queryKey: ['tokens'] });
  };
  const tokenStatus = (r: any) =>
    r.revoked_at ? (
      <Tag>{w('revoked')} · {formatDateTime(lang, r.revoked_at)}</Tag>
    ) : r.expires_at && Date.parse(r.expires_at) <= Date.now() ? (
      <Tag>{w('expired')}</Tag>
    ) : (
      <Tag color="green">{w('active')}</Tag>
    );
  const createToken = async (v: { name: string }) => {
    try {
      const r = await post('/api/auth/tokens', { name: v.name });
      setFresh(r.data.token);
      void queryClient.invalidateQueries({ queryKey: ['tokens'] });
    } catch (e) {
      message.error(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <>
      <div className="mc-page-title"><h1>{t('settings')}</h1></div>
      <Space direction="vertical" style={{ width: '100%', maxWidth: 760 }}>
        <Card size="small" title={t('language')}>
          <Segmented aria-label={t('language')} value={lang} onChange={(v) => setLang(v as Lang)} options={[{ value: 'zh-CN', label: '中文' }, { value: 'en', label: 'English' }]} />
        </Card>
        <Card size="small" title={t('timeZone')}>
          <Select showSearch aria-label={t('timeZone')} style={{ width: 280, maxWidth: '100%' }} value={me.data?.timeZone ?? userTimeZone()} loading={zoneSaving}
            options={zoneNames().map((z) => ({ value: z, label: z }))} onChange={(z) => setZone(z)} data-testid="time-zone" />
          <div style={{ marginTop: 6, color: '#595959', fontSize: 12 }} data-testid="time-zone-now">
            {t('timeZoneNow', { time: formatDateTime(lang, new Date().toISOString()) })}
          </div>
        </Card>
        <Card size="small" title={t('changePassword')}>
          <Form form={passwordForm} layout="vertical" onFinish={changePassword} style={{ maxWidth: 360 }}>
            <Form.Item name="current" label={t('currentPassword')} rules={[{ required: true }]}><Input.Password autoComplete="current-password" /></Form.Item>
            <Form.Item name="password" label={t('newPassword')} extra={w('passwordHint')}
              rules={[{ required: true }, { min: 10, message: w('passwordTooShort') }]}><Input.Password autoComplete="new-password" /></Form.Item>
            <Button htmlType="submit" type="primary">{t('save')}</Button>
          </Form>
        </Card>
        <Card size="small" title={t('apiTokens')}>
          {fresh && (
            <Alert type="success" showIcon closable onClose={() => setFresh(null)} style={{ marginBottom: 8 }}
              message={<>{t('tokenShownOnce')} <Typography.Text code copyable data-testid="new-token">{fresh}</Typography.Text></>} />
          )}
          <Form layout="inline" onFinish={createToken} style={{ marginBottom: 8 }}>
            <Form.Item name="name" label={t('tokenName')} rules={[{ required: true }]}><Input /></Form.Item>
            <Button htmlType="submit">{t('create')}</Button>
          </Form>
          <Table size="small" rowKey="id" pagination={false} dataSource={tokens.data ?? []} loading={tokens.isLoading} scroll={{ x: 'max-content' }}
            data-testid="tokens"
            columns={[
              { key: 'name', dataIndex: 'name', title: t('tokenName') },
              { key: 'created', dataIndex: 'created_at', title: t('createdAt'), render: (v: string) => (v ? formatDateTime(lang, v) : '') },
              { key: 'used', dataIndex: 'last_used_at', title: w('lastUsed'), render: (v: string | null) => (v ? formatDateTime(lang, v) : w('never')) },
              { key: 'status', title: t('status'), render: (_: unknown, r: any) => tokenStatus(r) },
              {
                key: 'revoke', title: '', render: (_: unknown, r: any) =>
                  r.revoked_at ? null : (
                    <Popconfirm title={w('confirmRevoke', { name: r.name })} okButtonProps={{ danger: true }} onConfirm={() => revoke(r.id)}>
                      <Button size="small" danger>{t('revoke')}</Button>
                    </Popconfirm>
                  ),
              },
            ]} />
        </Card>
      </Space>
    </>
  );
}
