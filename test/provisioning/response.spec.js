'use strict';
const assert = require('node:assert/strict');
const { acceptAnswer } = require('../../nodes/provisioning/mqtt');
const { generateDeviceCertificate, trimCertificate, certificateCredentialsId } = require('../../nodes/provisioning');

const answer = (object) => Buffer.from(typeof object === 'string' ? object : JSON.stringify(object));

function throwsCode(fn, code) {
  let caught;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught, `expected ${code}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

describe('provisioning/acceptAnswer', () => {
  let cert;
  before(async () => {
    cert = await generateDeviceCertificate({ commonName: 'r', validityDays: 1, keyAlgorithm: 'p256' });
  });

  it('ACCESS_TOKEN and MQTT_BASIC success (empty basic fields dropped)', () => {
    const token = acceptAnswer(answer({ credentialsValue: 'tok', credentialsType: 'ACCESS_TOKEN', status: 'SUCCESS' }), { requested: 'ACCESS_TOKEN' });
    assert.deepEqual(token, { credentialsType: 'ACCESS_TOKEN', credentials: { accessToken: 'tok' }, warnings: [] });
    const basic = acceptAnswer(answer({ credentialsValue: { clientId: '', userName: 'u', password: 'p' }, credentialsType: 'MQTT_BASIC', status: 'SUCCESS' }), {
      requested: 'MQTT_BASIC',
    });
    assert.deepEqual(basic.credentials, { userName: 'u', password: 'p' });
  });

  it('X.509 success when the echo equals the sent certificate trimmed', () => {
    const accepted = acceptAnswer(answer({ credentialsValue: trimCertificate(cert.certificate), credentialsType: 'X509_CERTIFICATE', status: 'SUCCESS' }), {
      requested: 'X509_CERTIFICATE',
      certificate: cert.certificate,
      privateKey: cert.privateKey,
    });
    assert.deepEqual(accepted.credentials, {
      certificate: cert.certificate,
      privateKey: cert.privateKey,
      credentialsId: certificateCredentialsId(cert.certificate),
    });
  });

  it('accepts provisionDeviceStatus as an alias of status', () => {
    const accepted = acceptAnswer(answer({ credentialsValue: 'tok', credentialsType: 'ACCESS_TOKEN', provisionDeviceStatus: 'SUCCESS' }), {
      requested: 'ACCESS_TOKEN',
    });
    assert.equal(accepted.credentials.accessToken, 'tok');
  });

  it('NOT_FOUND and FAILURE carry the server message and advice', () => {
    const notFound = throwsCode(
      () => acceptAnswer(answer({ errorMsg: 'Provision data was not found!', status: 'NOT_FOUND' }), { requested: 'ACCESS_TOKEN' }),
      'NOT_FOUND',
    );
    assert.equal(notFound.details.serverMessage, 'Provision data was not found!');
    assert.match(notFound.message, /key and secret/);
    const failure = throwsCode(
      () => acceptAnswer(answer({ errorMsg: 'Failed to provision device!', status: 'FAILURE' }), { requested: 'ACCESS_TOKEN' }),
      'FAILURE',
    );
    assert.equal(failure.details.serverMessage, 'Failed to provision device!');
    assert.match(failure.message, /already exists/);
  });

  it('BAD_RESPONSE: not JSON, not an object, no status, unknown status, SUCCESS without usable credentials', () => {
    const ctx = { requested: 'ACCESS_TOKEN' };
    throwsCode(() => acceptAnswer(answer('{bad'), ctx), 'BAD_RESPONSE');
    throwsCode(() => acceptAnswer(answer('[1]'), ctx), 'BAD_RESPONSE');
    throwsCode(() => acceptAnswer(answer({ credentialsType: 'ACCESS_TOKEN' }), ctx), 'BAD_RESPONSE');
    throwsCode(() => acceptAnswer(answer({ status: 'MAYBE' }), ctx), 'BAD_RESPONSE');
    throwsCode(() => acceptAnswer(answer({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN' }), ctx), 'BAD_RESPONSE');
    throwsCode(() => acceptAnswer(answer({ status: 'SUCCESS', credentialsType: 'MQTT_BASIC', credentialsValue: { password: 'p' } }), ctx), 'BAD_RESPONSE');
    throwsCode(() => acceptAnswer(answer({ status: 'SUCCESS', credentialsType: 'LWM2M_CREDENTIALS' }), ctx), 'BAD_RESPONSE');
    // Objects whose own toString is not a function (found by fuzzing) must not escape as a TypeError.
    throwsCode(() => acceptAnswer(answer('{"status":{"toString":0}}'), ctx), 'BAD_RESPONSE');
    throwsCode(() => acceptAnswer(answer('{"provisionDeviceStatus":"SUCCESS","credentialsType":{"toString":0}}'), ctx), 'BAD_RESPONSE');
    const secretLeak = throwsCode(
      () => acceptAnswer(answer({ status: 'SUCCESS', credentialsType: 'MQTT_BASIC', credentialsValue: 'sekrit' }), ctx),
      'BAD_RESPONSE',
    );
    assert.ok(!secretLeak.message.includes('sekrit'));
  });

  it('fallback to ACCESS_TOKEN when X.509 was asked: the token is the result, with a warning', () => {
    const accepted = acceptAnswer(answer({ credentialsValue: 'tok', credentialsType: 'ACCESS_TOKEN', status: 'SUCCESS' }), {
      requested: 'X509_CERTIFICATE',
      certificate: cert.certificate,
    });
    assert.equal(accepted.credentialsType, 'ACCESS_TOKEN');
    assert.equal(accepted.warnings.length, 1);
    assert.match(accepted.warnings[0], /returned ACCESS_TOKEN/);
  });

  it('CREDENTIAL_MISMATCH: another certificate echoed, or X.509 returned when none was sent', () => {
    throwsCode(
      () =>
        acceptAnswer(answer({ credentialsValue: 'MIIBother', credentialsType: 'X509_CERTIFICATE', status: 'SUCCESS' }), {
          requested: 'X509_CERTIFICATE',
          certificate: cert.certificate,
        }),
      'CREDENTIAL_MISMATCH',
    );
    throwsCode(
      () =>
        acceptAnswer(answer({ credentialsValue: 'MIIBother', credentialsType: 'X509_CERTIFICATE', status: 'SUCCESS' }), {
          requested: 'ACCESS_TOKEN',
        }),
      'CREDENTIAL_MISMATCH',
    );
  });
});
