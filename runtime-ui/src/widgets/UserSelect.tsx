/** Picks an active user by searching the user entity on the server (assign, delegate, share). */
import { useState } from 'react';
import { Select } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { get, qs } from '../api';

export function UserSelect({ value, onChange, label, multiple }: { value?: any; onChange(v: any): void; label: string; multiple?: boolean }) {
  const [q, setQ] = useState('');
  const users = useQuery({
    queryKey: ['users', q],
    queryFn: () => get(`/api/data/user${qs({ q: q || undefined, limit: 20, fields: 'display_name,username' })}`).then((r) => r.data as any[]),
  });
  return (
    <Select aria-label={label} mode={multiple ? 'multiple' : undefined} showSearch filterOption={false} onSearch={setQ} value={value} onChange={onChange} style={{ width: '100%' }}
      loading={users.isFetching} options={(users.data ?? []).map((u) => ({ value: u.id, label: `${u.display_name} (${u.username})` }))} />
  );
}
