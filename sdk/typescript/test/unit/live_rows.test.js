import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveRowSet, keyOfColumns, wrapRowMap } from '../../dist/index.js';

const row = (id, body, seq) => wrapRowMap({ id, body, _seq: seq });
const bodies = (set) => set.values().map((r) => `${r.id.asString()}:${r.body.asString()}`);

test('snapshot, then insert, update in place and delete by key', () => {
  const set = new LiveRowSet(keyOfColumns(['id']));
  set.beginSnapshot(true);
  set.addSnapshotRows([row(1, 'a', 10n), row(2, 'b', 11n)]);
  set.endSnapshot();
  set.apply({ change_type: 'insert', rows: [row(3, 'c', 12n)] });
  set.apply({ change_type: 'update', rows: [row(1, 'A', 13n)], old_values: [row(1, 'a', 10n)] });
  set.apply({ change_type: 'delete', old_values: [row(2, 'b', 14n)] });
  assert.deepEqual(bodies(set), ['1:A', '3:c']);
});

test('an update for a row not seen is an upsert', () => {
  const set = new LiveRowSet(keyOfColumns(['id']));
  set.apply({ change_type: 'update', rows: [row(7, 'x', 1n)], old_values: [row(7, 'w', 0n)] });
  assert.deepEqual(bodies(set), ['7:x']);
});

test('limit keeps the newest rows', () => {
  const set = new LiveRowSet(keyOfColumns(['id']), 2);
  set.apply({ change_type: 'insert', rows: [row(1, 'a', 1n), row(2, 'b', 2n), row(3, 'c', 3n)] });
  set.apply({ change_type: 'insert', rows: [row(4, 'd', 4n)] });
  assert.deepEqual(bodies(set), ['3:c', '4:d']);
});

test('a replacing snapshot is swapped in whole; a resume snapshot upserts', () => {
  const set = new LiveRowSet(keyOfColumns(['id']));
  set.apply({ change_type: 'insert', rows: [row(1, 'a', 1n), row(2, 'b', 2n)] });
  set.beginSnapshot(true);
  set.addSnapshotRows([row(2, 'B', 5n)]);
  assert.deepEqual(bodies(set), ['1:a', '2:b'], 'the old set stays until the snapshot is complete');
  set.endSnapshot();
  assert.deepEqual(bodies(set), ['2:B'], 'row 1 was deleted while away');
  set.beginSnapshot(false);
  set.addSnapshotRows([row(3, 'c', 6n)]);
  set.endSnapshot();
  assert.deepEqual(bodies(set), ['2:B', '3:c']);
});

test('composite keys, and a key column that changes', () => {
  const set = new LiveRowSet(keyOfColumns(['room', 'n']));
  const r = (room, n, body) => wrapRowMap({ room, n, body });
  set.apply({ change_type: 'insert', rows: [r('x', 1, 'a'), r('y', 1, 'b')] });
  set.apply({ change_type: 'update', rows: [r('z', 1, 'a')], old_values: [r('x', 1, 'a')] });
  assert.deepEqual(set.values().map((v) => v.room.asString()), ['y', 'z']);
});

test('bigint keys past 2^53 stay distinct', () => {
  const set = new LiveRowSet(keyOfColumns(['id']));
  set.apply({ change_type: 'insert', rows: [row(9007199254740992n, 'a', 1n), row(9007199254740993n, 'b', 2n)] });
  assert.equal(set.size, 2);
});
