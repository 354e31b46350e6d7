/**
 * Handlebars rendering for template documents. An isolated Handlebars environment with only the
 * engine's helpers: templates cannot call arbitrary code, reach the file system, or walk prototypes
 * (Handlebars refuses non-own properties by default since 4.6; we never opt back in).
 */
import Handlebars from 'handlebars';
import type { ErrorDetail } from '../errors.js';

const env = Handlebars.create();
env.registerHelper('date', (value: unknown) => (typeof value === 'string' ? value.slice(0, 10) : ''));
env.registerHelper('money', (value: unknown) =>
  typeof value === 'number' ? value.toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : '',
);

const compiled = new Map<string, HandlebarsTemplateDelegate>();

/** Renders a template source with data (a record and context). Cached per source. */
export function render(source: string, data: Record<string, unknown>): string {
  let template = compiled.get(source);
  if (!template) {
    template = env.compile(source, { strict: false, knownHelpersOnly: false });
    compiled.set(source, template);
  }
  return template(data, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
}

/** Deploy-time check: the source parses. */
export function templateProblems(source: string, path: string): ErrorDetail[] {
  try {
    env.precompile(source);
    return [];
  } catch (e) {
    return [
      { path, code: 'invalid_template', message: `Not a valid Handlebars template: ${(e as Error).message.split('\n')[0]}` },
    ];
  }
}
