/**
 * Login: username and password, the API's refusal shown in the user's language (wrong password; a
 * locked account with the time it unlocks), then on to the page that was asked for.
 */
import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { Alert, Button, Input, Radio } from 'antd';
import { Panel } from '../ui/Panel';
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

  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const values = { username: username.trim(), password };
    if (!values.username || !values.password) return setError(t(values.username ? 'password' : 'username'));
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
        <Panel>
          <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 16 }}>
            <h1 style={{ fontSize: 18, margin: 0 }}>{t('loginTitle')}</h1>
            {/* Radio buttons as in the header: the frame brings them anyway. */}
            <Radio.Group size="small" optionType="button" aria-label={t('language')} value={lang} onChange={(e) => setLang(e.target.value as Lang)}
              options={[{ value: 'zh-CN', label: '中文' }, { value: 'en', label: 'EN' }]} />
          </div>
          {params.get('expired') && !error && <Alert type="warning" showIcon message={t('sessionExpired')} style={{ marginBottom: 12 }} />}
          {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} role="alert" data-testid="login-error" />}
          {/* A plain form: the login ships before the rest of the UI and needs no form library. */}
          <form onSubmit={submit} noValidate>
            <label htmlFor="username" className="mc-login-label">{t('username')}</label>
            <Input id="username" prefix={<UserOutlined />} autoComplete="username" autoFocus value={username} onChange={(e) => setUsername(e.target.value)} />
            <label htmlFor="password" className="mc-login-label">{t('password')}</label>
            <Input.Password id="password" prefix={<LockOutlined />} autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
            <Button type="primary" htmlType="submit" block loading={busy} style={{ marginTop: 20 }}>
              {t('signIn')}
            </Button>
          </form>
        </Panel>
      </main>
    </div>
  );
}
