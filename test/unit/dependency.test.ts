import t from 'tap';
import { dependencyJobIds, evaluateDependency } from '../../src/jobs/dependency.js';
import type { JobState } from '../../src/jobs/job-types.js';

const ctx = (states: Record<number, JobState>, singletonBusy = false) => ({ stateOf: (id: number) => states[id], singletonBusy });

t.test('afterok waits for the job, then is satisfied by COMPLETED only', async (t) => {
  t.equal(evaluateDependency('afterok:1', ctx({ 1: 'RUNNING' })), 'waiting');
  t.equal(evaluateDependency('afterok:1', ctx({ 1: 'COMPLETED' })), 'satisfied');
  t.equal(evaluateDependency('afterok:1', ctx({ 1: 'FAILED' })), 'never');
});

t.test('afternotok is the mirror of afterok', async (t) => {
  t.equal(evaluateDependency('afternotok:1', ctx({ 1: 'FAILED' })), 'satisfied');
  t.equal(evaluateDependency('afternotok:1', ctx({ 1: 'COMPLETED' })), 'never');
});

t.test('afterany is satisfied by any end; after by a start', async (t) => {
  t.equal(evaluateDependency('afterany:1', ctx({ 1: 'CANCELLED' })), 'satisfied');
  t.equal(evaluateDependency('afterany:1', ctx({ 1: 'RUNNING' })), 'waiting');
  t.equal(evaluateDependency('after:1', ctx({ 1: 'RUNNING' })), 'satisfied');
  t.equal(evaluateDependency('after:1', ctx({ 1: 'PENDING' })), 'waiting');
});

t.test('comma needs all terms, question mark any', async (t) => {
  const states = ctx({ 1: 'COMPLETED', 2: 'RUNNING' });
  t.equal(evaluateDependency('afterok:1,afterok:2', states), 'waiting');
  t.equal(evaluateDependency('afterok:1?afterok:2', states), 'satisfied');
  t.equal(evaluateDependency('afterok:1:2', states), 'waiting');
});

t.test('singleton waits while a same-name job of the user holds nodes', async (t) => {
  t.equal(evaluateDependency('singleton', ctx({}, true)), 'waiting');
  t.equal(evaluateDependency('singleton', ctx({}, false)), 'satisfied');
});

t.test('an unknown job can never satisfy a dependency', async (t) => {
  t.equal(evaluateDependency('afterany:99', ctx({})), 'never');
});

t.test('dependencyJobIds lists every referenced id', async (t) => {
  t.same(dependencyJobIds('afterok:1:2,afterany:3+5'), [1, 2, 3]);
  t.same(dependencyJobIds('singleton'), []);
});
