/** A transition input that names a record is marked with the entity to pick it from (engine/workflow/input-form.ts). */
import { describe, expect, it } from 'vitest';
import { inputForm } from '../../engine/workflow/input-form.js';

const label = (en: string) => ({ en, 'zh-CN': en });
const fields: Record<string, any> = {
  account: { doc: { label: label('Account') }, reference: { to: 'account' } },
  note: { doc: { label: label('Note') } },
};
const entity = { field: (n: string) => fields[n] } as any;
const model = {
  version: 1,
  dictionaries: new Map(),
  entity: (n: string) => (['user', 'account'].includes(n) ? {} : undefined),
} as any;

describe('transition input forms', () => {
  it('marks inputs written into a reference field, named like one, or declaring one; nothing else', () => {
    const schema = {
      type: 'object',
      properties: {
        owner: { type: 'string' },
        reviewer: { type: 'string', 'x-reference': 'user' },
        account: { type: 'string' },
        note: { type: 'string' },
        nested: { type: 'string' },
        ghost: { type: 'string', 'x-reference': 'no_such_entity' },
        count: { type: 'integer' },
      },
    };
    const actions = [
      {
        type: 'set',
        values: { owner_id: { var: '$input.owner' }, note: { var: '$input.note' }, account: { var: '$input.nested.id' } },
      },
      { type: 'notify', values: { owner_id: { var: '$input.count' } } },
    ];
    const form = inputForm(schema, entity, model, 'en', actions);
    const ref = (n: string) => (form.properties as any)[n]['x-reference'];
    expect(ref('owner')).toBe('user'); // set into owner_id
    expect(ref('reviewer')).toBe('user'); // declared
    expect(ref('account')).toBe('account'); // named like a reference field
    expect(ref('note')).toBeUndefined(); // set into a text field
    expect(ref('nested')).toBeUndefined(); // only $input.<name> itself
    expect(ref('ghost')).toBeUndefined(); // not an entity
    expect(ref('count')).toBeUndefined(); // not a set action
  });
});
