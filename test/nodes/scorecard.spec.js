'use strict';
/**
 * The Flow Library scorecard rules (node-red-dev validate, conventions §2.8) that can be checked offline:
 * P01 P03 P04 P05 P06 P07, N02, D01, and literal registerType calls in each editor HTML file, parsed the
 * way the scorecard's checknodes.js does (acorn over the text/javascript script blocks).
 */
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const acorn = require('acorn');
const walk = require('acorn-walk');
const semver = require('semver');

const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const LATEST_NODE_RED = '5.0.7';
const LATEST_NODE_RED_MIN_NODE = '22.9.0';

/** registerType calls in the `<script type="text/javascript">` blocks of an editor HTML file. */
function registerTypeCalls(htmlFile) {
  const html = fs.readFileSync(htmlFile, 'utf8');
  const blocks = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  const calls = [];
  for (const block of blocks) {
    const ast = acorn.parse(block, { ecmaVersion: 'latest' });
    walk.simple(ast, {
      CallExpression(node) {
        const callee = node.callee;
        if (callee.type === 'MemberExpression' && callee.property.name === 'registerType') calls.push(node);
      },
    });
  }
  return calls;
}

function property(objectExpression, name) {
  return objectExpression.properties.find((p) => p.key && (p.key.name === name || p.key.value === name));
}

function literalValue(objectExpression, name) {
  const prop = property(objectExpression, name);
  return prop && prop.value.type === 'Literal' ? prop.value.value : undefined;
}

function editorDefinitions() {
  const definitions = [];
  for (const jsFile of Object.values(pkg['node-red'].nodes)) {
    const htmlFile = path.join(ROOT, jsFile.replace(/\.js$/, '.html'));
    for (const call of registerTypeCalls(htmlFile)) definitions.push({ htmlFile, call });
  }
  return definitions;
}

describe('Flow Library scorecard', function () {
  it('P01 license', function () {
    assert.ok(pkg.license || fs.existsSync(path.join(ROOT, 'LICENSE')));
  });

  it('P03 repository or bugs', function () {
    assert.ok(pkg.repository || pkg.bugs);
  });

  it('P04 scoped package name', function () {
    assert.match(pkg.name, /^@[a-z0-9-]+\/[a-z0-9-]+$/);
  });

  it('P05 keyword node-red', function () {
    assert.ok(pkg.keywords.includes('node-red'));
  });

  it(`P06 node-red.version admits Node-RED ${LATEST_NODE_RED}`, function () {
    assert.ok(semver.satisfies(LATEST_NODE_RED, pkg['node-red'].version), pkg['node-red'].version);
  });

  it(`P07 engines.node admits Node.js ${LATEST_NODE_RED_MIN_NODE}`, function () {
    assert.ok(semver.satisfies(LATEST_NODE_RED_MIN_NODE, pkg.engines.node), pkg.engines.node);
  });

  it('D01 at most 6 runtime dependencies', function () {
    assert.ok(Object.keys(pkg.dependencies || {}).length <= 6, Object.keys(pkg.dependencies).join(', '));
  });

  it('each node file has its editor HTML beside it, with literal registerType calls and inline definitions', function () {
    const nodes = Object.entries(pkg['node-red'].nodes);
    assert.ok(nodes.length >= 2);
    for (const [, jsFile] of nodes) {
      assert.ok(fs.existsSync(path.join(ROOT, jsFile.replace(/\.js$/, '.html'))), jsFile);
    }
    const definitions = editorDefinitions();
    assert.deepEqual(definitions.map((d) => d.call.arguments[0].value).sort(), [
      'gridlinks-device',
      'gridlinks-gateway',
      'gridlinks-provision',
      'gridlinks-server',
    ]);
    for (const { htmlFile, call } of definitions) {
      const [type, definition] = call.arguments;
      const where = `${path.basename(htmlFile)} ${type.value}`;
      assert.equal(type.type, 'Literal', where);
      assert.equal(definition.type, 'ObjectExpression', where);
      assert.equal(typeof literalValue(definition, 'category'), 'string', `${where}: category`);
      assert.equal(property(definition, 'defaults').value.type, 'ObjectExpression', `${where}: defaults`);
      const credentials = property(definition, 'credentials');
      if (credentials) assert.equal(credentials.value.type, 'ObjectExpression', `${where}: credentials`);
      for (const entry of property(definition, 'defaults').value.properties) {
        assert.ok(property(entry.value, 'validate') || property(entry.value, 'type'), `${where}: ${entry.key.name} has no validate`);
      }
      if (literalValue(definition, 'category') !== 'config') {
        assert.equal(literalValue(definition, 'category'), 'GridLinks', `${where}: own palette category`);
        for (const name of ['color', 'icon', 'inputs', 'outputs']) {
          assert.notEqual(literalValue(definition, name), undefined, `${where}: literal ${name}`);
        }
        assert.ok(fs.existsSync(path.join(ROOT, 'icons', literalValue(definition, 'icon'))), `${where}: icon file`);
      }
    }
  });

  it('N02 every non-config node type appears in an example (each example a JSON array)', function () {
    const exampleFiles = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.json'));
    const usedTypes = new Set();
    for (const file of exampleFiles) {
      const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8'));
      assert.ok(Array.isArray(flow), file);
      flow.forEach((node) => usedTypes.add(node.type));
    }
    const nodeTypes = editorDefinitions()
      .filter(({ call }) => literalValue(call.arguments[1], 'category') !== 'config')
      .map(({ call }) => call.arguments[0].value);
    assert.ok(nodeTypes.length > 0);
    for (const type of nodeTypes) assert.ok(usedTypes.has(type), `${type} is in no example`);
  });
});
