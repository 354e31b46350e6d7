/**
 * Named prepared statements for the embedded database. PGlite's `query` sends every statement
 * unnamed, in five separate calls into the WebAssembly module (parse, describe, bind, describe,
 * execute, sync): each one is parsed, analysed and planned afresh. The engine repeats a few hundred
 * statement shapes — a record read with its rights, an audit insert, a history insert — so, as
 * postgres.js does for the server database, each DML statement with few parameters is parsed once
 * under a name, its parameter and result types kept, and later runs send bind, execute and sync in
 * one call. PostgreSQL itself invalidates a prepared statement's plan when a table it reads changes;
 * what it cannot do is change a statement's result columns, so DDL forgets every prepared statement.
 */
import type { PGlite, QueryOptions, Results, Transaction } from '@electric-sql/pglite';
import { parse, protocol } from '@electric-sql/pglite';
import { bindExecuteSync, readResults, type Column } from './pglite-wire.js';

/** Statements with more parameters vary in shape (bulk inserts, long IN lists): not worth keeping. */
const MAX_PARAMS = 64;
/** Prepared statements kept by default; the least recently used one is closed beyond it. */
const MAX_STATEMENTS = 2_000;
/** Only these are prepared (a union may start with a parenthesis): DDL, SET, transaction control and the rest run as PGlite runs them. */
const PREPARABLE = /^[\s(]*(select|insert|update|delete|with|values)\b/i;
/** Notifications reach listeners through PGlite's own parsing of the answer: such statements are run through it. */
const NOTIFIES = /\bpg_notify\b/i;
/** Scripts after which no prepared statement's result columns can be trusted (a false alarm only costs re-preparing). */
const SCHEMA_CHANGE = /\b(create|alter|drop|truncate|do)\b/i;

type BackendMessage = Awaited<ReturnType<PGlite['execProtocolStream']>>[number];
interface Prepared {
  name: string;
  paramTypes: number[];
  /** The statement's RowDescription (or nothing when it returns no rows). */
  description: BackendMessage[];
  /** Its result columns. */
  columns: readonly Column[];
  /** Whether its answer must go through PGlite's parsing (notifications). */
  notifies: boolean;
}
interface PreparedQueryOptions extends QueryOptions {
  /** false: plan this statement for its values, unnamed (a scope whose best plan depends on them). */
  prepare?: boolean;
}
type Query = <T>(text: string, params?: unknown[], options?: PreparedQueryOptions) => Promise<Results<T>>;

const { serialize } = protocol;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Makes `client.query` and the `query` of every transaction it opens use named prepared statements. */
export function prepareStatements(client: PGlite, { max = MAX_STATEMENTS } = {}) {
  const statements = new Map<string, Prepared>();
  let closing: string[] = [];
  let counter = 0;

  const send = (message: Uint8Array) => client.execProtocolStream(message, { syncToFs: false });

  const forgetAll = () => {
    for (const p of statements.values()) closing.push(p.name);
    statements.clear();
  };

  /** Closes statements evicted or forgotten since the last call, in the message that goes next. */
  const pendingCloses = () => {
    if (!closing.length) return [];
    const closes = closing.map((name) => serialize.close({ type: 'S', name }));
    closing = [];
    return closes;
  };

  async function prepare(text: string): Promise<Prepared> {
    const name = `mc${++counter}`;
    const messages = await send(
      concat([
        ...pendingCloses(),
        serialize.parse({ name, text }),
        serialize.describe({ type: 'S', name }),
        serialize.sync(),
      ]),
    );
    const paramTypes = parse.parseDescribeStatementResults(messages);
    const description = messages.filter((m) => m.name === 'rowDescription');
    // Every answer of the statement hands out this list as its `fields`: frozen, so none can change it for the next.
    const columns = Object.freeze(
      description.flatMap((m) =>
        (m as unknown as { fields: Column[] }).fields.map(({ name, dataTypeID }) => Object.freeze({ name, dataTypeID })),
      ),
    );
    const prepared = { name, paramTypes, description, columns, notifies: NOTIFIES.test(text) };
    statements.set(text, prepared);
    if (statements.size > max) {
      const [oldest, evicted] = statements.entries().next().value as [string, Prepared];
      statements.delete(oldest);
      closing.push(evicted.name);
    }
    return prepared;
  }

  async function run<T>(text: string, params: unknown[], options: PreparedQueryOptions | undefined): Promise<Results<T>> {
    let prepared = statements.get(text);
    if (prepared) {
      // Most recently used last: the map's first entry is the one to evict.
      statements.delete(text);
      statements.set(text, prepared);
    } else prepared = await prepare(text);
    const serializers = options?.serializers;
    const values = params.map((param, i) => {
      if (param === null || param === undefined) return null;
      const oid = prepared.paramTypes[i];
      const serializer = serializers?.[oid] ?? client.serializers[oid];
      return serializer ? serializer(param) : String(param);
    });
    if (prepared.notifies) {
      const messages = await send(
        concat([
          ...pendingCloses(),
          serialize.bind({ statement: prepared.name, values: values as string[] }),
          serialize.execute({}),
          serialize.sync(),
        ]),
      );
      return parse.parseResults([...prepared.description, ...messages], client.parsers, options)[0] as Results<T>;
    }
    // The message is written and the answer read here (pglite-wire.ts): PGlite's parsing is skipped.
    const chunks: Uint8Array[] = [];
    await client.execProtocolRawStream(bindExecuteSync(prepared.name, values, pendingCloses()), {
      syncToFs: false,
      // A view of PGlite's memory, overwritten by the next answer.
      onRawData: (chunk) => chunks.push(chunk.slice()),
    });
    const parsers = options?.parsers ? { ...client.parsers, ...options.parsers } : client.parsers;
    return readResults<T>(chunks.length === 1 ? chunks[0] : concat(chunks), prepared.columns, parsers, options?.rowMode);
  }

  const preparable = (text: string, params: unknown[] | undefined, options: PreparedQueryOptions | undefined) =>
    options?.prepare !== false &&
    !options?.blob &&
    !options?.paramTypes &&
    (params?.length ?? 0) <= MAX_PARAMS &&
    PREPARABLE.test(text);

  /** The query function of the client (outside a transaction: takes the client's locks, syncs after) or of a transaction. */
  const queryOf = (target: PGlite | Transaction, topLevel: boolean): Query => {
    const original: Query = target.query.bind(target) as Query;
    return async <T>(text: string, params: unknown[] = [], options?: PreparedQueryOptions) => {
      if (!preparable(text, params, options)) {
        const { prepare: _, ...rest } = options ?? {};
        const result = await original<T>(text, params, rest);
        if (SCHEMA_CHANGE.test(text)) forgetAll();
        return result;
      }
      const attempt = () => client._runExclusiveQuery(() => run<T>(text, params, options));
      try {
        if (!topLevel) return await attempt();
        return await client._runExclusiveTransaction(async () => {
          const result = await attempt();
          await client.syncToFs();
          return result;
        });
      } catch (e) {
        const error = e as { code?: string; query?: string; params?: unknown[] };
        // A table changed under a statement prepared before (a column added by a deploy elsewhere).
        if (error.code === '0A000' && statements.has(text)) {
          closing.push(statements.get(text)!.name);
          statements.delete(text);
          if (topLevel) return queryOf(target, topLevel)<T>(text, params, options);
        }
        error.query = text;
        error.params = params;
        throw e;
      }
    };
  };

  const withSchemaChanges = (exec: PGlite['exec']): PGlite['exec'] => async (text, options) => {
    const result = await exec(text, options);
    if (SCHEMA_CHANGE.test(text)) forgetAll();
    return result;
  };

  client.query = queryOf(client, true) as PGlite['query'];
  client.exec = withSchemaChanges(client.exec.bind(client));
  const transaction = client.transaction.bind(client);
  client.transaction = <T>(callback: (tx: Transaction) => Promise<T>) =>
    transaction((tx) => {
      tx.query = queryOf(tx, false) as Transaction['query'];
      tx.exec = withSchemaChanges(tx.exec.bind(tx));
      return callback(tx);
    });
}
