/**
 * The metadata store: every deployed version of every document, and the deployments that put them
 * there, in PostgreSQL (schema `meta`). The latest non-deleted version of each (kind, name) is what
 * is deployed now; the highest deployment number is the metadata version the model is compiled for.
 */
import { sql } from 'drizzle-orm';
import type { Database, Db } from '../engine/db/database.js';
import type { MetadataDocument } from '../engine/registry/types.js';
import { apiRows } from '../engine/db/api-rows.js';

export const BOOTSTRAP_SQL = `
create schema if not exists meta;
create table if not exists meta.deployments (
  version integer primary key,
  deployed_at timestamptz not null default now(),
  deployed_by uuid,
  summary jsonb not null,
  plan jsonb not null
);
create table if not exists meta.documents (
  kind text not null,
  name text not null,
  version integer not null,
  deployment integer not null references meta.deployments (version),
  deleted boolean not null default false,
  body jsonb,
  primary key (kind, name, version)
);
create table if not exists meta.sequences (
  entity text not null,
  field text not null,
  scope text not null,
  value bigint not null,
  primary key (entity, field, scope)
);
`;

export interface DocumentVersion {
  kind: string;
  name: string;
  version: number;
  deployment: number;
  deleted: boolean;
  deployed_at: string;
  body: MetadataDocument | null;
}

export class MetadataStore {
  constructor(private readonly database: Database) {}

  bootstrap() {
    return this.database.exec(BOOTSTRAP_SQL);
  }

  async currentVersion(executor: Db = this.database.db): Promise<number> {
    const [row] = await this.database.rows<{ v: number | null }>(sql`select max(version) as v from meta.deployments`, executor);
    return Number(row?.v ?? 0);
  }

  /** The documents deployed now, with the version of each. */
  async current(executor: Db = this.database.db): Promise<{ doc: MetadataDocument; version: number }[]> {
    const rows = await this.database.rows<{ body: MetadataDocument; version: number }>(
      sql`select body, version from (
            select distinct on (kind, name) kind, name, version, deleted, body
            from meta.documents order by kind, name, version desc) latest
          where not deleted order by kind, name`,
      executor,
    );
    return rows.map((r) => ({ doc: typeof r.body === 'string' ? JSON.parse(r.body) : r.body, version: Number(r.version) }));
  }

  async history(kind: string, name: string): Promise<DocumentVersion[]> {
    const rows = await this.database.rows<DocumentVersion>(sql`
      select d.kind, d.name, d.version, d.deployment, d.deleted, p.deployed_at, d.body
      from meta.documents d join meta.deployments p on p.version = d.deployment
      where d.kind = ${kind} and d.name = ${name} order by d.version desc`);
    return rows.map((r) => ({
      ...r,
      version: Number(r.version),
      deployment: Number(r.deployment),
      deployed_at: new Date(r.deployed_at).toISOString(),
    }));
  }

  async deployments(limit = 50) {
    return apiRows(
      await this.database.rows(
        sql`select version, deployed_at, deployed_by, summary from meta.deployments order by version desc limit ${limit}`,
      ),
      ['version'],
    );
  }

  async record(
    executor: Db,
    deployment: { version: number; deployedBy?: string | null; summary: unknown; plan: unknown },
    changes: { doc?: MetadataDocument; kind: string; name: string; version: number; deleted: boolean }[],
  ) {
    await executor.execute(sql`insert into meta.deployments (version, deployed_by, summary, plan)
      values (${deployment.version}, ${deployment.deployedBy ?? null}, ${JSON.stringify(deployment.summary)}::jsonb, ${JSON.stringify(deployment.plan)}::jsonb)`);
    for (const c of changes) {
      await executor.execute(sql`insert into meta.documents (kind, name, version, deployment, deleted, body)
        values (${c.kind}, ${c.name}, ${c.version}, ${deployment.version}, ${c.deleted}, ${c.doc ? JSON.stringify(c.doc) : null}::jsonb)`);
    }
  }
}
