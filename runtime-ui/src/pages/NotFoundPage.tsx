/** Any path the router does not know. */
import { Button, Result } from 'antd';
import { Link } from 'react-router';
import { useLang } from '../i18n';

export default function NotFoundPage() {
  const { t } = useLang();
  return <Result status="404" title={t('notFound')} extra={<Link to="/"><Button>{t('home')}</Button></Link>} />;
}
