/**
 * The frame around every page once logged in: navigation generated from the deployed apps and the
 * entities the user may read, the notification bell, the language switch and the user menu. Redirects
 * to the login (remembering the page asked for) when there is no session.
 */
import { Suspense, useEffect, useMemo, useState } from 'react';
import { Navigate, Outlet, useLocation, useNavigate } from 'react-router';
import { Button, Dropdown, Grid, Layout, Menu, Radio, Spin } from 'antd';
import { AuditOutlined, DashboardOutlined, HomeOutlined, LogoutOutlined, MenuOutlined, SettingOutlined, UserOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, get, post } from '../api';
import { useLang, type Lang } from '../i18n';
import { mayRead, pick, useApps, useEntityLabels, useMe } from '../meta';
import { setUserTimeZone } from '../time-zone';
import { NotificationBell } from './NotificationBell';
import { GlobalSearch } from '../search/GlobalSearch';

export function Shell() {
  const me = useMe();
  const apps = useApps();
  const labels = useEntityLabels();
  // Asked once the session is known to be good (an expired one answers only the one 401, from /me).
  const dashboards = useQuery({
    queryKey: ['dashboards', 'any'],
    enabled: Boolean(me.data),
    staleTime: 300_000,
    queryFn: () => get<{ data: unknown[] }>('/api/dashboards').then((r) => r.data),
  });
  const { lang, setLang, t, adoptUser, userId } = useLang();
  const location = useLocation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const screens = Grid.useBreakpoint();
  const phone = !screens.md;
  const [menuOpen, setMenuOpen] = useState(false);

  // The user's saved language applies from their first page on; leaving (logout, expiry) forgets the user.
  const meId = me.data?.user.id;
  useEffect(() => {
    if (!meId) return;
    adoptUser(meId, me.data?.language);
    return () => adoptUser(undefined);
    // biome-ignore lint/correctness/useExhaustiveDependencies: adopted once per user; later switches are the user's own
  }, [meId, adoptUser]);
  useEffect(() => setMenuOpen(false), [location.pathname]);

  const items = useMemo(() => {
    if (!me.data || !apps.data) return [];
    const readable = (e: string) => mayRead(me.data, e);
    const groups = apps.data
      .map((app) => ({
        key: `app:${app.name}`,
        type: 'group' as const,
        label: pick(app.label, lang, app.name),
        children: (app.modules ?? []).filter(readable).map((e) => ({
          key: `/l/${e}`,
          label: pick(labels.data?.[e]?.pluralLabel ?? labels.data?.[e]?.label, lang, e),
        })),
      }))
      .filter((g) => g.children.length);
    return [
      { key: '/', icon: <HomeOutlined />, label: t('home') },
      { key: '/inbox', icon: <AuditOutlined />, label: t('inbox') },
      ...(dashboards.data?.length ? [{ key: '/d', icon: <DashboardOutlined />, label: t('dashboards') }] : []),
      ...groups,
    ];
  }, [me.data, apps.data, labels.data, lang, t, dashboards.data]);

  if (me.error instanceof ApiError && me.error.status === 401) {
    const next = location.pathname + location.search;
    return <Navigate to={`/login${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`} replace />;
  }
  // Until the user's own language is adopted, nothing renders (no page asks the server in another language).
  if (!me.data || userId !== me.data.user.id) return <Spin fullscreen />;
  // Before any page renders a date-time: the user's zone (idempotent, so harmless on every render).
  setUserTimeZone(me.data.timeZone);

  const selected = location.pathname.startsWith('/d')
    ? '/d'
    : '/' + location.pathname.split('/').filter(Boolean).slice(0, 2).join('/').replace(/^[rk]\//, 'l/');
  const menu = (
    <Menu mode="inline" items={items} selectedKeys={[selected === '/' ? '/' : selected]} onClick={(e) => navigate(e.key)} style={{ borderInlineEnd: 0 }} />
  );
  const logout = async () => {
    await post('/api/auth/logout').catch(() => undefined);
    queryClient.clear();
    navigate('/login');
  };

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Header className="mc-header">
        {phone && <Button type="text" aria-label="menu" icon={<MenuOutlined />} onClick={() => setMenuOpen(!menuOpen)} />}
        <span className="mc-brand">metacrm</span>
        <span style={{ flex: 1 }} />
        <GlobalSearch phone={phone} />
        <NotificationBell />
        {/* Radio buttons, not Segmented: the list's table brings Radio anyway, so the frame costs nothing more. */}
        <Radio.Group
          size="small"
          optionType="button"
          aria-label={t('language')}
          value={lang}
          onChange={(e) => setLang(e.target.value as Lang)}
          options={[{ value: 'zh-CN', label: '中文' }, { value: 'en', label: 'EN' }]}
        />
        <Dropdown
          menu={{
            items: [
              { key: 'settings', icon: <SettingOutlined />, label: t('settings'), onClick: () => navigate('/settings') },
              { key: 'logout', icon: <LogoutOutlined />, label: t('logout'), onClick: logout },
            ],
          }}
        >
          <Button type="text" icon={<UserOutlined />} aria-label={phone ? `${me.data.user.displayName} · ${t('settings')}` : undefined}>
            {!phone && me.data.user.displayName}
          </Button>
        </Dropdown>
      </Layout.Header>
      <Layout>
        {!phone && (
          <Layout.Sider width={200} theme="light" style={{ borderInlineEnd: '1px solid #e5e8ed' }}>
            <nav aria-label={t('apps')}>{menu}</nav>
          </Layout.Sider>
        )}
        <Layout.Content className="mc-content">
          {phone && menuOpen && <nav aria-label={t('apps')} style={{ marginBottom: 8 }}>{menu}</nav>}
          <Suspense fallback={<Spin />}>
            <main>
              <Outlet />
            </main>
          </Suspense>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
