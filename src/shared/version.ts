/** Kept equal to package.json's version by test/config.test.ts. */
export const version = '0.1.0';
