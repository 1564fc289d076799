// Registered first, so with vitest's stacked hooks it runs after the test file's own afterAll.
import { afterAll } from 'vitest';
import { removeTempDirs } from './temp-dir.js';

afterAll(removeTempDirs);
