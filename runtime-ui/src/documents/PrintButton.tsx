/** The record page's print button: the entity's print templates, each as PDF or HTML in a new tab. */
import { Button, Dropdown } from 'antd';
import { PrinterOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { get } from '../api';
import { useLang } from '../i18n';
import { pick, type Label } from '../meta';

const WORDS = { 'zh-CN': { print: '打印', html: '网页版' }, en: { print: 'Print', html: 'as a web page' } };

export function PrintButton({ entity, id }: { entity: string; id: string }) {
  const { lang } = useLang();
  const templates = useQuery({
    queryKey: ['print-templates', entity],
    queryFn: () => get<{ data: { name: string; label: Label }[] }>(`/api/data/${entity}/print-templates`).then((r) => r.data),
    staleTime: 60_000,
  });
  if (!templates.data?.length) return null;
  const url = (name: string, format: 'pdf' | 'html') => `/api/data/${entity}/${id}/print?template=${name}&format=${format}`;
  const open = (name: string, format: 'pdf' | 'html') => window.open(url(name, format), '_blank', 'noopener');
  return (
    <Dropdown.Button
      icon={<PrinterOutlined />}
      onClick={() => open(templates.data![0].name, 'pdf')}
      menu={{
        items: templates.data.flatMap((tpl) => [
          { key: `${tpl.name}:pdf`, label: `${pick(tpl.label, lang, tpl.name)} (PDF)`, onClick: () => open(tpl.name, 'pdf') },
          { key: `${tpl.name}:html`, label: `${pick(tpl.label, lang, tpl.name)} (${WORDS[lang].html})`, onClick: () => open(tpl.name, 'html') },
        ]),
      }}
    >
      <PrinterOutlined /> {WORDS[lang].print}
    </Dropdown.Button>
  );
}
