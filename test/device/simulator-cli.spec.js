'use strict';
// gridlinks-sim --control-stdin and --shared-attributes: RPCs and shared attributes from the command line.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startSimulatorCli, connectDevice, controlCommand } = require('../helpers/simulator');
const { tempDir } = require('../helpers/faults');
const { waitUntil } = require('../helpers/node-red');

describe('gridlinks-sim control commands on stdin', function () {
  let cli;
  let client;
  before(async function () {
    const dir = tempDir('sim-control');
    const profiles = path.join(dir, 'profiles.json');
    fs.writeFileSync(
      profiles,
      JSON.stringify({
        profiles: [{ name: 'p', provisionDeviceKey: 'k', provisionDeviceSecret: 's' }],
        devices: [{ name: 'cli meter', profile: 'p', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'cli-meter-token' }],
      }),
    );
    const shared = path.join(dir, 'shared.json');
    fs.writeFileSync(shared, JSON.stringify({ 'cli meter': { interval: 60 } }));
    cli = await startSimulatorCli(['--port', '0', '--tls-port', 'off', '--profiles', profiles, '--shared-attributes', shared, '--control-stdin'], {
      stdin: true,
    });
    ({ client } = await connectDevice(cli.sim, { username: 'cli-meter-token' }));
  });
  after(async function () {
    if (client) await new Promise((resolve) => client.end(true, {}, resolve));
    if (cli) await cli.stop();
  });

  const command = (line) => controlCommand(cli, line);

  it('answers attribute requests with the --shared-attributes values; rpc sends an RPC and prints the answer', async function () {
    await new Promise((resolve) => client.subscribe(['v1/devices/me/rpc/request/+', 'v1/devices/me/attributes/response/+'], { qos: 1 }, resolve));
    const messages = [];
    client.on('message', (topic, payload) => {
      messages.push({ topic, payload: JSON.parse(payload.toString()) });
      if (topic.startsWith('v1/devices/me/rpc/request/')) client.publish(topic.replace('request', 'response'), JSON.stringify({ rebooting: true }), { qos: 1 });
    });
    client.publish('v1/devices/me/attributes/request/1', JSON.stringify({ sharedKeys: 'interval' }), { qos: 1 });
    await waitUntil(() => messages.length === 1);
    assert.deepEqual(messages[0], { topic: 'v1/devices/me/attributes/response/1', payload: { shared: { interval: 60 } } });

    const reply = await command('rpc "cli meter" reboot {"delay": 5}');
    assert.deepEqual(reply.result, { device: 'cli meter', method: 'reboot', answer: { rebooting: true } });
    assert.deepEqual(messages[1].payload, { method: 'reboot', params: { delay: 5 } });
  });

  it('devices, published, shared and bad commands answer on stdout', async function () {
    assert.deepEqual((await command('devices')).result, { connected: ['cli meter'] });
    await new Promise((resolve) => client.publish('v1/devices/me/telemetry', JSON.stringify({ t: 1 }), { qos: 1 }, resolve));
    const published = await command('published "cli meter"');
    assert.deepEqual(
      published.result.published.map((r) => r.payload),
      [{ t: 1 }],
    );
    assert.deepEqual((await command('shared "cli meter" {"mode": "eco"}')).result, { device: 'cli meter', sessions: 0 });
    assert.match((await command('reboot-all')).error, /unknown command/);
    assert.match((await command('rpc nobody m')).error, /no session subscribed/);
  });
});
