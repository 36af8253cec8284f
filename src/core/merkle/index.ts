export * from './hash.ts';
export * from './tree.ts';
export * from './compact.ts';
