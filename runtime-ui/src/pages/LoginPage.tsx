/**
 * Login: username and password, the API's refusal shown in the user's language (wrong password; a
 * locked account with the time it unlocks), then on to the page that was asked for.
 */
import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { Alert, Button, Card, Form, Input, Segmented } from 'antd';
import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { useQueryClient } from '@tanstack/react-query';
import { ApiError, post } from '../api';
import { formatDateTime } from '../format';
import { useLang, type Lang } from '../i18n';

export default function LoginPage() {
  const { lang, setLang, t } = useLang();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (values: { username: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      await post('/api/auth/login', values);
      queryClient.clear();
      const next = params.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'account_locked') {
        const until = /\d{4}-\d\d-\d\dT[\d:.]+Z/.exec(e.message)?.[0] ?? e.body?.error?.lockedUntil;
        setError(until ? t('lockedUntil', { time: formatDateTime(lang, until) }) : e.message);
      } else if (e instanceof ApiError && (e.code === 'invalid_credentials' || e.status === 401)) setError(t('wrongPassword'));
      else setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="mc-login">
      <main className="mc-login-box">
        <Card>
          <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 16 }}>
            <h1 style={{ fontSize: 18, margin: 0 }}>{t('loginTitle')}</h1>
            <Segmented size="small" aria-label={t('language')} value={lang} onChange={(v) => setLang(v as Lang)}
              options={[{ value: 'zh-CN', label: '中文' }, { value: 'en', label: 'EN' }]} />
          </div>
          {params.get('expired') && !error && <Alert type="warning" showIcon message={t('sessionExpired')} style={{ marginBottom: 12 }} />}
          {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} role="alert" data-testid="login-error" />}
          <Form layout="vertical" onFinish={submit} requiredMark={false}>
            <Form.Item label={t('username')} name="username" rules={[{ required: true, message: t('username') }]}>
              <Input prefix={<UserOutlined />} autoComplete="username" autoFocus />
            </Form.Item>
            <Form.Item label={t('password')} name="password" rules={[{ required: true, message: t('password') }]}>
              <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={busy}>
              {t('signIn')}
            </Button>
          </Form>
        </Card>
      </main>
    </div>
  );
}
