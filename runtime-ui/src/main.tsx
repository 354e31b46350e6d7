/**
 * Entry point: providers (server state, language, antd locale and theme) and the routes. Every page is
 * its own chunk, loaded when first visited, so the login and the list ship without the form engine.
 */
// antd 5 renders its pop-ups with React 18's API unless patched for React 19.
import '@ant-design/v5-patch-for-react-19';
import { StrictMode, useCallback, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, RouterProvider } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp, ConfigProvider, message } from 'antd';
import zhCN from 'antd/locale/zh_CN';
import enUS from 'antd/locale/en_US';
import { api, ApiError, errorText, setApiLanguage, setUnauthenticatedHandler } from './api';
import { LangContext, serverLanguage, storedLang, storeLang, translate, type Lang } from './i18n';
import type { Me } from './meta';
import { Shell } from './shell/Shell';
import './widgets/cells';
import './widgets/file-widget';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: (n, e) => !(e instanceof ApiError && e.status < 500) && n < 2, refetchOnWindowFocus: false },
  },
});

// Plugin widgets (plugins/<name>/ui.tsx) register themselves like the built-in ones.
import.meta.glob('../../plugins/*/ui.tsx', { eager: true });

const page = (load: () => Promise<{ default: React.ComponentType }>) => async () => ({ Component: (await load()).default });

const router = createBrowserRouter([
  { path: '/login', lazy: page(() => import('./pages/LoginPage')) },
  {
    path: '/',
    element: <Shell />,
    children: [
      { index: true, lazy: page(() => import('./pages/HomePage')) },
      { path: 'l/:entity', lazy: page(() => import('./list/ListPage')) },
      { path: 'k/:entity', lazy: page(() => import('./pages/KanbanPage')) },
      { path: 'c/:entity', lazy: page(() => import('./calendar/CalendarPage')) },
      { path: 'import/:entity', lazy: page(() => import('./import/ImportPage')) },
      { path: 'r/:entity/:id', lazy: page(() => import('./record/RecordPage')) },
      { path: 'inbox', lazy: page(() => import('./pages/InboxPage')) },
      { path: 'd/:name?', lazy: page(() => import('./dashboard/DashboardPage')) },
      { path: 'settings', lazy: page(() => import('./pages/SettingsPage')) },
      { path: '*', lazy: page(() => import('./pages/NotFoundPage')) },
    ],
  },
]);

setUnauthenticatedHandler(() => {
  const here = window.location.pathname + window.location.search;
  if (window.location.pathname === '/login') return;
  queryClient.clear();
  void router.navigate(`/login?expired=1&next=${encodeURIComponent(here)}`, { replace: true });
});

/**
 * Whoever asked their system for less motion gets none: antd's zooms, slides and fades are switched off
 * (WCAG 2.3.3). Browser tests ask for it too, so a click never lands on a dialog still growing into place.
 */
const reducedMotion = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false;

function Root() {
  const [lang, setLangState] = useState<Lang>(() => storedLang());
  const [userId, setUserId] = useState<string | undefined>();
  useEffect(() => {
    setApiLanguage(lang);
    document.documentElement.lang = lang;
  }, [lang]);
  const setLang = useCallback(
    (next: Lang) => {
      storeLang(next);
      setApiLanguage(next);
      setLangState(next);
      if (!userId) return;
      // The user's own choice, kept on the server: the next login, in any browser, starts in it.
      api('PATCH', '/api/auth/me', { language: serverLanguage(next) }).then(
        () => queryClient.setQueryData<Me>(['me'], (me) => (me ? { ...me, language: next } : me)),
        (e) => message.error(errorText(e)),
      );
    },
    [userId],
  );
  // Once the user is known, the language saved for them wins (and becomes this browser's last choice).
  const adoptUser = useCallback((id: string | undefined, saved?: Lang | null) => {
    setUserId(id);
    if (id && saved) {
      storeLang(saved);
      setLangState(saved);
    }
  }, []);
  const value = useMemo(
    () => ({ lang, setLang, adoptUser, userId, t: (k: any, p?: any) => translate(lang, k, p) }),
    [lang, setLang, adoptUser, userId],
  );
  setApiLanguage(lang);
  return (
    <LangContext.Provider value={value}>
      <ConfigProvider
        locale={lang === 'zh-CN' ? zhCN : enUS}
        componentSize="middle"
        // antd spaces out two-character Chinese button texts ("同 意"); Chinese business software does not.
        button={{ autoInsertSpace: false }}
        theme={{
          token: { motion: !reducedMotion, colorPrimary: '#1f5fbf', borderRadius: 4, fontSize: 13, controlHeight: 30, colorTextDescription: 'rgba(0,0,0,0.62)', colorError: '#cf1322',
            // WCAG AA contrast on white for secondary text and links (antd's defaults are lighter).
            colorTextSecondary: 'rgba(0,0,0,0.65)', colorTextTertiary: 'rgba(0,0,0,0.6)', colorLink: '#1a55ad' },
          components: { Table: { cellPaddingBlock: 6 }, Menu: { itemHeight: 34, groupTitleColor: 'rgba(0,0,0,0.62)' } },
        }}
      >
        <AntApp>
          <RouterProvider router={router} />
        </AntApp>
      </ConfigProvider>
    </LangContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <Root />
    </QueryClientProvider>
  </StrictMode>,
);
