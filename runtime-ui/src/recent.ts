/** Recently viewed records, kept in this browser per user (the record page adds to it). */
export interface Recent {
  entity: string;
  id: string;
  title: string;
  entityLabel: string;
  at: number;
}
const key = (userId: string) => `mc.recent.${userId}`;

export function recentRecords(userId: string): Recent[] {
  try {
    return JSON.parse(localStorage.getItem(key(userId)) ?? '[]');
  } catch {
    return [];
  }
}
export function rememberRecord(userId: string, item: Omit<Recent, 'at'>) {
  const list = [{ ...item, at: Date.now() }, ...recentRecords(userId).filter((r) => !(r.entity === item.entity && r.id === item.id))];
  localStorage.setItem(key(userId), JSON.stringify(list.slice(0, 12)));
}
