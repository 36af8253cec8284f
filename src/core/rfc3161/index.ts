export * from './oids.ts';
export * from './request.ts';
export * from './create.ts';
export * from './token.ts';
export * from './verify.ts';
export * from './status.ts';
