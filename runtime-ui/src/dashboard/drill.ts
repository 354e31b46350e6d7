/**
 * Drill-down: the list page of an entity showing only the records a json-logic filter selects (a
 * report row's `_filter`). The list ANDs it with its own filters and shows it as a removable tag.
 */
export const drillUrl = (entity: string, filter: unknown) => `/l/${entity}?where=${encodeURIComponent(JSON.stringify(filter))}`;
