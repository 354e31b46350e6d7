/**
 * The record page's "send by e-mail" button (发送邮件): the printed document as a PDF attachment to the
 * addresses given (a customer's buyer), with copies, a subject and a message. The server renders the PDF
 * under the print right, keeps it with the record and queues the mail; refused addresses come back with
 * their place (`/to/1`) and are shown under their field.
 */
import { useState } from 'react';
import { App, Button, Form, Input, Modal, Select } from 'antd';
import { MailOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, get, post } from '../api';
import { useLang } from '../i18n';
import { pick, type Label } from '../meta';

const WORDS = {
  'zh-CN': {
    email: '发送邮件',
    to: '收件人',
    cc: '抄送',
    subject: '主题',
    subjectHint: '默认为单据标题',
    message: '正文',
    template: '单据模板',
    send: '发送',
    queued: '邮件已加入发送队列，PDF 已保存到附件',
    addresses: '输入邮箱地址后回车',
    required: '请至少填写一个收件人',
  },
  en: {
    email: 'E-mail',
    to: 'To',
    cc: 'Cc',
    subject: 'Subject',
    subjectHint: "The document's title by default",
    message: 'Message',
    template: 'Document',
    send: 'Send',
    queued: 'The e-mail is queued; the PDF is kept in the attachments',
    addresses: 'Type an address and press Enter',
    required: 'Give at least one recipient',
  },
};

interface Values {
  to: string[];
  cc?: string[];
  subject?: string;
  message?: string;
  template?: string;
}

export function EmailButton({ entity, id }: { entity: string; id: string }) {
  const { lang } = useLang();
  const w = WORDS[lang];
  const { message } = App.useApp();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [sending, setSending] = useState(false);
  const [form] = Form.useForm<Values>();
  const templates = useQuery({
    queryKey: ['print-templates', entity],
    queryFn: () => get<{ data: { name: string; label: Label }[] }>(`/api/data/${entity}/print-templates`).then((r) => r.data),
    staleTime: 60_000,
  });
  if (!templates.data?.length) return null;

  const send = async (values: Values) => {
    setSending(true);
    try {
      await post(`/api/data/${entity}/${id}/email`, {
        to: values.to,
        ...(values.cc?.length ? { cc: values.cc } : {}),
        ...(values.subject ? { subject: values.subject } : {}),
        ...(values.message ? { message: values.message } : {}),
        ...(values.template ? { template: values.template } : {}),
      });
      message.success(w.queued);
      setOpen(false);
      form.resetFields();
      void client.invalidateQueries({ queryKey: ['attachments', entity, id] });
    } catch (e) {
      if (e instanceof ApiError && e.details.length) {
        // "/to/1" → the "to" field; several problems of one field read as one line.
        const byField = new Map<string, string[]>();
        for (const d of e.details) {
          const field = (d.path ?? '').split('/')[1] ?? '';
          byField.set(field, [...(byField.get(field) ?? []), d.message]);
        }
        form.setFields([...byField].map(([name, errors]) => ({ name: name as keyof Values, errors })));
      } else message.error(e instanceof Error ? e.message : String(e));
    } finally {
      setSending(false);
    }
  };

  const addresses = (name: 'to' | 'cc', label: string, required = false) => (
    <Form.Item name={name} label={label} rules={required ? [{ required: true, message: w.required }] : []}>
      <Select mode="tags" open={false} tokenSeparators={[',', ';', ' ', '，', '；']} placeholder={w.addresses} aria-label={label} />
    </Form.Item>
  );

  return (
    <>
      <Button icon={<MailOutlined />} onClick={() => setOpen(true)}>
        {w.email}
      </Button>
      <Modal
        title={w.email}
        open={open}
        onCancel={() => {
          setOpen(false);
          form.resetFields();
        }}
        onOk={() => form.submit()}
        okText={w.send}
        confirmLoading={sending}
        destroyOnHidden
      >
        <Form form={form} layout="vertical" onFinish={send} initialValues={{ template: templates.data[0]!.name }}>
          {addresses('to', w.to, true)}
          {addresses('cc', w.cc)}
          {templates.data.length > 1 && (
            <Form.Item name="template" label={w.template}>
              <Select options={templates.data.map((t) => ({ value: t.name, label: pick(t.label, lang, t.name) }))} />
            </Form.Item>
          )}
          <Form.Item name="subject" label={w.subject}>
            <Input placeholder={w.subjectHint} maxLength={200} />
          </Form.Item>
          <Form.Item name="message" label={w.message}>
            <Input.TextArea rows={4} maxLength={5000} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
