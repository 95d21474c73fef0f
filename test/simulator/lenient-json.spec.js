'use strict';
/** The simulator's reader for Gson's lenient JSON (what GridLinks' JsonParser.parseString accepts). */
const assert = require('node:assert/strict');
const { parseLenientObject } = require('../../nodes/simulator/provisioning/lenient-json');

const plain = (value) => JSON.parse(JSON.stringify(value));

describe('simulator: lenient JSON reader (Gson leniency)', function () {
  it('reads unquoted and single-quoted names and strings, comments, = and =>, ; between members', function () {
    const text = `# leading comment
      { deviceName: 'pump 7', "token" => abc-123; /* block */ gateway = true, // line
        nested: {a: [1; 'two', null]}, escaped: 'it\\'s \\u0041\\n' }`;
    assert.deepEqual(plain(parseLenientObject(text)), {
      deviceName: 'pump 7',
      token: 'abc-123',
      gateway: true,
      nested: { a: ['1', 'two', null] },
      escaped: "it's A\n",
    });
  });

  it('keeps unquoted numbers as their text (as Gson does) and an empty object', function () {
    assert.deepEqual(plain(parseLenientObject('{n: 1e3, m: -0.50}')), { n: '1e3', m: '-0.50' });
    assert.deepEqual(plain(parseLenientObject(' {} ')), {});
  });

  it('names like __proto__ are plain members', function () {
    const parsed = parseLenientObject("{__proto__: 'x', constructor: y}");
    assert.equal(parsed.__proto__, 'x');
    assert.equal(Object.getPrototypeOf(parsed), null);
  });

  for (const [what, text] of [
    ['a top-level value that is not an object', "'just a string'"],
    ['data after the object', '{a: 1} {b: 2}'],
    ['a missing value', '{deviceName: }'],
    ['an unterminated string', "{a: 'abc"],
    ['an unterminated comment', '{a: 1 /* '],
    ['a bad \\u escape', "{a: '\\u12'}"],
    ['an unknown escape', "{a: '\\q'}"],
    ['a missing separator', '{a: 1 b: 2}'],
  ]) {
    it(`refuses ${what}`, function () {
      assert.throws(() => parseLenientObject(text), SyntaxError);
    });
  }
});
