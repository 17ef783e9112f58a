import t from 'tap';
import { GrmError, isGrmError } from '../../src/errors.js';

t.test('GrmError keeps its code and field', async (t) => {
  const e = new GrmError('E_OPTION_INVALID', 'bad --nodes', { field: 'nodes' });
  t.equal(e.code, 'E_OPTION_INVALID');
  t.equal(e.field, 'nodes');
  t.ok(isGrmError(e));
  t.notOk(isGrmError(new Error('x')));
});
