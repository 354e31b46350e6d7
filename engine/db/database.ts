/**
 * One database handle for both back ends: PGlite (embedded, the default) and PostgreSQL through the
 * `postgres` driver (when DATABASE_URL is set). Everything above this module uses drizzle and never
 * asks which one it got, except for the few driver facts kept here.
 */
import { connect, type Socket } from 'node:net';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import { lockDataDir } from './data-dir-lock.js';
import { FLUSH_ACTIVITY, maintainTables, TABLE_ACTIVITY, type MaintenanceResult } from './maintenance.js';

// drizzle's PGlite and postgres-js databases share this base class; transactions are PgDatabase too.
// biome-ignore lint/suspicious/noExplicitAny: drizzle's database type differs per driver; any of them will do
export type Db = PgDatabase<any, any, any>;

export interface Database {
  readonly driver: 'pglite' | 'postgres';
  readonly db: Db;
  /** Rows of a raw statement, whatever the driver returns. */
  rows<T = Record<string, unknown>>(query: SQL, executor?: Db): Promise<T[]>;
  /**
   * Rows of a statement planned afresh for its values, never from a cached generic plan: for
   * statements whose best plan depends on the values (a text search: a rare word wants its index, a
   * common one the newest rows), where a generic plan would pick one plan for all.
   */
  rowsPlannedPerCall<T = Record<string, unknown>>(query: SQL, executor?: Db): Promise<T[]>;
  /**
   * Rows of a statement whose columns are all text, as arrays of UTF-8 bytes in select order (null for
   * NULL). Text PostgreSQL rendered for the client (a list page's JSON) then crosses Node without being
   * decoded into strings and encoded again: postgres.js hands over slices of what it read (raw mode).
   */
  textRows(query: SQL, executor?: Db): Promise<(Buffer | null)[][]>;
  /**
   * Loads rows with COPY: `target` is a table with its column list (identifiers from validated
   * metadata, quoted), `text` the rows in COPY's text format (engine/db/copy.ts). In `executor`'s
   * transaction; a refusal (a unique value taken) rejects like any statement, with the driver's error.
   */
  copyIn(target: string, text: string, executor?: Db): Promise<void>;
  /** Runs several parameterless statements separated by `;` (DDL bootstrap). */
  exec(script: string): Promise<void>;
  /**
   * node-postgres's `query(text, values)` shape over this database or one of its transactions, for
   * libraries that bring their own SQL (the pg-boss job queue): jobs sent with a transaction's
   * client commit or roll back with it.
   */
  sqlClient(executor?: Db): SqlClient;
  /**
   * Gathers statistics and reclaims dead rows of the tables that changed enough (db/maintenance.ts):
   * the embedded database has no autovacuum to do it. On PostgreSQL the server's autovacuum does, and
   * this does nothing.
   */
  maintain(): Promise<MaintenanceResult>;
  /** Subscribes to a PostgreSQL NOTIFY channel; returns an unsubscribe function. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface SqlClient {
  // biome-ignore lint/suspicious/noExplicitAny: rows of a statement the caller wrote; the caller types them
  executeSql(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/** node-postgres sends objects as JSON and undefined as NULL; the other drivers want that done for them. */
const asParameter = (v: unknown) =>
  v === undefined
    ? null
    : v !== null && typeof v === 'object' && !(v instanceof Date) && !Array.isArray(v) && !(v instanceof Uint8Array)
      ? JSON.stringify(v)
      : v;

/** The driver's own client behind a drizzle database or transaction. */
// biome-ignore lint/suspicious/noExplicitAny: the driver's own client (postgres.js or PGlite), reached through drizzle's session
const driverClient = (executor: Db): any => (executor as unknown as { session: { client: unknown } }).session.client;

interface DrizzleInternals {
  dialect: { sqlToQuery(q: SQL): { sql: string; params: unknown[] } };
  session: { logger: { logQuery(query: string, params: unknown[]): void } };
}

/**
 * The statement text and parameters drizzle would send for `query`, logged to drizzle's logger as
 * execute() would log them (so a configured logger sees every statement, whichever way it runs).
 */
function toQuery(executor: Db, query: SQL) {
  const built = renderQuery(executor, query);
  logQuery(executor, built.sql, built.params);
  return built;
}

/** The statement text and parameters of `query`, not logged: for text made once and run many times (rowsOfText). */
export const renderQuery = (executor: Db, query: SQL) => (executor as unknown as DrizzleInternals).dialect.sqlToQuery(query);

const logQuery = (executor: Db, text: string, params: unknown[]) =>
  (executor as unknown as DrizzleInternals).session.logger.logQuery(text, params);

/**
 * Rows of a statement given as text and driver values ($1, $2 …), on either driver: for the hottest
 * statements, whose text is made once or joined without drizzle's builder (engine/data/writes.ts,
 * engine/data/find.ts). Logged to drizzle's logger like every other statement.
 */
export async function rowsOfText<T = Record<string, unknown>>(executor: Db, text: string, params: unknown[]): Promise<T[]> {
  logQuery(executor, text, params);
  const client = driverClient(executor);
  // postgres.js's client (or transaction) has unsafe(); PGlite's has query(). postgres.js answers
  // with its row list, itself an array: handed on as it is, not copied.
  return client.unsafe ? await client.unsafe(text, params) : (await client.query(text, params)).rows;
}

export interface OpenOptions {
  /** postgres:// URL; when absent the embedded database is used. */
  url?: string;
  /** Folder of the embedded database; in-memory when absent. */
  dataDir?: string;
  /** Pool size for PostgreSQL. */
  max?: number;
}

export async function openDatabase(options: OpenOptions = {}): Promise<Database> {
  return options.url ? openPostgres(options.url, options.max ?? 10) : openPglite(options.dataDir);
}

/**
 * The rows of a statement, as drizzle's execute() would give them but without its prepared-query
 * object per call (the embedded database's: two parser tables built for every statement).
 */
const queryRows = async <T>(executor: Db, query: SQL): Promise<T[]> => {
  const { sql: text, params } = renderQuery(executor, query);
  return rowsOfText<T>(executor, text, params); // logs it
};

export const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];

