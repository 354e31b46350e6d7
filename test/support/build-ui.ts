/**
 * Vitest global setup: builds the web UI once, before any test file runs, when its build is missing or
 * stale — the browser tests serve it, and `npm start` in the quick-start test then finds it built.
 */
import { ensureBuilt } from '../../runtime-ui/build.js';

export default async function setup() {
  await ensureBuilt();
}
