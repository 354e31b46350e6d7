/**
 * What the server writes to its log about a failure: enough to find the fault (the error's name, code,
 * message, the SQL text, where it was thrown), never the values bound to a query. Those are the client's
 * data and the engine's secrets — a token's hash, a password hash, personal data — and drizzle puts them
 * in the message of every failed query ("params: …").
 */
interface Failure {
  name?: string;
  message?: string;
  code?: string;
  stack?: string;
  cause?: unknown;
}

/**
 * The message without bound parameters, nor the input PostgreSQL quotes back (`invalid input syntax for
 * type uuid: "…"`, `Key (token_hash)=(…)`); identifiers it quotes (`relation "x"`) stay.
 */
export function redact(message: string): string {
  return message
    .replace(/\nparams: [\s\S]*$/, '\nparams: [redacted]')
    .replace(/: "(?:[^"\\]|\\.)*"$/gm, ': "[redacted]"')
    .replace(/\)=\((?:[^)]*)\)/g, ')=([redacted])');
}

/** A failure as one loggable object, its parameters redacted, its causes followed. */
export function describeFailure(error: unknown, depth = 0): Record<string, unknown> {
  if (typeof error !== 'object' || error === null) return { message: redact(String(error)) };
  const e = error as Failure;
  return {
    name: e.name,
    ...(e.code ? { code: e.code } : {}),
    message: redact(String(e.message ?? '')),
    stack: e.stack
      ? redact(e.stack)
          .split('\n')
          .filter((line) => line.trimStart().startsWith('at '))
          .slice(0, 8)
          .join('\n')
      : undefined,
    ...(e.cause !== undefined && depth < 3 ? { cause: describeFailure(e.cause, depth + 1) } : {}),
  };
}

export function logFailure(context: string, error: unknown) {
  console.error(context, JSON.stringify(describeFailure(error)));
}
