/**
 * The sales sample's quotes, as a rep works them: lines with price and cost snapshots, the quote's
 * totals and gross margin, the price floor and the rep's price level refused with code and path, new
 * versions by copy; the decision chain's weighted support score and the competitors' overall score on
 * an opportunity; order lines adding up to the order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drivers } from '../support/engine.js';
import { startOrg, type Org } from '../access/org.js';

describe.each(drivers)('quotes, decision chain and competitors (sales sample) on %s', (driver) => {
  let o: Org;
  let opportunity: any;
  let erp: any;
  let server: any;
  beforeAll(async () => {
    o = await startOrg(driver);
    const products = await o.e.call('POST', '/api/data/product', [
      { name: 'ERP 标准版', code: 'ERP-T1', unit: '套', list_price: 100000, cost: 55000, floor_price: 80000 },
      { name: '服务器', code: 'SRV-T1', unit: '台', list_price: 50000, cost: 40000, floor_price: 40000 },
    ]);
    expect(products.status, JSON.stringify(products.body)).toBe(201);
    [erp, server] = products.body.data;
    opportunity = (
      await o.as('rep_east', 'POST', '/api/data/opportunity', {
        title: '报价商机',
        account: o.accounts.rep_east.id,
        amount: 300000,
      })
    ).body.data;
    // The director gives rep_east price level 3: at least 90 % of the list price.
    const authority = await o.as('director', 'POST', '/api/data/price_authority', {
      user: o.ids.rep_east,
      price_level: 'level_3',
    });
    expect(authority.status, JSON.stringify(authority.body)).toBe(201);
    expect(authority.body.data.factor).toBe(0.9);
  }, 90_000);
  afterAll(() => o?.e.stop());

  const count = async (entity: string) => (await o.e.call('GET', `/api/data/${entity}?count=true&limit=1`)).body.total as number;

  it('prices lines from the catalogue and adds up the quote: total, cost, gross margin', async () => {
    const res = await o.as('rep_east', 'POST', '/api/data/quote', {
      opportunity: opportunity.id,
      lines: [
        { product: erp.id, quantity: 2, discount: 5 },
        { product: server.id, quantity: 1 },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const q = res.body.data;
    expect(q.lines.map((l: any) => [l.line_no, l.unit, l.unit_price, l.net_price, l.amount, l.unit_cost, l.margin])).toEqual([
      [1, '套', 100000, 95000, 190000, 55000, 80000],
      [2, '台', 50000, 50000, 50000, 40000, 10000],
    ]);
    expect(q).toMatchObject({
      version_no: 1,
      line_count: 2,
      lines_total: 240000,
      cost_total: 150000,
      quoted_amount: 240000,
      gross_margin: 90000,
    });
    expect(q.margin_rate).toBe(37.5);

    // The catalogue changes: the quoted prices stay (snapshots), the unit of sale follows (a formula).
    const p = (await o.e.call('GET', `/api/data/product/${erp.id}`)).body.data;
    expect(
      (await o.e.call('PATCH', `/api/data/product/${erp.id}`, { version: p.version, list_price: 120000, unit: '套件' })).status,
    ).toBe(200);
    const after = (await o.as('rep_east', 'GET', `/api/data/quote/${q.id}`)).body.data;
    expect(after.lines[0]).toMatchObject({ unit: '套件', unit_price: 100000, amount: 190000 });
    expect(after.lines_total).toBe(240000);
    await o.e.call('PATCH', `/api/data/product/${erp.id}`, { version: p.version + 1, list_price: 100000, unit: '套' });
  });

  it('refuses a line below the floor price or below the rep’s price level, with code and path, writing nothing', async () => {
    const quotes = await count('quote');
    const lines = await count('quote_line');
    // 12 % off the server: 44,000 ≥ 40,000 floor but below 90 % of the list price (rep_east's level).
    const level = await o.as(
      'rep_east',
      'POST',
      '/api/data/quote',
      {
        opportunity: opportunity.id,
        lines: [
          { product: erp.id, quantity: 1 },
          { product: server.id, quantity: 1, discount: 12 },
        ],
      },
      { 'accept-language': 'zh-CN' },
    );
    expect(level.status).toBe(409);
    expect(level.body.error.code).toBe('price_level_exceeded');
    expect(level.body.error.details[0].path).toBe('/lines/1/discount');
    expect(level.body.error.message).toMatch(/价格级数/);
    // 25 % off the server: below its floor price.
    const floor = await o.as('rep_east', 'POST', '/api/data/quote', {
      opportunity: opportunity.id,
      lines: [{ product: server.id, quantity: 1, discount: 25 }],
    });
    expect(floor.status).toBe(409);
    expect(floor.body.error.code).toBe('price_below_floor');
    expect(floor.body.error.details[0].path).toBe('/lines/0/unit_price');
    expect(await count('quote')).toBe(quotes);
    expect(await count('quote_line')).toBe(lines);
    // The manager (no price authority) is held to the floor only: 12 % off is fine for them.
    const manager = await o.as('manager_east', 'POST', '/api/data/quote', {
      opportunity: (
        await o.as('manager_east', 'POST', '/api/data/opportunity', { title: '经理商机', account: o.accounts.manager_east.id })
      ).body.data.id,
      lines: [{ product: server.id, quantity: 1, discount: 12 }],
    });
    expect(manager.status, JSON.stringify(manager.body)).toBe(201);
    // Editing a line below the level later is refused the same way.
    const ok = (
      await o.as('rep_east', 'POST', '/api/data/quote', {
        opportunity: opportunity.id,
        lines: [{ product: erp.id, quantity: 1 }],
      })
    ).body.data;
    const edit = await o.as('rep_east', 'PATCH', `/api/data/quote/${ok.id}`, {
      version: ok.version,
      lines: [{ ...ok.lines[0], discount: 12 }],
    });
    expect([edit.status, edit.body.error.code, edit.body.error.details[0].path]).toEqual([
      409,
      'price_level_exceeded',
      '/lines/0/discount',
    ]);
  });

  it('lines follow their quote: the rep edits and removes a line the manager added, held to the rep’s own price level', async () => {
    const q = (
      await o.as('rep_east', 'POST', '/api/data/quote', {
        opportunity: opportunity.id,
        lines: [{ product: erp.id, quantity: 1 }],
      })
    ).body.data;
    // The manager may update the rep's quote (department scope) and adds a line: the line is the manager's.
    const added = await o.as('manager_east', 'PATCH', `/api/data/quote/${q.id}`, {
      version: q.version,
      lines: [...q.lines, { product: server.id, quantity: 1 }],
    });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    const managerLine = added.body.data.lines[1];
    expect(managerLine.owner_id).toBe(o.ids.manager_east);
    // The rep reads it in the quote and changes it there …
    const mine = (await o.as('rep_east', 'GET', `/api/data/quote/${q.id}`)).body.data;
    expect(mine.lines.map((l: any) => l.id)).toEqual([q.lines[0].id, managerLine.id]);
    const edited = await o.as('rep_east', 'PATCH', `/api/data/quote/${q.id}`, {
      version: mine.version,
      lines: [mine.lines[0], { ...mine.lines[1], quantity: 3 }],
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body.data.lines[1]).toMatchObject({ id: managerLine.id, quantity: 3, owner_id: o.ids.manager_east });
    expect(edited.body.data.lines_total).toBe(250000);
    // … at the rep's own price level (the manager has none: 12 % off would pass for them).
    const below = await o.as('rep_east', 'PATCH', `/api/data/quote/${q.id}`, {
      version: edited.body.data.version,
      lines: [edited.body.data.lines[0], { ...edited.body.data.lines[1], discount: 12 }],
    });
    expect([below.status, below.body.error.code, below.body.error.details[0].path]).toEqual([
      409,
      'price_level_exceeded',
      '/lines/1/discount',
    ]);
    // On the line's own route the line keeps its own scope: not the rep's.
    expect((await o.as('rep_east', 'GET', `/api/data/quote_line/${managerLine.id}`)).status).toBe(404);
    // Another rep, who may not update the quote, reaches none of it.
    const other = await o.as('rep_north', 'PATCH', `/api/data/quote/${q.id}`, { version: edited.body.data.version, lines: [] });
    expect(other.status).toBe(404);
    // The rep removes the manager's line with the quote.
    const removed = await o.as('rep_east', 'PATCH', `/api/data/quote/${q.id}`, {
      version: edited.body.data.version,
      lines: [edited.body.data.lines[0]],
    });
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body.data.lines.map((l: any) => l.id)).toEqual([q.lines[0].id]);
    expect((await o.e.call('GET', `/api/data/quote_line/${managerLine.id}`)).status).toBe(404);
  });

  it('makes a new version of a quote by copying it with its lines', async () => {
    const v1 = (
      await o.as('rep_east', 'POST', '/api/data/quote', {
        opportunity: opportunity.id,
        valid_until: '2026-12-31',
        discount: 2,
        lines: [
          { product: erp.id, quantity: 1 },
          { product: server.id, quantity: 2 },
        ],
      })
    ).body.data;
    const res = await o.as('rep_east', 'POST', `/api/data/quote/${v1.id}/copy`, { notes: '第二版' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const v2 = res.body.data;
    expect(v2).toMatchObject({
      version_no: 2,
      previous_version: v1.id,
      approval_status: 'draft',
      valid_until: null,
      discount: 2,
      notes: '第二版',
      lines_total: 200000,
      quoted_amount: 196000,
    });
    expect(v2.quote_no).not.toBe(v1.quote_no);
    expect(v2.lines.map((l: any) => [l.product, l.quantity])).toEqual([
      [erp.id, 1],
      [server.id, 2],
    ]);
    // Marketing has no create right on quotes.
    expect((await o.as('marketing', 'POST', `/api/data/quote/${v1.id}/copy`)).status).toBe(403);
    const form = (await o.as('rep_east', 'GET', '/api/meta/forms/quote?lang=zh-CN')).body.data;
    expect(form.create.properties.lines).toMatchObject({ type: 'array', title: '报价明细' });
  });

  it('locks the lines with their quote while its approval is pending', async () => {
    const q = (
      await o.as('rep_east', 'POST', '/api/data/quote', {
        opportunity: opportunity.id,
        discount: 15,
        lines: [{ product: erp.id, quantity: 1 }],
      })
    ).body.data;
    expect((await o.as('rep_east', 'POST', `/api/data/quote/${q.id}/approval/submit`)).status).toBe(200);
    const [line] = q.lines;
    const edit = await o.as('rep_east', 'PATCH', `/api/data/quote_line/${line.id}`, { version: line.version, quantity: 5 });
    expect([edit.status, edit.body.error.code]).toEqual([423, 'record_locked']);
    const add = await o.as('rep_east', 'POST', '/api/data/quote_line', { quote: q.id, product: server.id, quantity: 1 });
    expect(add.status).toBe(423);
    // In a bulk create, one line for the pending quote refuses them all: the open quote gets none either.
    const open = (await o.as('rep_east', 'POST', '/api/data/quote', { opportunity: opportunity.id, discount: 0 })).body.data;
    const bulk = await o.as('rep_east', 'POST', '/api/data/quote_line', [
      { quote: open.id, product: server.id, quantity: 1 },
      { quote: q.id, product: server.id, quantity: 1 },
    ]);
    expect([bulk.status, bulk.body.error.code]).toEqual([423, 'record_locked']);
    expect((await o.as('rep_east', 'GET', `/api/data/quote/${open.id}`)).body.data.lines).toEqual([]);
    expect((await o.as('rep_east', 'DELETE', `/api/data/quote_line/${line.id}`)).status).toBe(423);
    const viaQuote = await o.as('rep_east', 'PATCH', `/api/data/quote/${q.id}`, { version: q.version + 1, lines: [] });
    expect(viaQuote.status).toBe(423);
    const after = (await o.as('rep_east', 'GET', `/api/data/quote/${q.id}`)).body.data;
    expect(after.lines.map((l: any) => l.quantity)).toEqual([1]);
  });

  it('scores the decision chain and the competitors on the opportunity', async () => {
    const contacts = await o.as('rep_east', 'POST', '/api/data/contact', [
      { name: '王总', account: o.accounts.rep_east.id },
      { name: '李工', account: o.accounts.rep_east.id },
      { name: '赵经理', account: o.accounts.rep_east.id },
    ]);
    expect(contacts.status, JSON.stringify(contacts.body)).toBe(201);
    const [wang, li, zhao] = contacts.body.data;
    const opp = (await o.as('rep_east', 'GET', `/api/data/opportunity/${opportunity.id}`)).body.data;
    const res = await o.as('rep_east', 'PATCH', `/api/data/opportunity/${opportunity.id}`, {
      version: opp.version,
      decision_chain: [
        { contact: wang.id, decision_role: 'final_decision', attitude: 'support', influence: 'high' }, // 0.35 × 1 × 1.5 × 100 = 52.5
        { contact: li.id, decision_role: 'technical_decision', attitude: 'opposed', influence: 'medium' }, // 0.15 × −1 × 1 × 100 = −15
        { contact: zhao.id, decision_role: 'financial_decision', attitude: 'neutral' }, // 0
      ],
      competition: [
        {
          competitor: '用友网络',
          quoted_price: 280000,
          relationship: 4,
          reputation: 5,
          strength: 5,
          solution: 3,
          value_for_money: 3,
          past_cooperation: 4,
        },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.decision_chain.map((m: any) => m.support_score)).toEqual([52.5, -15, 0]);
    expect(res.body.data.support_score).toBe(37.5);
    expect(res.body.data.competition[0].overall_score).toBe(4);
    // The technical decision-maker comes round: the score follows.
    const [, member] = res.body.data.decision_chain;
    const turned = await o.as('rep_east', 'PATCH', `/api/data/decision_member/${member.id}`, {
      version: member.version,
      attitude: 'strong_support',
    });
    expect(turned.status).toBe(200);
    expect((await o.as('rep_east', 'GET', `/api/data/opportunity/${opportunity.id}`)).body.data.support_score).toBe(82.5);
    // A score outside 1–5 is refused at its row.
    const bad = await o.as('rep_east', 'PATCH', `/api/data/opportunity/${opportunity.id}`, {
      version: res.body.data.version,
      competition: [{ ...res.body.data.competition[0], solution: 6 }],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: any) => d.path)).toContain('/competition/0/solution');
  });

  it('adds up order lines', async () => {
    const res = await o.as('rep_east', 'POST', '/api/data/order', {
      account: o.accounts.rep_east.id,
      status: 'accepted',
      lines: [
        { product: erp.id, quantity: 2, discount: 10 },
        { product: server.id, quantity: 1 },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.data.lines_total).toBe(230000);
  });

  it('holds order lines to the floor price and the rep’s price level as quote lines are, writing nothing', async () => {
    const orders = await count('order');
    const lines = await count('order_line');
    const level = await o.as(
      'rep_east',
      'POST',
      '/api/data/order',
      {
        account: o.accounts.rep_east.id,
        status: 'accepted',
        lines: [
          { product: erp.id, quantity: 1 },
          { product: server.id, quantity: 1, discount: 12 },
        ],
      },
      { 'accept-language': 'zh-CN' },
    );
    expect([level.status, level.body.error.code, level.body.error.details[0].path]).toEqual([
      409,
      'price_level_exceeded',
      '/lines/1/discount',
    ]);
    expect(level.body.error.message).toMatch(/价格级数/);
    const floor = await o.as('rep_east', 'POST', '/api/data/order', {
      account: o.accounts.rep_east.id,
      status: 'accepted',
      lines: [{ product: server.id, quantity: 1, discount: 25 }],
    });
    expect([floor.status, floor.body.error.code, floor.body.error.details[0].path]).toEqual([
      409,
      'price_below_floor',
      '/lines/0/unit_price',
    ]);
    expect([await count('order'), await count('order_line')]).toEqual([orders, lines]);
    // A line edited below the level later is refused the same way, on the line's own route too.
    const ok = (
      await o.as('rep_east', 'POST', '/api/data/order', {
        account: o.accounts.rep_east.id,
        status: 'accepted',
        lines: [{ product: erp.id, quantity: 1 }],
      })
    ).body.data;
    const edit = await o.as('rep_east', 'PATCH', `/api/data/order_line/${ok.lines[0].id}`, {
      version: ok.lines[0].version,
      discount: 12,
    });
    expect([edit.status, edit.body.error.code, edit.body.error.details[0].path]).toEqual([
      409,
      'price_level_exceeded',
      '/discount',
    ]);
  });
});
