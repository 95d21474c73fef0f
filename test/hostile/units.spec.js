'use strict';
// The two small pieces the hostile-server behaviour rests on: the packet size guard (whatever the chunking)
// and the display text of server-chosen strings.
const assert = require('node:assert/strict');
const fc = require('fast-check');
const mqttPacket = require('mqtt-packet');
const { PacketSizeGuard } = require('../../nodes/provisioning/net');
const { displayText, terminalSafeJson } = require('../../nodes/provisioning/display-text');

function publish(payloadBytes) {
  return mqttPacket.generate({ cmd: 'publish', topic: 't', qos: 0, retain: false, dup: false, payload: Buffer.alloc(payloadBytes) });
}

describe('PacketSizeGuard', () => {
  it('finds the first packet over the limit from its header, however the bytes are split into chunks', () => {
    const sizes = fc.array(fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 16_000, max: 20_000 })), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(sizes, fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }), (payloads, cuts) => {
        const packets = payloads.map(publish);
        const limit = 16_384;
        const firstOver = packets.find((packet) => packet.length > limit);
        const bytes = Buffer.concat([...packets, mqttPacket.generate({ cmd: 'pingresp' })]);
        const guard = new PacketSizeGuard(limit);
        let found;
        let offset = 0;
        for (let index = 0; offset < bytes.length && found === undefined; index++) {
          const end = Math.min(bytes.length, offset + cuts[index % cuts.length]);
          found = guard.check(bytes.subarray(offset, end));
          offset = end;
        }
        assert.equal(found, firstOver?.length);
      }),
      { numRuns: 300 },
    );
  });

  it('a header alone is enough: 200 MB announced in 5 bytes', () => {
    assert.equal(new PacketSizeGuard(65536).check(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x64])), 5 + 0x64 * 128 ** 3);
  });
});

describe('displayText', () => {
  it('escapes C0, DEL, C1 and bidi controls, and keeps ordinary text (also non-Latin) as it is', () => {
    assert.equal(displayText('a\u001b[2Jb\u0007\r\n\u007f\u009b\u202e\u2066z'), 'a\\x1b[2Jb\\x07\\x0d\\x0a\\x7f\\x9b\\u202e\\u2066z');
    assert.equal(displayText('设备-7 ünïcode 🙂'), '设备-7 ünïcode 🙂');
  });

  it('shortens long text with its full length, never splitting a surrogate pair', () => {
    assert.equal(displayText('x'.repeat(600)), `${'x'.repeat(512)}… (600 characters in all)`);
    assert.equal(displayText(`${'x'.repeat(9)}🙂🙂`, 10), `${'x'.repeat(9)}… (13 characters in all)`);
  });

  it('terminalSafeJson: the same values once parsed, nothing raw a terminal acts on', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const json = terminalSafeJson(JSON.stringify({ text }));
        assert.equal(JSON.parse(json).text, text);
        // eslint-disable-next-line no-control-regex -- exactly the characters that must never appear raw
        assert.doesNotMatch(json, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      }),
    );
  });
});
