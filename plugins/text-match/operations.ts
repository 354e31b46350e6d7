/**
 * The plugin's json-logic operations as pure functions: the server registers them (index.ts adds the
 * SQL compilers) and the web UI imports this file as it is (runtime-ui/src/record/rules.ts picks up every
 * plugins/<name>/operations.ts), so a rule using them gives the same answer in the browser. Browser-safe:
 * no imports.
 */

/** `{ "starts_with": [{ "var": "archive_no" }, "EAST-"] }`: text that begins with the prefix. */
export const startsWith = (value: unknown, prefix: unknown) =>
  typeof value === 'string' && typeof prefix === 'string' && value.startsWith(prefix);

export const operations = [{ name: 'starts_with', evaluate: startsWith }];
