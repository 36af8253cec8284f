export * from './hash.ts';
export * from './tree.ts';
