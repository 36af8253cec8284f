export * from './note.ts';
export * from './keys.ts';
export * from './checkpoint.ts';
export * from './cosignature.ts';
export * from './add-checkpoint.ts';
