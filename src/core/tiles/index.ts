export * from './paths.ts';
export * from './tiles.ts';
export * from './proofs.ts';
