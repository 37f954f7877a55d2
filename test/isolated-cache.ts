/**
 * Vitest setup file: every test file gets its own empty cache directory, so
 * no test reads or writes the user's cache (`~/.cache/nas-edge`). Child
 * processes (the CLI, workers) inherit it through the environment.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_DIR_ENV } from '../locations.js';

process.env[CACHE_DIR_ENV] = mkdtempSync(join(tmpdir(), 'nas-test-cache-'));
