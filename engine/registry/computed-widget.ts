/**
 * How a computed value (a formula's or a roll-up's result) is shown: by the type it returns, with the
 * widget the runtime UI uses for a field of that type read-only — ¥ for currency, % for percent, dates
 * in the reader's format — rather than as bare text.
 */
export function computedWidget(returns: unknown): { widget: string; options?: Record<string, unknown> } {
  switch (returns) {
    case 'currency':
      return { widget: 'currency', options: { currency: 'CNY' } };
    case 'percent':
      return { widget: 'percent' };
    case 'decimal':
      return { widget: 'decimal', options: { scale: 2 } };
    case 'integer':
      return { widget: 'integer' };
    case 'date':
      return { widget: 'date' };
    case 'datetime':
      return { widget: 'datetime' };
    case 'boolean':
      return { widget: 'switch' };
    default:
      return { widget: 'readonly' };
  }
}
