'use strict';
const assert = require('node:assert/strict');
const { nextStartTurn } = require('../../nodes/provisioning/start-turns.js');

describe('device starts: one per turn of the event loop', () => {
  it('a burst of starts is spread over consecutive turns, first come first started', async () => {
    // Counts turns: an immediate scheduled from an immediate runs in the next turn.
    let turn = 0;
    let ticking = true;
    const tick = () => {
      turn += 1;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const started = [];
    await Promise.all([0, 1, 2, 3, 4].map((index) => nextStartTurn().then(() => started.push({ index, turn }))));
    ticking = false;
    assert.deepEqual(
      started.map((start) => start.index),
      [0, 1, 2, 3, 4],
    );
    const turns = started.map((start) => start.turn);
    assert.equal(new Set(turns).size, 5, `each start in its own turn: ${turns.join(', ')}`);
  });
});
