import { nothing } from './does-not-exist.mjs';
export const value = () => nothing;
