// The house rules of src/ (docs/architecture.md): a room (a folder with an index.ts under
// src/provisioning/ or src/simulator/) is entered only through its index.ts, and a room of the core
// never imports the pipeline above it, only the ground files beside it.
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.join(import.meta.dirname, 'src');
const HOUSES = ['provisioning', 'simulator'].map((name) => path.join(SRC, name));
/** Files at the top of src/provisioning/ that any room may import: they import no room. */
const GROUND = new Set(['errors', 'types', 'display-text', 'timing', 'fields', 'in-flight', 'folders']);

const roomOf = (file) => {
  for (const house of HOUSES) {
    const parts = path.relative(house, file).split(path.sep);
    if (parts.length > 1 && !parts[0].startsWith('..') && fs.existsSync(path.join(house, parts[0], 'index.ts'))) return path.join(house, parts[0]);
  }
  return undefined;
};

const doors = {
  meta: { type: 'problem', messages: { door: "Import the room's door '{{door}}', not its file '{{file}}'.", up: "A room of the core imports only ground files and other rooms' doors, not the pipeline's '{{file}}'." } },
  create(context) {
    const importer = context.filename;
    const importerRoom = roomOf(importer);
    const check = (node, specifier) => {
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const target = path.resolve(path.dirname(importer), specifier).replace(/\.(js|ts)$/, '');
      const targetRoom = roomOf(target + '.ts') ?? roomOf(path.join(target, 'index.ts'));
      if (targetRoom && targetRoom !== importerRoom && target !== targetRoom) {
        context.report({ node, messageId: 'door', data: { door: path.relative(path.dirname(importer), targetRoom) || '.', file: specifier } });
      }
      const core = HOUSES[0];
      if (!targetRoom && importerRoom?.startsWith(core + path.sep) && path.dirname(target) === core && !GROUND.has(path.basename(target))) {
        context.report({ node, messageId: 'up', data: { file: specifier } });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments[0]?.type === 'Literal') check(node, node.arguments[0].value);
      },
    };
  },
};

export default { rules: { doors } };
