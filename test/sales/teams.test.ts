/**
 * Temporary sales teams (申请建立临时销售工作组) of the sales sample, through the HTTP API as the demo
 * users: a rep asks for a team around an opportunity, the manager approves it, every active member may
 * then read and edit the opportunity; a member removed or deleted loses it.
 */
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getShortestPaths } from '@xstate/graph';
import { sql } from 'drizzle-orm';
import { loadPackage } from '../../metadata/loader.js';
import { compileApproval } from '../../engine/approvals/compile.js';
import type { ApprovalDoc } from '../../engine/approvals/kind.js';
import { drivers } from '../support/engine.js';
import { startOrg, type Org, type UserName } from '../access/org.js';

describe.each(drivers)('temporary sales teams (sales sample) on %s', (driver) => {
  let o: Org;
  let opportunity: any;
  beforeAll(async () => {
    o = await startOrg(driver, ['sales']);
    opportunity = (
      await o.as('rep_east', 'POST', '/api/data/opportunity', {
        title: '华东大客户 ERP 项目',
        account: o.accounts.rep_east.id,
        opportunity_type: 'project',
        amount: 800000,
      })
    ).body.data;
    expect(opportunity.id).toBeDefined();
  }, 60_000);
  afterAll(() => o?.e.stop());

  const newTeam = async (name: string) => {
    const res = await o.as('rep_east', 'POST', '/api/data/sales_team', {
      name,
      opportunity: opportunity.id,
      purpose: '需要华北销售协同跟进',
    });
    expect(res.status).toBe(201);
    return res.body.data;
  };
  const addMember = async (team: string, member: UserName, role = '区域协同') => {
    const res = await o.as('rep_east', 'POST', '/api/data/sales_team_member', { team, member: o.ids[member], team_role: role });
    expect(res.status).toBe(201);
    return res.body.data;
  };
  const taskOf = async (user: UserName, id: string) =>
    ((await o.as(user, 'GET', '/api/approvals/inbox')).body.data as any[]).find((t) => t.recordId === id);
  const canRead = async (user: UserName) => (await o.as(user, 'GET', `/api/data/opportunity/${opportunity.id}`)).status;

  it('reaches every resting state of the team approval along the machine’s shortest paths, as the demo users', async () => {
    const docs = await loadPackage(join(resolve(import.meta.dirname, '..', '..'), 'sample-apps', 'sales'));
    const doc = docs.find((d: any) => d.kind === 'approval' && d.name === 'sales_team_approval') as ApprovalDoc;
    const { machine } = compileApproval(doc);
    const paths = getShortestPaths(machine, {
      fromState: machine.resolveState({ value: 'idle', context: { data: {} } }),
      events: ['SUBMIT', 'APPROVE', 'REJECT', 'RECALL'].map((type) => ({ type })),
    } as never);
    const reached = [...new Set(paths.map((p: any) => String(p.state.value)))].sort();
    expect(reached).toEqual(['approved', 'idle', 'recalled', 'returned', 'step:manager']);
    const status: Record<string, string> = {
      idle: 'draft',
      approved: 'approved',
      recalled: 'recalled',
      returned: 'returned',
      'step:manager': 'pending',
    };
    let n = 0;
    for (const path of paths as any[]) {
      const team = await newTeam(`路径工作组 ${++n}`);
      for (const { event } of path.steps.slice(1)) {
        let res: Awaited<ReturnType<Org['as']>>;
        if (event.type === 'SUBMIT') res = await o.as('rep_east', 'POST', `/api/data/sales_team/${team.id}/approval/submit`);
        else if (event.type === 'RECALL') res = await o.as('rep_east', 'POST', `/api/data/sales_team/${team.id}/approval/recall`);
        else {
          const task = await taskOf('manager_east', team.id);
          res = await o.as(
            'manager_east',
            'POST',
            `/api/approvals/${task.id}/${event.type === 'APPROVE' ? 'approve' : 'reject'}`,
          );
        }
        expect([path.state.value, event.type, res.status]).toEqual([path.state.value, event.type, 200]);
      }
      const now = (await o.as('rep_east', 'GET', `/api/data/sales_team/${team.id}`)).body.data;
      expect([String(path.state.value), now.approval_status]).toEqual([
        String(path.state.value),
        status[String(path.state.value)],
      ]);
    }
  });

  it('gives the members edit access once approved — not before — and takes it back when removed or deleted', async () => {
    const team = await newTeam('华东大客户联合工作组');
    const north = await addMember(team.id, 'rep_north');
    expect(await canRead('rep_north')).toBe(404); // not approved yet
    expect((await o.as('rep_east', 'POST', `/api/data/sales_team/${team.id}/approval/submit`)).status).toBe(200);
    expect(await canRead('rep_north')).toBe(404); // pending
    const task = await taskOf('manager_east', team.id);
    expect((await o.as('manager_east', 'POST', `/api/approvals/${task.id}/approve`)).status).toBe(200);

    // Approved: rep_north reads and edits the deal, and was told.
    const seen = await o.as('rep_north', 'GET', `/api/data/opportunity/${opportunity.id}`);
    expect(seen.status).toBe(200);
    const edit = await o.as('rep_north', 'PATCH', `/api/data/opportunity/${opportunity.id}`, {
      description: '华北协同：已联系客户北京分公司',
      version: seen.body.data.version,
    });
    expect(edit.status).toBe(200);
    const told = (await o.as('rep_north', 'GET', '/api/notifications')).body.data.filter(
      (x: any) => x.template === 'sales_team_joined',
    );
    expect(told.map((x: any) => x.subject['zh-CN'])).toEqual(['您已加入临时销售工作组「华东大客户联合工作组」']);
    const shares = (await o.as('rep_east', 'GET', `/api/data/opportunity/${opportunity.id}/shares`)).body.data;
    expect(shares.map((s: any) => [s.user, s.access])).toEqual([[o.ids.rep_north, 'edit']]);

    // A member added to the approved team gets it at once.
    const manager = await addMember(team.id, 'marketing', '市场支持');
    const marketingShare = (await o.as('rep_east', 'GET', `/api/data/opportunity/${opportunity.id}/shares`)).body.data;
    expect(marketingShare.map((s: any) => s.user).sort()).toEqual([o.ids.rep_north, o.ids.marketing].sort());

    // Removed: no access any more; the audit trail names the automation.
    expect(
      (await o.as('rep_east', 'PATCH', `/api/data/sales_team_member/${north.id}`, { status: 'removed', version: north.version }))
        .status,
    ).toBe(200);
    expect(await canRead('rep_north')).toBe(404);
    expect(
      (
        await o.as('rep_north', 'PATCH', `/api/data/opportunity/${opportunity.id}`, {
          description: '不应写入',
          version: edit.body.data.version,
        })
      ).status,
    ).toBe(404);
    const audit = await o.e.database.rows<{ action: string; note: string }>(
      sql`select action, note from audit.log where record_id = ${opportunity.id} and action in ('share', 'unshare') order by id`,
    );
    expect(audit.map((a) => `${a.action} ${a.note}`)).toEqual([
      'share automation: sales_team_share',
      'share automation: sales_team_member_join',
      'unshare automation: sales_team_member_leave',
    ]);

    // Back in the team: access again. Deleted: gone.
    const back = await o.as('rep_east', 'PATCH', `/api/data/sales_team_member/${north.id}`, { status: 'active', version: 2 });
    expect(back.status).toBe(200);
    expect(await canRead('rep_north')).toBe(200);
    expect((await o.as('rep_east', 'DELETE', `/api/data/sales_team_member/${north.id}`)).status).toBe(200);
    expect(await canRead('rep_north')).toBe(404);
    expect((await o.as('rep_east', 'DELETE', `/api/data/sales_team_member/${manager.id}`)).status).toBe(200);
    expect((await o.as('rep_east', 'GET', `/api/data/opportunity/${opportunity.id}/shares`)).body.data).toEqual([]);
  });

  it('takes back only what the team gave: a share made by hand stays, and so does another team’s', async () => {
    const deal = (
      await o.as('rep_east', 'POST', '/api/data/opportunity', {
        title: '华东双组协同项目',
        account: o.accounts.rep_east.id,
        opportunity_type: 'project',
        amount: 300000,
      })
    ).body.data;
    // rep_east shares the deal with rep_north by hand, for reading.
    const byHand = await o.as('rep_east', 'POST', `/api/data/opportunity/${deal.id}/shares`, {
      user: o.ids.rep_north,
      access: 'read',
    });
    expect(byHand.status).toBe(201);
    const approvedTeam = async (name: string) => {
      const res = await o.as('rep_east', 'POST', '/api/data/sales_team', { name, opportunity: deal.id, purpose: '协同跟进' });
      expect(res.status).toBe(201);
      const member = await addMember(res.body.data.id, 'rep_north');
      expect((await o.as('rep_east', 'POST', `/api/data/sales_team/${res.body.data.id}/approval/submit`)).status).toBe(200);
      const task = await taskOf('manager_east', res.body.data.id);
      expect((await o.as('manager_east', 'POST', `/api/approvals/${task.id}/approve`)).status).toBe(200);
      return { team: res.body.data, member };
    };
    const first = await approvedTeam('协同一组');
    const second = await approvedTeam('协同二组');
    const shares = async () =>
      ((await o.as('rep_east', 'GET', `/api/data/opportunity/${deal.id}/shares`)).body.data as any[])
        .map((x) => `${x.access} ${x.source ?? 'by hand'}`)
        .sort();
    expect(await shares()).toEqual(
      ['edit sales_team:' + first.team.id, 'edit sales_team:' + second.team.id, 'read by hand'].sort(),
    );
    const canEdit = async () => {
      const now = (await o.as('rep_north', 'GET', `/api/data/opportunity/${deal.id}`)).body.data;
      return (await o.as('rep_north', 'PATCH', `/api/data/opportunity/${deal.id}`, { version: now.version, description: '协同' }))
        .status;
    };
    expect(await canEdit()).toBe(200);
    // Removed from the first team: the second team's share still gives edit access.
    const removed = await o.as('rep_east', 'PATCH', `/api/data/sales_team_member/${first.member.id}`, {
      status: 'removed',
      version: first.member.version,
    });
    expect(removed.status).toBe(200);
    expect(await canEdit()).toBe(200);
    // Out of the second one too: the share made by hand stays — reading, not editing.
    expect((await o.as('rep_east', 'DELETE', `/api/data/sales_team_member/${second.member.id}`)).status).toBe(200);
    expect(await canEdit()).toBe(403);
    expect((await o.as('rep_north', 'GET', `/api/data/opportunity/${deal.id}`)).status).toBe(200);
    expect(await shares()).toEqual(['read by hand']);
  });

  it('a member of an unapproved team gets nothing, and another rep cannot add members to a team they do not own', async () => {
    const team = await newTeam('草稿工作组');
    await addMember(team.id, 'rep_north');
    expect(await canRead('rep_north')).toBe(404);
    const res = await o.as('rep_north', 'POST', '/api/data/sales_team_member', { team: team.id, member: o.ids.rep_north });
    expect([res.status, res.body.error.details.map((d: any) => `${d.path} ${d.code}`)]).toEqual([
      422,
      ['/team invalid_reference'],
    ]);
  });
});
