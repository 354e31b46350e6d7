/**
 * Stands in for `resize-observer-polyfill` (rc-resize-observer's dependency, ~4 KB gzip in the frame):
 * every browser React 19 supports has ResizeObserver. vite.config.ts aliases the package to this file.
 */
export default globalThis.ResizeObserver;
