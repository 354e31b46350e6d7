/** Reads a kind's meta-schema (a JSON file beside the kind's module). */
import { createRequire } from 'node:module';
import type { JsonSchema } from '../../registry/types.js';

export const loadSchema = (base: string, file: string): JsonSchema => createRequire(base)(file) as JsonSchema;
