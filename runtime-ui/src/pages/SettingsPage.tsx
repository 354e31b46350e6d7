/**
 * Personal settings: language, time zone (stored on the user through PATCH /api/auth/me; every date-time
 * is shown and picked in it), password, and personal API tokens (created — shown once —, listed, revoked).
 */
import { useState } from 'react';
import { Alert, App, Button, Card, Form, Input, Segmented, Select, Space, Table, Typography } from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, errorText, get, post } from '../api';
import { formatDateTime } from '../format';
import { useLang, type Lang } from '../i18n';
import { useMe } from '../meta';
import { setUserTimeZone, userTimeZone, zoneNames } from '../time-zone';

export default function SettingsPage() {
  const { lang, setLang, t } = useLang();
  const { message } = App.useApp();
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
      message.success(t('saved'));
      passwordForm.resetFields();
    } catch (e) {
      message.error(errorText(e));
    }
  };
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
            <Form.Item name="password" label={t('newPassword')} rules={[{ required: true }]}><Input.Password autoComplete="new-password" /></Form.Item>
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
          <Table size="small" rowKey="id" pagination={false} dataSource={tokens.data ?? []} loading={tokens.isLoading}
            columns={[
              { key: 'name', dataIndex: 'name', title: t('tokenName') },
              { key: 'created', dataIndex: 'created_at', title: t('createdAt'), render: (v: string) => (v ? formatDateTime(lang, v) : '') },
              { key: 'status', dataIndex: 'revoked_at', title: t('status'), render: (v: string | null) => (v ? t('revoke') + ' · ' + formatDateTime(lang, v) : '') },
              {
                key: 'revoke', title: '', render: (_: unknown, r: any) => (
                  <Button size="small" danger onClick={async () => {
                    await api('DELETE', `/api/auth/tokens/${r.id}`);
                    void queryClient.invalidateQueries({ queryKey: ['tokens'] });
                  }}>{t('revoke')}</Button>
                ),
              },
            ]} />
        </Card>
      </Space>
    </>
  );
}
