/**
 * The one error shape of the product. Every failure a client can cause becomes an AppError:
 * an HTTP status, a machine-readable code, a human message and, where a specific input is at fault,
 * a list of `{ path, message }` details (path is a JSON pointer into what the client sent).
 */
export interface ErrorDetail {
  path: string;
  message: string;
  code?: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** Response headers the answer needs (Retry-After on 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  toJSON() {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details.length ? { details: this.details } : {}),
      },
    };
  }
}

export const badRequest = (code: string, message: string, details: ErrorDetail[] = []) =>
  new AppError(400, code, message, details);
export const notFound = (code: string, message: string) => new AppError(404, code, message);
export const conflict = (code: string, message: string, details: ErrorDetail[] = []) => new AppError(409, code, message, details);
export const unprocessable = (code: string, message: string, details: ErrorDetail[]) => new AppError(422, code, message, details);

/** JSON pointer segment escaping (RFC 6901). */
export const pointer = (...segments: (string | number)[]) =>
  segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