/**
 * The server connection with Nagle's algorithm off. Node's sockets keep it on, and postgres.js sends a
 * COPY's data and its CopyDone in two writes: the small second one waited for the server's delayed
 * acknowledgement of the first — 40 ms per COPY, 60 % of a 100,000-row import's time on its audit entries.
 */
function connectWithoutDelay(options: { host: string[]; port: number[]; path?: string | false }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = options.path
      ? connect(options.path)
      : connect({ host: options.host[0], port: options.port[0], noDelay: true });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const client = postgres(url, {
    max,
    // postgres.js's `socket` option (a factory of connected sockets), which its type declarations omit.
    ...({ socket: connectWithoutDelay } as object),
    onnotice: () => {},
    // numeric, date and timestamptz come back as strings from the wire; drizzle's column modes map them.
    // Timestamps come back in UTC ('…+00'), which engine/data/records.ts turns into ISO 8601 cheaply.
    connection: { application_name: 'metacrm', TimeZone: 'UTC' },
  });
  const plain = client.unsafe.bind(client);
  const db = drizzle(preparing(client)) as unknown as Db;
  return {
    driver: 'postgres',
    db,
    rows: (query, executor = db) => queryRows(executor, query),
    rowsPlannedPerCall: async (query, executor = db) => {
      const { sql: text, params } = toQuery(executor, query);
      return [...(await driverClient(executor).unsafe(text, params, UNPREPARED))];
    },
    textRows: async (query, executor = db) => {
      const { sql: text, params } = toQuery(executor, query);
      return [...(await driverClient(executor).unsafe(text, params).raw())];
    },
    copyIn: async (target, text, executor = db) => {
      const query = driverClient(executor).unsafe(`copy ${target} from stdin`, [], UNPREPARED);
      const stream = await query.writable();
      // postgres.js settles the query with the stream when COPY starts; a refusal that arrives after the
      // data was sent would be dropped (the stream is already closed). The query's own settle functions
      // are still called when the server answers: take the outcome from them.
      const { resolve, reject } = query;
      const done = new Promise<void>((ok, fail) => {
        query.resolve = (x: unknown) => {
          resolve(x);
          ok();
        };
        query.reject = (e: unknown) => {
          reject(e);
          fail(e);
        };
      });
      stream.on('error', () => {}); // the same error reaches query.reject
      stream.end(text);
      await done;
    },
    exec: async (script) => {
      await plain(script); // several statements: the simple protocol, never prepared
    },
    sqlClient: (executor = db) => ({
      executeSql: async (text, values) => {
        const client = driverClient(executor);
        if (values?.length) return { rows: [...(await client.unsafe(text, values.map(asParameter)))] };
        // A parameterless script (a schema migration) may hold several statements and its own
        // BEGIN/COMMIT: the simple protocol, on a connection of its own unless already in a transaction.
        if (!client.reserve) return { rows: [...(await client.unsafe(text))] };
        const connection = await client.reserve();
        try {
          const result = await connection.unsafe(text);
          return { rows: Array.isArray(result) ? [...result] : [] };
        } finally {
          connection.release();
        }
      },
    }),
    maintain: async () => ({ analyzed: [], vacuumed: [] }),
    listen: async (channel, onMessage) => {
      const { unlisten } = await client.listen(channel, onMessage);
      return unlisten;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/**
 * drizzle hands postgres.js every unnamed query with `prepare: false`, so each one is parsed and planned
 * afresh, in two round trips. Turn postgres.js's per-connection statement cache back on — for
 * statements with few parameters, so that the cache stays bounded (bulk inserts and long IN lists vary
 * in shape and are not worth keeping). Applies to transactions and savepoints too. drizzle's own
 * `prepare: false` says nothing (it is the default of every query); the engine's statements that must be
 * planned for their values, and COPY, say so with UNPREPARED.
 */
const MAX_PREPARED_PARAMS = 64;
const UNPREPARED = { prepare: false, unprepared: true } as const;
// biome-ignore lint/suspicious/noExplicitAny: wraps postgres.js methods whatever their signatures
function preparing<T extends { unsafe: any; begin?: any; savepoint?: any }>(client: T): T {
  const unsafe = client.unsafe.bind(client);
  client.unsafe = (query: string, params?: unknown[], options?: Record<string, unknown>) =>
    unsafe(query, params, { ...options, prepare: options?.unprepared !== true && (params?.length ?? 0) <= MAX_PREPARED_PARAMS });
  for (const method of ['begin', 'savepoint'] as const) {
    const original = client[method]?.bind(client);
    if (!original) continue;
    // biome-ignore lint/suspicious/noExplicitAny: replaces a method of the driver's client in place
    (client as any)[method] = (...args: any[]) => {
      const fn = args.pop();
      return original(...args, (inner: T) => fn(preparing(inner)));
    };
  }
  return client;
}

/** The types drizzle asks PGlite to return as text: timestamp(tz), interval, date and numeric, date-time and interval arrays. */
const DRIZZLE_TEXT_TYPES = [1114, 1184, 1186, 1082, 1231, 1115, 1185, 1187, 1182];

/**
 * drizzle passes, with every query, parsers that keep dates and timestamps as text; PGlite merges
 * them into a copy of its ~400-entry parser table per query (0.1 ms each — seconds over a demo
 * load). The client parses those types as text once for all, and the per-query copies are dropped.
 * Returns PGlite's own parsers of those types, for the callers that want dates.
 */
// biome-ignore lint/suspicious/noExplicitAny: PGlite's client and its transactions, whose query() is wrapped in place
function keepDrizzleTypesAsText(client: any): Record<number, (value: string, type: number) => unknown> {
  const own = Object.fromEntries(DRIZZLE_TEXT_TYPES.map((oid) => [oid, client.parsers[oid]]));
  for (const oid of DRIZZLE_TEXT_TYPES) client.parsers[oid] = (value: string) => value;
  const textOnly = (parsers: object) => Object.keys(parsers).every((oid) => DRIZZLE_TEXT_TYPES.includes(Number(oid)));
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const withoutCopies = (target: any) => {
    const query = target.query.bind(target);
    target.query = (text: string, params?: unknown[], options?: { parsers?: object }) => {
      if (!options?.parsers || !textOnly(options.parsers)) return query(text, params, options);
      const { parsers: _same, ...rest } = options;
      return query(text, params, rest);
    };
    return target;
  };
  withoutCopies(client);
  const transaction = client.transaction.bind(client);
  // biome-ignore lint/suspicious/noExplicitAny: see above
  client.transaction = (run: (tx: any) => Promise<unknown>) => transaction((tx: unknown) => run(withoutCopies(tx)));
  return own;
}

async function openPglite(dataDir?: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { prepareStatements } = await import('./pglite-statements.js');
  const unlock = dataDir ? lockDataDir(dataDir) : () => {};
  let client: InstanceType<typeof PGlite>;
  try {
    client = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  } catch (e) {
    unlock();
    throw e;
  }
  prepareStatements(client);
  const ownParsers = keepDrizzleTypesAsText(client);
  const db = drizzle(client) as unknown as Db;
  return {
    driver: 'pglite',
    db,
    rows: (query, executor = db) => queryRows(executor, query),
    rowsPlannedPerCall: async (query, executor = db) => {
      const { sql: text, params } = toQuery(executor, query);
      return (await driverClient(executor).query(text, params, { prepare: false })).rows;
    },
    // PGlite runs in this process and returns text columns as strings: encode them.
    textRows: async (query, executor = db) =>
      rowsOf<Record<string, string | null>>(await executor.execute(query)).map((row) =>
        Object.values(row).map((v) => (v === null ? null : Buffer.from(v))),
      ),
    copyIn: async (target, text, executor = db) => {
      // PGlite reads COPY data from a blob named /dev/blob.
      await driverClient(executor).query(`copy ${target} from '/dev/blob'`, [], { blob: new Blob([text]) });
    },
    exec: async (script) => {
      await client.exec(script);
    },
    sqlClient: (executor = db) => ({
      executeSql: async (text, values) => {
        const pg = driverClient(executor);
        // query() takes one statement; parameterless scripts (schema migrations) may hold several.
        // The job queue reads timestamps as dates, as PGlite gives them by default.
        if (!values?.length) {
          const results = await pg.exec(text, { parsers: ownParsers });
          return { rows: results.at(-1)?.rows ?? [] };
        }
        return { rows: (await pg.query(text, values.map(asParameter), { parsers: ownParsers })).rows };
      },
    }),
    maintain: () =>
      maintainTables(
        async () => {
          await client.query(FLUSH_ACTIVITY);
          return (await client.query<{ name: string; live: number; dead: number; changed: number }>(TABLE_ACTIVITY)).rows;
        },
        (statement) => client.exec(statement),
      ),
    listen: async (channel, onMessage) => client.listen(channel, onMessage),
    close: async () => {
      try {
        await client.close();
      } finally {
        unlock();
      }
    },
  };
}

/** Quotes an identifier that has already been validated against the metadata identifier pattern. */
export const ident = (name: string) => sql.identifier(name);
