export * from './note.ts';
export * from './keys.ts';
export * from './checkpoint.ts';
