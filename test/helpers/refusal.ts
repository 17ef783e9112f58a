import { GrmError } from '../../src/errors.js';

/** Runs fn and returns the GrmError it throws; fails the test when it throws none or another error. */
export function refusal(fn: () => unknown): GrmError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GrmError) return e;
    throw e;
  }
  throw new Error('expected a GrmError');
}
