'use strict';
// What a closing provision node says about outcomes it sent a moment before the close: Node-RED
// delivers a sent message on a later turn, and a close in between drops it, so they are named too.
const assert = require('node:assert/strict');
const { ClosingReport } = require('../../nodes/node-red/close-drain');
const { ProvisionError } = require('../../nodes/provisioning');

function reportWithWarnings() {
  const warned = [];
  return { report: new ClosingReport((text) => warned.push(text)), warned };
}

describe('ClosingReport: outcomes sent just before a close', function () {
  it('names a result sent just before the close, with where its credentials are; nothing while running', function () {
    const { report, warned } = reportWithWarnings();
    report.result({ deviceName: 'just-sent', stored: { dir: '/store/just-sent', files: {} } });
    report.result({ deviceName: 'no-store' });
    assert.deepEqual(warned, []);
    report.startClosing();
    assert.equal(warned.length, 2);
    assert.match(warned[0], /"just-sent" was provisioned just before the node stopped .*saved at \/store\/just-sent/);
    assert.match(warned[1], /"no-store" .*exist only in that message \(no store folder\)/);
  });

  it('names a failure sent to Catch just before the close only when its request had gone out', function () {
    const { report, warned } = reportWithWarnings();
    report.failure('sent', new ProvisionError('OUTCOME_UNKNOWN', 'lost', { requestSent: true, pendingPath: '/store/.pending/sent.json' }));
    report.failure('not-sent', new ProvisionError('TIMEOUT', 'no connection', { requestSent: false }));
    report.startClosing();
    assert.equal(warned.length, 1);
    assert.match(warned[0], /"sent": OUTCOME_UNKNOWN just before the node stopped .*\/store\/\.pending\/sent\.json/);
  });

  it('keeps a result until the turn that delivers it has passed, then forgets it', async function () {
    const { report, warned } = reportWithWarnings();
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    report.result({ deviceName: 'in-delivery' });
    // Node-RED queues the delivery in send(), right after the report: a close on that turn still names it.
    setImmediate(() => report.startClosing());
    await nextTurn();
    assert.equal(warned.length, 1);

    const later = reportWithWarnings();
    later.report.result({ deviceName: 'delivered' });
    await nextTurn();
    await nextTurn();
    later.report.startClosing();
    assert.deepEqual(later.warned, []);
  });

  it('does not name a result from the store (nothing new was created)', function () {
    const { report, warned } = reportWithWarnings();
    report.result({ deviceName: 'reused', fromStore: true, stored: { dir: '/store/reused', files: {} } });
    report.startClosing();
    assert.deepEqual(warned, []);
  });
});
