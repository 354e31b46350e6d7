/**
 * A user's name from their id (owner, created by, …: system fields the API cannot expand). Ids asked for
 * in the same tick are fetched in one request.
 */
import { useQuery } from '@tanstack/react-query';
import { get, qs } from '../api';

let pending: Map<string, ((name: string | null) => void)[]> | null = null;

function flush(batch: Map<string, ((name: string | null) => void)[]>) {
  const ids = [...batch.keys()];
  get(`/api/data/user${qs({ filter: JSON.stringify({ in: [{ var: 'id' }, ids] }), fields: 'display_name', limit: 500 })}`)
    .then((r) => new Map<string, string>((r.data as any[]).map((u) => [u.id, u.display_name])))
    .catch(() => new Map<string, string>())
    .then((names) => {
      for (const [id, waiting] of batch) for (const resolve of waiting) resolve(names.get(id) ?? null);
    });
}

export function userName(id: string): Promise<string | null> {
  return new Promise((resolve) => {
    if (!pending) {
      pending = new Map();
      const batch = pending;
      setTimeout(() => {
        pending = null;
        flush(batch);
      }, 0);
    }
    pending.set(id, [...(pending.get(id) ?? []), resolve]);
  });
}

export function UserName({ id }: { id: string }) {
  const name = useQuery({ queryKey: ['user-name', id], queryFn: () => userName(id), staleTime: 300_000 });
  return <span>{name.data ?? (name.isLoading ? '…' : id.slice(0, 8))}</span>;
}
