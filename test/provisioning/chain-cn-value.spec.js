'use strict';
const assert = require('node:assert/strict');
const { rfc4514Value, commonNameValueOfCertificate, deviceNameFromCn } = require('../../nodes/provisioning/chain');
const { tlv, oidDer } = require('../helpers/chain-pki');

const CN = '2.5.4.3';
const O = '2.5.4.10';
const utf8 = (text) => tlv(0x0c, Buffer.from(text, 'utf8'));
const attribute = (oid, value) => tlv(0x30, oidDer(oid), value);
const rdn = (...attributes) => tlv(0x31, ...attributes);
const name = (...rdns) => tlv(0x30, ...rdns);
const readOf = (subject) => commonNameValueOfCertificate(certificateWith(subject));
const cnOf = (value) => readOf(name(rdn(attribute(CN, value))));
/** Just enough of a certificate for the reader: [0] version, serial, algorithm, issuer, validity, subject. */
function certificateWith(subject) {
  const tbs = tlv(0x30, tlv(0xa0, tlv(0x02, Buffer.from([2]))), tlv(0x02, Buffer.from([1])), tlv(0x30), name(), tlv(0x30), subject);
  return tlv(0x30, tbs, tlv(0x30), tlv(0x03, Buffer.from([0])));
}

describe('chain: the CN as GridLinks reads it (BouncyCastle IETFUtils.valueToString, RFC 4514)', function () {
  // [CN as written, device-name source GridLinks reads]
  const table = [
    ['meter-7', 'meter-7'],
    ['meter,7', 'meter\\,7'],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['a+b', 'a\\+b'],
    ['zone=1', 'zone\\=1'],
    ['<tag>', '\\<tag\\>'],
    ['a;b', 'a\\;b'],
    ['#7', '\\#7'],
    ['#,7', '\\#\\,7'],
    ['a#b', 'a#b'],
    [' lead', '\\ lead'],
    ['trail ', 'trail\\ '],
    ['  both  ', '\\ \\ both\\ \\ '],
    ['   ', '\\ \\ \\ '],
    [' # ', '\\ #\\ '],
    ['in side', 'in side'],
    ['Zähler-Ω-電表', 'Zähler-Ω-電表'],
    ['\u00a0nbsp', '\u00a0nbsp'],
    ['', ''],
  ];
  for (const [written, read] of table) {
    it(`${JSON.stringify(written)} → ${JSON.stringify(read)}`, function () {
      assert.equal(rfc4514Value(written), read);
      assert.equal(cnOf(utf8(written)), read);
    });
  }

  it('multi-valued RDN: the first attribute as encoded, even when it is not the CN', function () {
    assert.equal(readOf(name(rdn(attribute(O, utf8('Acme,Inc')), attribute(CN, utf8('m-1'))))), 'Acme\\,Inc');
    assert.equal(readOf(name(rdn(attribute(CN, utf8('m-1')), attribute(O, utf8('Acme'))))), 'm-1');
  });

  it('the first RDN holding a CN; no CN at all: undefined', function () {
    assert.equal(readOf(name(rdn(attribute(O, utf8('Acme'))), rdn(attribute(CN, utf8('first'))), rdn(attribute(CN, utf8('second'))))), 'first');
    assert.equal(readOf(name(rdn(attribute(O, utf8('Acme'))))), undefined);
  });

  it('string types: BMPString as UTF-16, PrintableString/T61String one byte per character, UniversalString and non-strings as #hex', function () {
    assert.equal(cnOf(tlv(0x1e, Buffer.from('Zä,', 'utf16le').swap16())), 'Zä\\,');
    assert.equal(cnOf(tlv(0x13, Buffer.from('p 1 '))), 'p 1\\ ');
    assert.equal(cnOf(tlv(0x14, Buffer.from([0x6d, 0xe9]))), 'mé');
    assert.equal(cnOf(tlv(0x1c, Buffer.from([0, 0, 0, 0x41]))), '#1c0400000041');
    assert.equal(cnOf(tlv(0x02, Buffer.from([7]))), '#020107');
  });

  it('the name rule on that value: group(1), a random name for an empty or absent group 1, nothing without a match', function () {
    assert.deepEqual(deviceNameFromCn(rfc4514Value('acme-meter,7'), '^acme-(.*)$'), { kind: 'named', name: 'meter\\,7' });
    assert.deepEqual(deviceNameFromCn('acme-', '^acme-(.*)$'), { kind: 'random' });
    assert.deepEqual(deviceNameFromCn('acme-1', 'acme'), { kind: 'random' });
    assert.deepEqual(deviceNameFromCn('other', '^acme-(.*)$'), { kind: 'no-match' });
  });
});
